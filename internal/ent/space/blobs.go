package space

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Blobs stores file contents under opaque keys. The local disk is the
// default; S3Blobs keeps them in an S3-compatible object store.
type Blobs interface {
	// Put streams r under key and returns its size and SHA-256 (hex). A
	// failed Put leaves nothing behind.
	Put(ctx context.Context, key string, r io.Reader) (size int64, sha string, err error)
	// Open returns the content, seekable for range requests.
	Open(ctx context.Context, key string) (io.ReadSeekCloser, error)
	// Delete removes the content; deleting a missing key is not an error.
	Delete(ctx context.Context, key string) error
}

// NewKey returns a fresh random storage key. Keys never derive from names,
// so no name can reach outside the store's root.
func NewKey() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// DiskBlobs stores contents as files under a root directory, fanned out by
// the key's first characters.
type DiskBlobs struct {
	root string
}

// NewDiskBlobs prepares root (and its tmp/ directory for uploads in flight).
func NewDiskBlobs(root string) (*DiskBlobs, error) {
	if err := os.MkdirAll(filepath.Join(root, "tmp"), 0o750); err != nil {
		return nil, fmt.Errorf("create blob directory: %w", err)
	}
	return &DiskBlobs{root: root}, nil
}

// TempDir is where uploads are spooled, on the same file system as the
// blobs so that the final rename is atomic.
func (b *DiskBlobs) TempDir() string { return filepath.Join(b.root, "tmp") }

// checkKey accepts only the keys NewKey makes, so no key can name a path
// outside the store.
func checkKey(key string) error {
	if len(key) < 8 {
		return fmt.Errorf("invalid storage key %q", key)
	}
	for _, c := range key {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z') {
			return fmt.Errorf("invalid storage key %q", key)
		}
	}
	return nil
}

func (b *DiskBlobs) path(key string) (string, error) {
	if err := checkKey(key); err != nil {
		return "", err
	}
	return filepath.Join(b.root, key[:2], key[2:4], key), nil
}

// Put writes to a temporary file, syncs it and renames it into place.
func (b *DiskBlobs) Put(ctx context.Context, key string, r io.Reader) (int64, string, error) {
	dst, err := b.path(key)
	if err != nil {
		return 0, "", err
	}
	tmp, err := os.CreateTemp(b.TempDir(), "put-*")
	if err != nil {
		return 0, "", fmt.Errorf("create temp blob: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op once renamed
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), ctxReader{ctx, r})
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, "", err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o750); err != nil {
		return 0, "", fmt.Errorf("create blob directory: %w", err)
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return 0, "", fmt.Errorf("commit blob: %w", err)
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}

// Open opens a stored content.
func (b *DiskBlobs) Open(_ context.Context, key string) (io.ReadSeekCloser, error) {
	p, err := b.path(key)
	if err != nil {
		return nil, err
	}
	return os.Open(p)
}

// Delete removes a stored content.
func (b *DiskBlobs) Delete(_ context.Context, key string) error {
	p, err := b.path(key)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// ctxReader stops a long copy when the request is gone.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
