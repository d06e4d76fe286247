package space

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"socle/internal/platform/auth"
)

// VersitygwInstall is how CI installs the S3-compatible server of the tests.
const VersitygwInstall = "go install github.com/versity/versitygw/cmd/versitygw@v1.8.0"

const (
	s3Access = "socle-test-access"
	s3Secret = "socle-test-secret-key-0123456789"
)

// s3Server is a real S3-compatible server (versitygw in posix mode on a
// temporary directory) for one test.
type s3Server struct {
	endpoint string
	client   *minio.Client
}

// versitygw finds the binary on PATH or in Go's install directory. Without
// it the test is skipped locally and fails in CI.
func versitygw(t testing.TB) string {
	t.Helper()
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p
	}
	for _, dir := range []string{os.Getenv("GOBIN"), filepath.Join(os.Getenv("GOPATH"), "bin"), filepath.Join(os.Getenv("HOME"), "go", "bin")} {
		if dir == "" || dir == "bin" {
			continue
		}
		if p := filepath.Join(dir, "versitygw"); fileExists(p) {
			return p
		}
	}
	msg := "versitygw (S3-compatible server) is not installed: run `" + VersitygwInstall + "` to test the S3 blobs"
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

func freePort(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func startS3(t testing.TB) *s3Server {
	t.Helper()
	bin := versitygw(t)
	root := t.TempDir()
	addr := freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	// --sidecar keeps object metadata in files: temporary directories may
	// sit on a file system without extended attributes.
	side := t.TempDir()
	cmd := exec.CommandContext(ctx, bin, "--access", s3Access, "--secret", s3Secret, "--port", addr, "--quiet",
		"posix", "--sidecar", side, root)
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start versitygw: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("versitygw output:\n%s", logs.String())
		}
	})
	client, err := minio.New(addr, &minio.Options{Creds: credentials.NewStaticV4(s3Access, s3Secret, ""), BucketLookup: minio.BucketLookupPath})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, err := client.ListBuckets(context.Background())
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("versitygw did not answer on %s: %v\n%s", addr, err, logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	return &s3Server{endpoint: "http://" + addr, client: client}
}

// blobs creates a fresh bucket and returns blobs on it.
func (s *s3Server) blobs(t testing.TB, bucket string) *S3Blobs {
	t.Helper()
	ctx := context.Background()
	if err := s.client.MakeBucket(ctx, bucket, minio.MakeBucketOptions{}); err != nil {
		t.Fatalf("make bucket: %v", err)
	}
	b, err := NewS3Blobs(ctx, S3Config{Endpoint: s.endpoint, Bucket: bucket, Region: "us-east-1", AccessKey: s3Access, SecretKey: s3Secret,
		Prefix: "space/", PartSize: minPartSize})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestS3BlobsConfigErrors(t *testing.T) {
	s := startS3(t)
	ctx := context.Background()
	for name, cfg := range map[string]S3Config{
		"no scheme":      {Endpoint: strings.TrimPrefix(s.endpoint, "http://"), Bucket: "b"},
		"no bucket":      {Endpoint: s.endpoint},
		"missing bucket": {Endpoint: s.endpoint, Bucket: "absent", AccessKey: s3Access, SecretKey: s3Secret},
		"bad secret":     {Endpoint: s.endpoint, Bucket: "absent", AccessKey: s3Access, SecretKey: "faux"},
		"small parts":    {Endpoint: s.endpoint, Bucket: "b", PartSize: MiB},
	} {
		if _, err := NewS3Blobs(ctx, cfg); err == nil {
			t.Errorf("%s: NewS3Blobs accepted %+v", name, cfg)
		}
	}
}

// A large upload goes as a multipart upload of bounded parts, its content
// and digest come back intact, ranges read from the middle, and a second
// process (another S3Blobs on the same bucket) sees the same file.
func TestS3BlobsMultipartAndSharing(t *testing.T) {
	s := startS3(t)
	a := s.blobs(t, "partage")
	ctx := context.Background()
	size := int64(3*minPartSize + 12345)
	data := make([]byte, size)
	for i := range data {
		data[i] = byte(i * 7 % 251)
	}
	key := NewKey()
	n, sum, err := a.Put(ctx, key, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	want := sha256.Sum256(data)
	if n != size || sum != hex.EncodeToString(want[:]) {
		t.Fatalf("put: size %d sha %s, want %d %x", n, sum, size, want)
	}
	b, err := NewS3Blobs(ctx, S3Config{Endpoint: s.endpoint, Bucket: "partage", AccessKey: s3Access, SecretKey: s3Secret, Prefix: "space/"})
	if err != nil {
		t.Fatal(err)
	}
	rc, err := b.Open(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rc.Seek(2*minPartSize-10, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	part := make([]byte, 20)
	if _, err := io.ReadFull(rc, part); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(part, data[2*minPartSize-10:2*minPartSize+10]) {
		t.Errorf("range across a part boundary differs")
	}
	if end, err := rc.Seek(0, io.SeekEnd); err != nil || end != size {
		t.Errorf("seek end: %d %v", end, err)
	}
	rc.Close()
	// A failing reader mid-way leaves no object and no pending upload.
	bad := io.MultiReader(bytes.NewReader(data[:2*minPartSize]), &failAfter{})
	if _, _, err := a.Put(ctx, NewKey(), bad); err == nil || !strings.Contains(err.Error(), "coupure") {
		t.Errorf("interrupted upload: %v", err)
	}
	if n, err := a.Count(ctx); err != nil || n != 1 {
		t.Errorf("%d objects after an interrupted upload (%v), want 1", n, err)
	}
	var pending int
	for u := range s.client.ListIncompleteUploads(ctx, "partage", "space/", true) {
		if u.Err == nil {
			pending++
		}
	}
	if pending != 0 {
		t.Errorf("%d multipart uploads left pending", pending)
	}
	if err := b.Delete(ctx, key); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Open(ctx, key); err == nil {
		t.Errorf("deleted object still opens")
	}
	if err := a.Delete(ctx, key); err != nil {
		t.Errorf("deleting a missing key: %v", err)
	}
	if _, _, err := a.Put(ctx, "../../etc", strings.NewReader("x")); err == nil {
		t.Errorf("invalid key accepted")
	}
}

type failAfter struct{}

func (*failAfter) Read([]byte) (int, error) { return 0, fmt.Errorf("coupure réseau") }

// The service's rules hold on S3 as on disk: quota, versions, trash, purge.
func TestServiceOnS3(t *testing.T) {
	s := startS3(t)
	for name, run := range map[string]func(*testing.T, *fixture){"quota": testQuotaPerProfile, "trash": testTrashAndRestore, "versions": testVersions} {
		t.Run(name, func(t *testing.T) {
			bl := s.blobs(t, "service-"+name)
			run(t, newFixtureBlobs(t, testConfig(), bl))
		})
	}
	t.Run("pupil round trip", func(t *testing.T) {
		bl := s.blobs(t, "aller-retour")
		f := newFixtureBlobs(t, DefaultConfig(), bl)
		_, sp := f.user("eleve@exemple.fr", auth.RolePupil)
		n := f.put(sp, 0, "exposé.txt", "Les volcans d'Auvergne")
		if got := f.read(sp, n); got != "Les volcans d'Auvergne" {
			t.Errorf("read back %q", got)
		}
		if err := f.svc.Trash(f.ctx, sp, n.ID); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.Purge(f.ctx, sp, n.ID); err != nil {
			t.Fatal(err)
		}
		if c := f.countBlobs(); c != 0 {
			t.Errorf("%d objects after purge", c)
		}
	})
}

// zeroReader yields n zero bytes without holding them.
type zeroReader struct{ n int64 }

func (z *zeroReader) Read(p []byte) (int, error) {
	if z.n <= 0 {
		return 0, io.EOF
	}
	k := min(int64(len(p)), z.n)
	clear(p[:k])
	z.n -= k
	return int(k), nil
}

// BenchmarkS3Put64MiB uploads 64 MiB per operation as a multipart upload
// (5 MiB parts): B/op shows the memory of an upload stays near two parts,
// whatever the file's size.
func BenchmarkS3Put64MiB(b *testing.B) {
	s := startS3(b).blobs(b, "bench")
	ctx := context.Background()
	b.SetBytes(64 * MiB)
	b.ReportAllocs()
	for b.Loop() {
		key := NewKey()
		if _, _, err := s.Put(ctx, key, &zeroReader{n: 64 * MiB}); err != nil {
			b.Fatal(err)
		}
		if err := s.Delete(ctx, key); err != nil {
			b.Fatal(err)
		}
	}
}

func TestOpenBlobsChoosesTheStore(t *testing.T) {
	b, err := OpenBlobs(context.Background(), S3Config{}, t.TempDir())
	if _, ok := b.(*DiskBlobs); err != nil || !ok {
		t.Errorf("no S3 endpoint: %T %v, want the disk", b, err)
	}
	// A configured but unreachable store stops the start.
	if _, err := OpenBlobs(context.Background(), S3Config{Endpoint: "http://" + freePort(t), Bucket: "absent"}, t.TempDir()); err == nil {
		t.Error("unreachable S3 endpoint accepted")
	}
}

// Two Socle processes (two services and WebDAV handlers on the same
// database and bucket) behind a load balancer serve the same files.
func TestTwoProcessesShareFilesOnS3(t *testing.T) {
	s := startS3(t)
	a := newFixtureBlobs(t, DefaultConfig(), s.blobs(t, "deux-processus"))
	a.user("prof@exemple.fr", auth.RoleTeacher)
	other, err := NewS3Blobs(a.ctx, S3Config{Endpoint: s.endpoint, Bucket: "deux-processus", AccessKey: s3Access, SecretKey: s3Secret, Prefix: "space/"})
	if err != nil {
		t.Fatal(err)
	}
	svcB := NewService(a.db, other, DefaultConfig(), a.log)
	davB := NewDAV(svcB, a.auth, "/dav", a.log)
	content := strings.Repeat("cours de sciences ", 400_000) // 7 MB: a multipart upload
	if w := davDo(t, a.dav, "PUT", "/dav/cours.txt", "prof@exemple.fr", testPassword, strings.NewReader(content)); w.Code != 201 {
		t.Fatalf("PUT on process A: %d %s", w.Code, w.Body)
	}
	w := davDo(t, davB, "GET", "/dav/cours.txt", "prof@exemple.fr", testPassword, nil)
	if w.Code != 200 || w.Body.Len() != len(content) || w.Body.String() != content {
		t.Fatalf("GET on process B: %d, %d bytes", w.Code, w.Body.Len())
	}
	w = davDo(t, davB, "GET", "/dav/cours.txt", "prof@exemple.fr", testPassword, nil, "Range", "bytes=18-35")
	if w.Code != http.StatusPartialContent || w.Body.String() != "cours de sciences " {
		t.Errorf("range on process B: %d %q", w.Code, w.Body)
	}
	if w := davDo(t, davB, "DELETE", "/dav/cours.txt", "prof@exemple.fr", testPassword, nil); w.Code != http.StatusNoContent {
		t.Errorf("DELETE on process B: %d", w.Code)
	}
	if w := davDo(t, a.dav, "GET", "/dav/cours.txt", "prof@exemple.fr", testPassword, nil); w.Code != http.StatusNotFound {
		t.Errorf("GET on process A after B's delete: %d", w.Code)
	}
}
