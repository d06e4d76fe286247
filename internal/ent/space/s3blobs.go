package space

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// S3Config locates an S3-compatible bucket (AWS, MinIO, Garage, Ceph RGW,
// versitygw, Scaleway, OVHcloud...).
type S3Config struct {
	// Endpoint is the server's base URL, "https://s3.example.fr" (http://
	// only for a server on the same host or network).
	Endpoint  string
	Bucket    string
	Region    string
	AccessKey string
	SecretKey string
	// Prefix is put before every key ("socle/space/"), so that a bucket can
	// be shared with other data.
	Prefix string
	// PartSize is the size of the parts of a multipart upload (5 MiB at
	// least, the S3 minimum; 0: 8 MiB). It bounds the memory of an upload:
	// one part is buffered at a time, never the whole file.
	PartSize int64
}

// S3Blobs stores contents as objects of an S3-compatible bucket, so that
// several Socle processes behind a load balancer share the same files.
type S3Blobs struct {
	client   *minio.Client
	bucket   string
	prefix   string
	partSize int64
}

const minPartSize = 5 * MiB

// smallObject is read before deciding between a single PUT and a multipart
// upload.
const smallObject = 64 * KiB

// NewS3Blobs connects to the bucket and checks that it exists, so that a
// wrong configuration stops the start instead of the first upload.
func NewS3Blobs(ctx context.Context, cfg S3Config) (*S3Blobs, error) {
	u, err := url.Parse(cfg.Endpoint)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("S3 endpoint %q: want an http(s) URL such as https://s3.example.fr", cfg.Endpoint)
	}
	if cfg.Bucket == "" {
		return nil, errors.New("S3 bucket name is empty")
	}
	part := cfg.PartSize
	if part == 0 {
		part = 8 * MiB
	}
	if part < minPartSize {
		return nil, fmt.Errorf("S3 part size %d: at least 5 MiB", part)
	}
	client, err := minio.New(u.Host, &minio.Options{
		Creds:  credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure: u.Scheme == "https",
		Region: cfg.Region,
		// Path-style requests work with every S3-compatible server and
		// need no wildcard DNS for the bucket.
		BucketLookup: minio.BucketLookupPath,
	})
	if err != nil {
		return nil, fmt.Errorf("S3 client: %w", err)
	}
	ok, err := client.BucketExists(ctx, cfg.Bucket)
	if err != nil {
		return nil, fmt.Errorf("S3 bucket %q at %s: %w", cfg.Bucket, u.Host, err)
	}
	if !ok {
		return nil, fmt.Errorf("S3 bucket %q does not exist at %s", cfg.Bucket, u.Host)
	}
	return &S3Blobs{client: client, bucket: cfg.Bucket, prefix: cfg.Prefix, partSize: part}, nil
}

func (b *S3Blobs) object(key string) (string, error) {
	if err := checkKey(key); err != nil {
		return "", err
	}
	return b.prefix + key[:2] + "/" + key, nil
}

// errTracker remembers the first error of the reader it wraps: the S3
// client may wrap it in its own, and the space needs the quota problem back.
type errTracker struct {
	r   io.Reader
	err error
}

func (e *errTracker) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) && e.err == nil {
		e.err = err
	}
	return n, err
}

// Put streams r to the bucket. Content up to one part goes in a single
// request; larger content goes as a multipart upload, one part in memory at
// a time, aborted on failure so that nothing is left behind.
func (b *S3Blobs) Put(ctx context.Context, key string, r io.Reader) (int64, string, error) {
	obj, err := b.object(key)
	if err != nil {
		return 0, "", err
	}
	h := sha256.New()
	src := &errTracker{r: io.TeeReader(ctxReader{ctx, r}, h)}
	// Most files are small: read a little first, and a whole part only
	// when there is more.
	head := make([]byte, smallObject)
	n, err := io.ReadFull(src, head)
	if err == nil {
		big := make([]byte, b.partSize)
		copy(big, head)
		head = big
		var m int
		m, err = io.ReadFull(src, head[n:])
		n += m
	}
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		if src.err != nil {
			err = src.err
		}
		return 0, "", err
	}
	opts := minio.PutObjectOptions{ContentType: "application/octet-stream", PartSize: uint64(b.partSize)}
	var info minio.UploadInfo
	if err != nil { // the whole content is in head
		info, err = b.client.PutObject(ctx, b.bucket, obj, bytes.NewReader(head[:n]), int64(n), opts)
	} else {
		info, err = b.client.PutObject(ctx, b.bucket, obj, io.MultiReader(bytes.NewReader(head[:n]), src), -1, opts)
	}
	if src.err != nil {
		err = src.err
	}
	if err != nil {
		// A single PUT that failed stored nothing; a failed multipart
		// upload was aborted by the client. An object can still exist when
		// the error came after the server committed it.
		_ = b.Delete(context.WithoutCancel(ctx), key)
		return 0, "", err
	}
	return info.Size, hex.EncodeToString(h.Sum(nil)), nil
}

// Open returns the object, read lazily and seekable (each seek is a ranged
// GET), so that range requests do not fetch the whole file.
func (b *S3Blobs) Open(ctx context.Context, key string) (io.ReadSeekCloser, error) {
	obj, err := b.object(key)
	if err != nil {
		return nil, err
	}
	o, err := b.client.GetObject(ctx, b.bucket, obj, minio.GetObjectOptions{})
	if err != nil {
		return nil, err
	}
	// Stat sends the first request: a missing object fails here, as a
	// missing file does on disk.
	if _, err := o.Stat(); err != nil {
		o.Close()
		if minio.ToErrorResponse(err).StatusCode == http.StatusNotFound {
			return nil, fmt.Errorf("blob %s: %w", key, errBlobMissing)
		}
		return nil, err
	}
	return o, nil
}

var errBlobMissing = errors.New("content not found in the object store")

// Delete removes the object (S3 deletes of missing keys succeed).
func (b *S3Blobs) Delete(ctx context.Context, key string) error {
	obj, err := b.object(key)
	if err != nil {
		return err
	}
	return b.client.RemoveObject(ctx, b.bucket, obj, minio.RemoveObjectOptions{})
}

// Count returns how many objects the store holds under its prefix (for
// tests and the administrator's checks).
func (b *S3Blobs) Count(ctx context.Context) (int, error) {
	n := 0
	for o := range b.client.ListObjects(ctx, b.bucket, minio.ListObjectsOptions{Prefix: b.prefix, Recursive: true}) {
		if o.Err != nil {
			return 0, o.Err
		}
		if !strings.HasSuffix(o.Key, "/") {
			n++
		}
	}
	return n, nil
}

// OpenBlobs returns the S3 blobs when an endpoint is configured, else the
// local disk under diskRoot.
func OpenBlobs(ctx context.Context, s3 S3Config, diskRoot string) (Blobs, error) {
	if s3.Endpoint == "" {
		return NewDiskBlobs(diskRoot)
	}
	return NewS3Blobs(ctx, s3)
}
