// Package app wires Socle together: configuration, the database, the
// stores and services of each domain, and the routes. It holds no rules.
package app

import (
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"

	"socle/internal/ent/space"
	"socle/internal/ent/sso"
	"socle/internal/helpdesk"
)

// Config is built once in main and passed down; nothing reads the
// environment after that.
type Config struct {
	Addr          string
	DataDir       string
	DatabaseURL   string
	Demo          bool
	SecureCookies bool
	LogLevel      slog.Level
	LogFormat     string
	// Mail sends notifications; MailListen receives replies and new
	// tickets by SMTP; PublicURL is the address put in e-mailed links.
	Mail       helpdesk.MailConfig
	MailListen string
	PublicURL  string
	// AgentUser and AgentPassword, when set, require HTTP Basic
	// authentication of inventory agents.
	AgentUser     string
	AgentPassword string
	// S3, when its endpoint is set, stores the files of the spaces in an
	// S3-compatible bucket instead of the data directory.
	S3 space.S3Config
	// Delegation, when its issuer is set, offers login through an external
	// OpenID Connect provider (ÉduConnect).
	Delegation sso.Delegation
}

// Version is set at build time (-ldflags "-X socle/internal/app.Version=...").
var Version = "dev"

// BindCommon declares the flags every subcommand shares (where the data
// is), with environment fallbacks.
func (c *Config) BindCommon(fs *flag.FlagSet) {
	fs.StringVar(&c.DataDir, "data", envOr("SOCLE_DATA", "./data"), "directory of the embedded database and files (env SOCLE_DATA)")
	fs.StringVar(&c.DatabaseURL, "database", os.Getenv("SOCLE_DATABASE_URL"), "PostgreSQL URL postgres://...; empty for the embedded SQLite in --data (env SOCLE_DATABASE_URL)")
	fs.Func("log-level", "debug, info, warn or error (env SOCLE_LOG_LEVEL)", func(s string) error { return c.LogLevel.UnmarshalText([]byte(s)) })
	fs.StringVar(&c.LogFormat, "log-format", envOr("SOCLE_LOG_FORMAT", "text"), "text or json (env SOCLE_LOG_FORMAT)")
	fs.StringVar(&c.S3.Endpoint, "s3-endpoint", os.Getenv("SOCLE_S3_ENDPOINT"), "S3-compatible storage for the files of the spaces, e.g. https://s3.example.fr; empty: files in --data (env SOCLE_S3_ENDPOINT)")
	fs.StringVar(&c.S3.Bucket, "s3-bucket", os.Getenv("SOCLE_S3_BUCKET"), "S3 bucket, created beforehand (env SOCLE_S3_BUCKET)")
	fs.StringVar(&c.S3.Region, "s3-region", envOr("SOCLE_S3_REGION", "us-east-1"), "S3 region (env SOCLE_S3_REGION)")
	fs.StringVar(&c.S3.AccessKey, "s3-access-key", os.Getenv("SOCLE_S3_ACCESS_KEY"), "S3 access key (env SOCLE_S3_ACCESS_KEY)")
	fs.StringVar(&c.S3.Prefix, "s3-prefix", envOr("SOCLE_S3_PREFIX", "space/"), "prefix of the objects in the bucket (env SOCLE_S3_PREFIX)")
	// The S3 secret comes from the environment only: a flag shows in ps.
	c.S3.SecretKey = os.Getenv("SOCLE_S3_SECRET_KEY")
	if v := os.Getenv("SOCLE_LOG_LEVEL"); v != "" {
		_ = c.LogLevel.UnmarshalText([]byte(v))
	}
}

// BindServe declares the flags of serve.
func (c *Config) BindServe(fs *flag.FlagSet) {
	c.BindCommon(fs)
	fs.StringVar(&c.Addr, "addr", envOr("SOCLE_ADDR", "127.0.0.1:8080"), "listen address (env SOCLE_ADDR)")
	fs.BoolVar(&c.Demo, "demo", envBool("SOCLE_DEMO"), "create a demo territory and demo accounts when the database is empty (env SOCLE_DEMO)")
	fs.BoolVar(&c.SecureCookies, "secure-cookies", envBool("SOCLE_SECURE_COOKIES"), "mark cookies Secure (when served over HTTPS, directly or behind a proxy) (env SOCLE_SECURE_COOKIES)")
	fs.StringVar(&c.Mail.Host, "smtp-host", os.Getenv("SOCLE_SMTP_HOST"), "outgoing SMTP server; empty: notifications are recorded, not sent (env SOCLE_SMTP_HOST)")
	fs.IntVar(&c.Mail.Port, "smtp-port", envInt("SOCLE_SMTP_PORT", 587), "outgoing SMTP port (env SOCLE_SMTP_PORT)")
	fs.StringVar(&c.Mail.From, "smtp-from", envOr("SOCLE_SMTP_FROM", "Assistance <assistance@localhost>"), "sender of notifications (env SOCLE_SMTP_FROM)")
	fs.StringVar(&c.Mail.Username, "smtp-username", os.Getenv("SOCLE_SMTP_USERNAME"), "SMTP login (env SOCLE_SMTP_USERNAME)")
	// The password comes from the environment only: a flag shows in ps.
	c.Mail.Password = os.Getenv("SOCLE_SMTP_PASSWORD")
	fs.BoolVar(&c.Mail.StartTLS, "smtp-starttls", !envFalse("SOCLE_SMTP_STARTTLS"), "require STARTTLS on the outgoing SMTP server (env SOCLE_SMTP_STARTTLS)")
	fs.StringVar(&c.MailListen, "mail-listen", os.Getenv("SOCLE_MAIL_LISTEN"), "incoming SMTP listen address, e.g. :2525; empty: no mail-in (env SOCLE_MAIL_LISTEN)")
	fs.StringVar(&c.AgentUser, "agent-user", os.Getenv("SOCLE_AGENT_USER"), "user inventory agents must give (HTTP Basic); empty: agents are not authenticated (env SOCLE_AGENT_USER)")
	// The agents' password comes from the environment only, like SMTP's.
	c.AgentPassword = os.Getenv("SOCLE_AGENT_PASSWORD")
	fs.StringVar(&c.Delegation.Issuer, "educonnect-issuer", os.Getenv("SOCLE_EDUCONNECT_ISSUER"), "issuer URL of the external OpenID Connect provider login can be delegated to (ÉduConnect); empty: none (env SOCLE_EDUCONNECT_ISSUER)")
	fs.StringVar(&c.Delegation.ClientID, "educonnect-client-id", os.Getenv("SOCLE_EDUCONNECT_CLIENT_ID"), "client id of Socle at that provider; its redirect URI is PUBLIC_URL/connexion/externe/retour (env SOCLE_EDUCONNECT_CLIENT_ID)")
	fs.StringVar(&c.Delegation.Label, "educonnect-label", envOr("SOCLE_EDUCONNECT_LABEL", "ÉduConnect"), "name of the provider shown to people (env SOCLE_EDUCONNECT_LABEL)")
	fs.BoolVar(&c.Delegation.LinkByEmail, "educonnect-link-by-email", !envFalse("SOCLE_EDUCONNECT_LINK_BY_EMAIL"), "on a first login, link the identity to the adult account with the same verified e-mail; pupils always need an administrator's link (env SOCLE_EDUCONNECT_LINK_BY_EMAIL)")
	// The client secret comes from the environment only, like SMTP's.
	c.Delegation.ClientSecret = os.Getenv("SOCLE_EDUCONNECT_CLIENT_SECRET")
	fs.StringVar(&c.PublicURL, "public-url", envOr("SOCLE_PUBLIC_URL", ""), "public address for links in e-mails, e.g. https://socle.example.fr (env SOCLE_PUBLIC_URL; default: http://ADDR)")
}

// Logger builds the process logger.
func (c *Config) Logger() *slog.Logger {
	opts := &slog.HandlerOptions{Level: c.LogLevel}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}

// Engine names the database for messages.
func (c *Config) Engine() string {
	if strings.HasPrefix(c.DatabaseURL, "postgres") {
		return "PostgreSQL"
	}
	return fmt.Sprintf("SQLite (%s)", c.DataDir)
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

func envInt(key string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(key)); err == nil {
		return n
	}
	return def
}

func envFalse(key string) bool {
	switch strings.ToLower(os.Getenv(key)) {
	case "0", "false", "no", "non", "off":
		return true
	}
	return false
}

func envBool(key string) bool {
	switch strings.ToLower(os.Getenv(key)) {
	case "1", "true", "yes", "oui", "on":
		return true
	}
	return false
}
