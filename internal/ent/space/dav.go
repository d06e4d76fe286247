package space

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/webdav"

	"socle/internal/platform/auth"
	"socle/internal/platform/problem"
	"socle/internal/platform/web"
)

// BasicCacheTTL is how long a successful Basic authentication is trusted
// without checking the password again: WebDAV clients send the credentials
// on every request, and an argon2id check costs tens of milliseconds.
const BasicCacheTTL = 2 * time.Minute

// maxCached bounds the credential cache.
const maxCached = 10000

// DAV serves the caller's space over WebDAV, authenticated with HTTP Basic
// (account password, or an API token as the password). It ignores session
// cookies on purpose: mount it outside the session/CSRF middleware.
type DAV struct {
	svc    *Service
	auth   *auth.Service
	prefix string
	log    *slog.Logger

	mu    sync.Mutex
	locks map[int64]*memLocks // per space: lock names are paths inside a space
	// cache maps an HMAC of the credentials (keyed by a per-process secret,
	// so the map alone allows no offline guessing) to the account.
	cache  map[[32]byte]cached
	secret []byte
	now    func() time.Time
}

type cached struct {
	userID  int64
	expires time.Time
}

// NewDAV builds the WebDAV handler for requests under prefix ("/dav").
// Locks are kept in memory (memLocks, exclusive and shared): enough for one
// process; with several processes behind a load balancer, route /dav/ to
// one of them (sticky sessions) or persist the locks.
func NewDAV(svc *Service, authSvc *auth.Service, prefix string, log *slog.Logger) *DAV {
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	return &DAV{svc: svc, auth: authSvc, prefix: strings.TrimSuffix(prefix, "/"), log: log,
		locks: map[int64]*memLocks{}, cache: map[[32]byte]cached{}, secret: secret, now: time.Now}
}

func (d *DAV) lockSystem(spaceID int64) *memLocks {
	d.mu.Lock()
	defer d.mu.Unlock()
	ls, ok := d.locks[spaceID]
	if !ok {
		ls = newMemLocks()
		d.locks[spaceID] = ls
	}
	return ls
}

func (d *DAV) challenge(w http.ResponseWriter, status int, msg string) {
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="Socle", charset="UTF-8"`)
	}
	if status == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", "300")
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(msg + "\n"))
}

// authenticate returns the caller, or writes the refusal and returns nil.
func (d *DAV) authenticate(w http.ResponseWriter, r *http.Request) *auth.Principal {
	user, pass, ok := r.BasicAuth()
	if !ok || user == "" || pass == "" {
		d.challenge(w, http.StatusUnauthorized, "Authentification requise : adresse électronique et mot de passe.")
		return nil
	}
	ctx := r.Context()
	mac := hmac.New(sha256.New, d.secret)
	mac.Write([]byte(user))
	mac.Write([]byte{0})
	mac.Write([]byte(pass))
	var key [32]byte
	copy(key[:], mac.Sum(nil))
	now := d.now()
	d.mu.Lock()
	c, hit := d.cache[key]
	d.mu.Unlock()
	var uid int64
	if hit && now.Before(c.expires) {
		uid = c.userID
	} else if strings.HasPrefix(pass, auth.TokenPrefix) {
		p, err := d.auth.TokenPrincipal(ctx, pass)
		if err != nil {
			d.log.ErrorContext(ctx, "webdav token check", "err", err)
			d.challenge(w, http.StatusInternalServerError, "Erreur interne.")
			return nil
		}
		if p == nil || !strings.EqualFold(strings.TrimSpace(user), p.User.Email) {
			d.challenge(w, http.StatusUnauthorized, "Jeton ou adresse incorrects.")
			return nil
		}
		uid = p.User.ID
	} else {
		u, err := d.auth.Login(ctx, user, pass, web.ClientIP(r))
		if err != nil {
			if p, ok := problem.As(err); ok && p.Status < 500 {
				d.challenge(w, p.Status, p.Message)
				return nil
			}
			d.log.ErrorContext(ctx, "webdav login", "err", err)
			d.challenge(w, http.StatusInternalServerError, "Erreur interne.")
			return nil
		}
		uid = u.ID
	}
	if !hit || !now.Before(c.expires) {
		d.mu.Lock()
		if len(d.cache) >= maxCached {
			for k, v := range d.cache {
				if !now.Before(v.expires) {
					delete(d.cache, k)
				}
			}
			if len(d.cache) >= maxCached {
				clear(d.cache)
			}
		}
		d.cache[key] = cached{userID: uid, expires: now.Add(BasicCacheTTL)}
		d.mu.Unlock()
	}
	// The principal is loaded on every request, so that a disabled account
	// or a changed role takes effect at once.
	p, err := d.auth.Principal(ctx, uid)
	if err != nil || p.User.Disabled {
		d.mu.Lock()
		delete(d.cache, key)
		d.mu.Unlock()
		d.challenge(w, http.StatusUnauthorized, "Compte indisponible.")
		return nil
	}
	return p
}

// ServeHTTP implements http.Handler.
func (d *DAV) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := d.authenticate(w, r)
	if p == nil {
		return
	}
	ctx := r.Context()
	// /dav/Classes/<name>/... and /dav/Groupes/<name>/... are the shared
	// spaces, each served as its own WebDAV tree under its own prefix (and
	// its own locks, shared by its members); the rest is the personal space,
	// where "Classes" and "Groupes" are read-only folders listing them.
	prefix := d.prefix
	var sp Space
	var err error
	segs := strings.SplitN(strings.TrimPrefix(strings.TrimPrefix(r.URL.Path, d.prefix), "/"), "/", 3)
	if len(segs) >= 2 && segs[1] != "" && (segs[0] == ClassesFolder || segs[0] == GroupsFolder) {
		sp, err = d.svc.SpaceByFolder(ctx, p, segs[0], segs[1])
		prefix = d.prefix + "/" + segs[0] + "/" + segs[1]
	} else {
		sp, err = d.svc.UserSpace(ctx, p)
	}
	if pr, ok := problem.As(err); ok && pr.Status == http.StatusNotFound {
		d.challenge(w, http.StatusNotFound, "Espace introuvable : vous n'êtes pas membre de cette classe ou de ce groupe.")
		return
	}
	if err != nil {
		d.log.ErrorContext(ctx, "webdav space", "err", err)
		d.challenge(w, http.StatusInternalServerError, "Erreur interne.")
		return
	}
	if r.Method == http.MethodPut {
		if n, err := strconv.ParseInt(r.Header.Get("Content-Length"), 10, 64); err == nil && n > sp.Quota-sp.Used {
			d.challenge(w, errQuota.Status, errQuota.Message)
			return
		}
	}
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		// A browser opening /dav/page.html must not run it as the site:
		// the content gets an opaque origin and no script at all.
		w.Header().Set("Content-Security-Policy", "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:")
		w.Header().Set("X-Content-Type-Options", "nosniff")
	}
	fsys := &davFS{svc: d.svc, sp: sp, p: p}
	if !checkXMLBody(w, r, fsys) {
		return
	}
	if r.Method == http.MethodPut && r.Body != nil {
		fsys.body = &trackedBody{ReadCloser: r.Body}
		r.Body = fsys.body
	}
	h := &webdav.Handler{
		Prefix:     prefix,
		FileSystem: fsys,
		LockSystem: etagLS{memLocks: d.lockSystem(sp.ID), ctx: r.Context(), fs: fsys},
		Logger: func(r *http.Request, err error) {
			if err != nil && fsys.prob == nil {
				d.log.DebugContext(r.Context(), "webdav", "method", r.Method, "path", r.URL.Path, "err", err)
			}
		},
	}
	h.ServeHTTP(&problemWriter{ResponseWriter: w, fs: fsys}, r)
}

// problemWriter replaces x/net's generic error status (405, 409, 500...)
// with the one of the problem the space reported, and its French message.
type problemWriter struct {
	http.ResponseWriter
	fs      *davFS
	swallow bool
}

func (p *problemWriter) WriteHeader(code int) {
	pr := p.fs.prob
	// x/net answers 403 when a rename finds no source; 404 says it.
	if code == http.StatusForbidden && pr != nil && pr.Status == http.StatusNotFound {
		code = http.StatusNotFound
	}
	if code >= 400 && pr != nil && pr.Status != http.StatusNotFound && pr.Status != http.StatusConflict {
		p.ResponseWriter.Header().Set("Content-Type", "text/plain; charset=utf-8")
		p.ResponseWriter.WriteHeader(pr.Status)
		_, _ = fmt.Fprintln(p.ResponseWriter, pr.Message)
		p.swallow = true
		return
	}
	p.ResponseWriter.WriteHeader(code)
}

func (p *problemWriter) Write(b []byte) (int, error) {
	if p.swallow {
		return len(b), nil
	}
	if p.fs.lockShared {
		// x/net writes every lock as exclusive; this one is shared.
		n := len(b)
		_, err := p.ResponseWriter.Write(bytes.Replace(b, []byte("<D:exclusive/>"), []byte("<D:shared/>"), 1))
		return n, err
	}
	return p.ResponseWriter.Write(b)
}

func (p *problemWriter) Unwrap() http.ResponseWriter { return p.ResponseWriter }
