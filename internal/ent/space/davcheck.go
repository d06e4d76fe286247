package space

import (
	"bytes"
	"context"
	"encoding/xml"
	"io"
	"net/http"
	"strings"
	"time"

	"golang.org/x/net/webdav"
)

// maxDAVBody bounds the XML bodies of PROPFIND, PROPPATCH and LOCK.
const maxDAVBody = 1 << 20

// checkXMLBody rejects XML bodies that x/net accepts but the WebDAV rules
// do not: an empty prefixed namespace declaration (xmlns:p=""), which
// Namespaces in XML 1.0 forbids. The body is read (bounded) and put back.
//
// A LOCK asking for a shared lock is noted in fs and handed to x/net as an
// exclusive one (x/net refuses shared locks with 501); memLocks then
// creates it shared.
func checkXMLBody(w http.ResponseWriter, r *http.Request, fs *davFS) bool {
	switch r.Method {
	case "PROPFIND", "PROPPATCH", "LOCK":
	default:
		return true
	}
	if r.Body == nil || r.Body == http.NoBody {
		return true
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxDAVBody))
	if err != nil {
		http.Error(w, "Corps de requête trop volumineux ou illisible.", http.StatusRequestEntityTooLarge)
		return false
	}
	dec := xml.NewDecoder(bytes.NewReader(body))
	var shared [][2]int64 // offsets of the "shared" tags to rewrite
	for {
		start := dec.InputOffset()
		tok, err := dec.Token()
		if err != nil {
			break // EOF, or malformed XML that x/net reports itself
		}
		switch t := tok.(type) {
		case xml.StartElement:
			for _, a := range t.Attr {
				if a.Name.Space == "xmlns" && a.Value == "" {
					http.Error(w, "Déclaration d'espace de noms XML invalide.", http.StatusBadRequest)
					return false
				}
			}
			if r.Method == "LOCK" && t.Name.Space == "DAV:" && t.Name.Local == "shared" {
				shared = append(shared, [2]int64{start, dec.InputOffset()})
			}
		case xml.EndElement:
			if r.Method == "LOCK" && t.Name.Space == "DAV:" && t.Name.Local == "shared" {
				shared = append(shared, [2]int64{start, dec.InputOffset()})
			}
		}
	}
	if len(shared) > 0 {
		fs.lockShared = true
		var out bytes.Buffer
		last := int64(0)
		for _, s := range shared {
			out.Write(body[last:s[0]])
			out.Write(bytes.Replace(body[s[0]:s[1]], []byte("shared"), []byte("exclusive"), 1))
			last = s[1]
		}
		out.Write(body[last:])
		body = out.Bytes()
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	return true
}

// etagLS adds to a lock system the entity-tag conditions of If headers
// ("[etag]"), which x/net's memLS ignores: every condition of a list must
// hold, so a list with a wrong entity tag fails even with a valid token.
type etagLS struct {
	*memLocks
	ctx context.Context
	fs  *davFS
}

// Create makes the lock shared when the request asked for it.
func (l etagLS) Create(now time.Time, details webdav.LockDetails) (string, error) {
	return l.memLocks.create(now, details, l.fs.lockShared)
}

// Refresh notes a shared lock so that the answer says so.
func (l etagLS) Refresh(now time.Time, token string, d time.Duration) (webdav.LockDetails, error) {
	if l.memLocks.isShared(token) {
		l.fs.lockShared = true
	}
	return l.memLocks.Refresh(now, token, d)
}

func trimETag(s string) string {
	return strings.Trim(strings.TrimPrefix(strings.TrimSpace(s), "W/"), `"`)
}

func (l etagLS) Confirm(now time.Time, name0, name1 string, conditions ...webdav.Condition) (func(), error) {
	var tokens []webdav.Condition
	for _, c := range conditions {
		if c.ETag == "" {
			tokens = append(tokens, c)
			continue
		}
		current := ""
		if n, err := l.fs.svc.Resolve(l.ctx, l.fs.sp, name0); err == nil {
			current = n.ETag
		}
		match := current != "" && trimETag(current) == trimETag(c.ETag)
		if match == c.Not {
			return nil, webdav.ErrConfirmationFailed
		}
		if c.Token != "" {
			tokens = append(tokens, webdav.Condition{Not: c.Not, Token: c.Token})
		}
	}
	return l.memLocks.Confirm(now, name0, name1, tokens...)
}
