package space

import (
	"crypto/rand"
	"encoding/hex"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/webdav"
)

// memLocks is an in-memory webdav.LockSystem with shared locks, which
// x/net's NewMemLS lacks (RFC 4918 §6.1: any number of shared locks, or one
// exclusive lock, on a resource). It lives in one process: with several
// processes, route /dav/ to one of them or persist the locks.
type memLocks struct {
	mu    sync.Mutex
	locks map[string]*memLock // by token
}

type memLock struct {
	details webdav.LockDetails
	shared  bool
	expires time.Time // zero: never
	held    bool
}

func newMemLocks() *memLocks { return &memLocks{locks: map[string]*memLock{}} }

func cleanLockName(name string) string {
	name = "/" + strings.Trim(name, "/")
	return name
}

// covers reports whether a lock on root (with its depth) covers name.
func covers(root string, zeroDepth bool, name string) bool {
	if root == name {
		return true
	}
	if zeroDepth {
		return false
	}
	return root == "/" || strings.HasPrefix(name, root+"/")
}

func (m *memLocks) collect(now time.Time) {
	for tok, l := range m.locks {
		if !l.held && !l.expires.IsZero() && now.After(l.expires) {
			delete(m.locks, tok)
		}
	}
}

func (m *memLocks) lookup(name string, conditions []webdav.Condition) *memLock {
	for _, c := range conditions {
		if c.Not || c.Token == "" {
			continue
		}
		l := m.locks[c.Token]
		if l == nil || l.held {
			continue
		}
		if covers(l.details.Root, l.details.ZeroDepth, name) {
			return l
		}
	}
	return nil
}

func (m *memLocks) Confirm(now time.Time, name0, name1 string, conditions ...webdav.Condition) (func(), error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.collect(now)
	var l0, l1 *memLock
	if name0 != "" {
		if l0 = m.lookup(cleanLockName(name0), conditions); l0 == nil {
			return nil, webdav.ErrConfirmationFailed
		}
	}
	if name1 != "" {
		if l1 = m.lookup(cleanLockName(name1), conditions); l1 == nil {
			return nil, webdav.ErrConfirmationFailed
		}
	}
	if l1 == l0 {
		l1 = nil
	}
	for _, l := range []*memLock{l0, l1} {
		if l != nil {
			l.held = true
		}
	}
	return func() {
		m.mu.Lock()
		defer m.mu.Unlock()
		for _, l := range []*memLock{l0, l1} {
			if l != nil {
				l.held = false
			}
		}
	}, nil
}

func (m *memLocks) Create(now time.Time, details webdav.LockDetails) (string, error) {
	return m.create(now, details, false)
}

func (m *memLocks) create(now time.Time, details webdav.LockDetails, shared bool) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.collect(now)
	details.Root = cleanLockName(details.Root)
	for _, l := range m.locks {
		overlap := covers(l.details.Root, l.details.ZeroDepth, details.Root) || covers(details.Root, details.ZeroDepth, l.details.Root)
		if overlap && !(shared && l.shared) {
			return "", webdav.ErrLocked
		}
	}
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	h := hex.EncodeToString(b)
	tok := "urn:uuid:" + h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
	l := &memLock{details: details, shared: shared}
	if details.Duration >= 0 {
		l.expires = now.Add(details.Duration)
	}
	m.locks[tok] = l
	return tok, nil
}

func (m *memLocks) isShared(token string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	l := m.locks[token]
	return l != nil && l.shared
}

func (m *memLocks) Refresh(now time.Time, token string, duration time.Duration) (webdav.LockDetails, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.collect(now)
	l := m.locks[token]
	if l == nil {
		return webdav.LockDetails{}, webdav.ErrNoSuchLock
	}
	if l.held {
		return webdav.LockDetails{}, webdav.ErrLocked
	}
	l.details.Duration = duration
	l.expires = time.Time{}
	if duration >= 0 {
		l.expires = now.Add(duration)
	}
	return l.details, nil
}

func (m *memLocks) Unlock(now time.Time, token string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.collect(now)
	l := m.locks[token]
	if l == nil {
		return webdav.ErrNoSuchLock
	}
	if l.held {
		return webdav.ErrLocked
	}
	delete(m.locks, token)
	return nil
}
