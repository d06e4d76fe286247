// Package mail hands messages to the outgoing SMTP server. The domains
// that mail (helpdesk notifications, the ENT's timeline) build their own
// messages and keep their own outboxes; this is the one SMTP exchange.
package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/smtp"
	"strconv"
	"time"
)

// Config is the outgoing SMTP server.
type Config struct {
	Host     string
	Port     int
	From     string
	Username string
	Password string
	// StartTLS requires STARTTLS before authenticating or sending.
	StartTLS bool
}

// ErrDisabled is returned when no SMTP server is configured: the caller
// records the message as not sent.
var ErrDisabled = errors.New("outgoing mail disabled (no SMTP host)")

// Send delivers one message to one recipient. timeout bounds the whole
// exchange, so a stuck server never holds a worker forever. Credentials
// are only sent over TLS or to localhost (net/smtp's PlainAuth).
func Send(ctx context.Context, cfg Config, from, to string, msg []byte, timeout time.Duration) error {
	if cfg.Host == "" {
		return ErrDisabled
	}
	port := cfg.Port
	if port == 0 {
		port = 25
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	d := net.Dialer{}
	conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(cfg.Host, strconv.Itoa(port)))
	if err != nil {
		return fmt.Errorf("smtp dial: %w", err)
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	c, err := smtp.NewClient(conn, cfg.Host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("smtp greeting: %w", err)
	}
	defer c.Close()
	if cfg.StartTLS {
		if err := c.StartTLS(&tls.Config{ServerName: cfg.Host, MinVersion: tls.VersionTLS12}); err != nil {
			return fmt.Errorf("smtp starttls: %w", err)
		}
	}
	if cfg.Username != "" {
		if err := c.Auth(smtp.PlainAuth("", cfg.Username, cfg.Password, cfg.Host)); err != nil {
			return fmt.Errorf("smtp auth: %w", err)
		}
	}
	if err := c.Mail(from); err != nil {
		return fmt.Errorf("smtp mail from: %w", err)
	}
	if err := c.Rcpt(to); err != nil {
		return fmt.Errorf("smtp rcpt: %w", err)
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("smtp data: %w", err)
	}
	if _, err := w.Write(msg); err != nil {
		return fmt.Errorf("smtp write: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("smtp end of data: %w", err)
	}
	return c.Quit()
}
