package space

import (
	"context"
	"encoding/xml"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path"
	"slices"
	"time"

	"golang.org/x/net/webdav"

	"socle/internal/platform/auth"
	"socle/internal/platform/db"
	"socle/internal/platform/problem"
)

// davFS is webdav.FileSystem over one space, built per request. x/net's
// handler only sees os-style errors; the French problem behind the last one
// is kept in prob so that DAV can answer with its status (507, 415, 400).
type davFS struct {
	svc  *Service
	sp   Space
	p    *auth.Principal
	prob *problem.Error
	// virt lists the shared spaces shown as read-only folders at the root
	// of the personal space: "Classes" and "Groupes" to their folder names.
	// Loaded on first need, once per request.
	virt       map[string][]string
	virtLoaded bool
	// body is the PUT request body: a file written from it is committed
	// only if the body was read to its end, never half an upload.
	body *trackedBody
	// lockShared: this LOCK request asked for (or refreshes) a shared lock.
	lockShared bool
}

// trackedBody records whether a request body was read to its end.
type trackedBody struct {
	io.ReadCloser
	eof bool
	err error
}

func (b *trackedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if errors.Is(err, io.EOF) {
		b.eof = true
	} else if err != nil {
		b.err = err
	}
	return n, err
}

// fail records a problem for the response and returns the os-style error
// x/net maps to a status.
func (f *davFS) fail(err error) error {
	if err == nil {
		return nil
	}
	if p, ok := problem.As(err); ok {
		f.prob = p
		switch p.Status {
		case http.StatusNotFound:
			return os.ErrNotExist
		case http.StatusConflict:
			if p == errExists {
				return os.ErrExist
			}
		}
		return err
	}
	return err
}

// virtualID marks the read-only folders that lead to the shared spaces.
const virtualID = -1

func (f *davFS) shared(ctx context.Context) (map[string][]string, error) {
	if f.virtLoaded || f.sp.OwnerKind != OwnerUser || f.p == nil {
		return f.virt, nil
	}
	f.virt = map[string][]string{}
	for _, k := range []string{ClassesFolder, GroupsFolder} {
		names, err := f.svc.sharedFolders(ctx, f.p, k)
		if err != nil {
			return nil, err
		}
		if len(names) > 0 {
			f.virt[k] = names
		}
	}
	f.virtLoaded = true
	return f.virt, nil
}

func virtualNode(name string) Node {
	return Node{ID: virtualID, IsDir: true, Name: name}
}

func (f *davFS) resolve(ctx context.Context, name string) (Node, error) {
	if names := SplitPath(name); len(names) > 0 && f.sp.OwnerKind == OwnerUser &&
		(names[0] == ClassesFolder || names[0] == GroupsFolder) {
		virt, err := f.shared(ctx)
		if err != nil {
			return Node{}, err
		}
		kids, ok := virt[names[0]]
		switch {
		case ok && len(names) == 1:
			return virtualNode(names[0]), nil
		case ok && len(names) == 2 && slices.Contains(kids, names[1]):
			// Reached by a depth-1 listing of /dav/Classes/; the space
			// itself is served under its own prefix.
			return virtualNode(names[1]), nil
		case ok:
			return Node{}, os.ErrNotExist
		}
	}
	n, err := f.svc.Resolve(ctx, f.sp, name)
	if err != nil {
		return Node{}, f.fail(err)
	}
	return n, nil
}

// parentOf resolves the folder that holds name, and name's last element.
func (f *davFS) parentOf(ctx context.Context, name string) (Node, string, error) {
	names := SplitPath(name)
	if len(names) == 0 {
		return Node{}, "", os.ErrPermission
	}
	parent, err := f.resolve(ctx, "/"+path.Join(names[:len(names)-1]...))
	if err != nil {
		return Node{}, "", err
	}
	if !parent.IsDir {
		return Node{}, "", os.ErrNotExist
	}
	return parent, names[len(names)-1], nil
}

func (f *davFS) Mkdir(ctx context.Context, name string, _ os.FileMode) error {
	f.prob = nil // the problem reported is the last operation's
	parent, base, err := f.parentOf(ctx, name)
	if err != nil {
		return err
	}
	if parent.ID < 0 {
		return os.ErrPermission
	}
	_, err = f.svc.Mkdir(ctx, f.sp, parent.ID, base)
	return f.fail(err)
}

func (f *davFS) RemoveAll(ctx context.Context, name string) error {
	f.prob = nil // the problem reported is the last operation's
	n, err := f.resolve(ctx, name)
	if err != nil {
		return err
	}
	if n.ID <= 0 {
		return os.ErrPermission
	}
	return f.fail(f.svc.Trash(ctx, f.sp, n.ID))
}

func (f *davFS) Rename(ctx context.Context, oldName, newName string) error {
	f.prob = nil // the problem reported is the last operation's
	n, err := f.resolve(ctx, oldName)
	if err != nil {
		return err
	}
	parent, base, err := f.parentOf(ctx, newName)
	if err != nil {
		return err
	}
	if n.ID < 0 || parent.ID < 0 {
		return os.ErrPermission
	}
	return f.fail(f.svc.Move(ctx, f.sp, n.ID, parent.ID, base))
}

func (f *davFS) Stat(ctx context.Context, name string) (os.FileInfo, error) {
	f.prob = nil // the problem reported is the last operation's
	n, err := f.resolve(ctx, name)
	if err != nil {
		return nil, err
	}
	return nodeInfo{n}, nil
}

func (f *davFS) OpenFile(ctx context.Context, name string, flag int, _ os.FileMode) (webdav.File, error) {
	f.prob = nil // the problem reported is the last operation's
	write := flag&(os.O_WRONLY|os.O_RDWR|os.O_CREATE|os.O_TRUNC|os.O_APPEND) != 0
	n, err := f.resolve(ctx, name)
	exists := err == nil
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	if !write {
		if !exists {
			return nil, err
		}
		return &davFile{fs: f, ctx: ctx, node: n}, nil
	}
	if exists && n.IsDir {
		return nil, f.fail(errIsDir)
	}
	if exists && flag&os.O_EXCL != 0 {
		return nil, os.ErrExist
	}
	if !exists && flag&os.O_CREATE == 0 {
		return nil, os.ErrNotExist
	}
	parent, base, err := f.parentOf(ctx, name)
	if err != nil {
		return nil, err
	}
	if parent.ID < 0 {
		return nil, os.ErrPermission
	}
	if err := ValidateName(base); err != nil {
		return nil, f.fail(err)
	}
	tmp, err := os.CreateTemp(f.svc.cfg.TempDir, "dav-*")
	if err != nil {
		return nil, err
	}
	w := &davFile{fs: f, ctx: ctx, node: n, tmp: tmp, parentID: parent.ID, name: base,
		remaining: f.sp.Quota - f.sp.Used}
	if !exists {
		w.node = Node{SpaceID: f.sp.ID, ParentID: parent.ID, Name: base}
	} else if flag&os.O_TRUNC == 0 {
		// Writing into an existing file without truncating: start from its
		// content (x/net itself always truncates; other callers may not).
		rc, err := f.svc.Open(ctx, n)
		if err == nil {
			_, err = io.Copy(tmp, rc)
			rc.Close()
		}
		if err == nil && flag&os.O_APPEND == 0 {
			_, err = tmp.Seek(0, io.SeekStart)
		}
		if err != nil {
			w.discard()
			return nil, err
		}
	}
	return w, nil
}

// davFile is an open node: a folder (Readdir), a file being read (content
// opened on first Read or Seek, streamed), or a file being written (spooled
// to a temporary file, committed on Close).
type davFile struct {
	fs   *davFS
	ctx  context.Context
	node Node

	rc      io.ReadSeekCloser // read side
	pos     int64             // read position before rc is opened
	dir     []fs.FileInfo     // Readdir state
	dirRead bool

	tmp       *os.File // write side
	failed    bool     // a write failed: nothing is committed
	parentID  int64
	name      string
	written   int64
	remaining int64
	props     []webdav.Proppatch // patches waiting for the commit
}

func (d *davFile) writing() bool { return d.tmp != nil }

func (d *davFile) discard() {
	if d.tmp != nil {
		d.tmp.Close()
		os.Remove(d.tmp.Name())
		d.tmp = nil
	}
}

func (d *davFile) Close() error {
	if d.rc != nil {
		err := d.rc.Close()
		d.rc = nil
		return err
	}
	if !d.writing() {
		return nil
	}
	defer d.discard()
	if d.failed {
		return os.ErrInvalid
	}
	if b := d.fs.body; b != nil && (!b.eof || b.err != nil) {
		return io.ErrUnexpectedEOF
	}
	if _, err := d.tmp.Seek(0, io.SeekStart); err != nil {
		return err
	}
	n, err := d.fs.svc.PutFile(d.ctx, d.fs.sp, d.parentID, d.name, d.tmp)
	if err != nil {
		return d.fs.fail(err)
	}
	d.node = n
	if len(d.props) > 0 {
		if _, err := d.fs.svc.PatchProps(d.ctx, n.ID, d.props); err != nil {
			return err
		}
	}
	return nil
}

func (d *davFile) open() error {
	if d.rc != nil {
		return nil
	}
	if d.node.IsDir {
		return os.ErrInvalid
	}
	rc, err := d.fs.svc.Open(d.ctx, d.node)
	if err != nil {
		return err
	}
	if d.pos != 0 {
		if _, err := rc.Seek(d.pos, io.SeekStart); err != nil {
			rc.Close()
			return err
		}
	}
	d.rc = rc
	return nil
}

func (d *davFile) Read(p []byte) (int, error) {
	if d.writing() {
		return d.tmp.Read(p)
	}
	if err := d.open(); err != nil {
		return 0, err
	}
	return d.rc.Read(p)
}

func (d *davFile) Seek(offset int64, whence int) (int64, error) {
	if d.writing() {
		return d.tmp.Seek(offset, whence)
	}
	if d.node.IsDir {
		return 0, nil
	}
	// Seeking from the start or the end needs no I/O: http.ServeContent
	// seeks to the end to learn the size, and PROPFIND never reads.
	if d.rc == nil {
		switch whence {
		case io.SeekStart:
			d.pos = offset
			return offset, nil
		case io.SeekEnd:
			d.pos = d.node.Size + offset
			return d.pos, nil
		}
	}
	if err := d.open(); err != nil {
		return 0, err
	}
	return d.rc.Seek(offset, whence)
}

func (d *davFile) Write(p []byte) (int, error) {
	if !d.writing() {
		return 0, os.ErrPermission
	}
	if d.written+int64(len(p)) > d.remaining {
		d.failed = true
		return 0, d.fs.fail(errQuota)
	}
	n, err := d.tmp.Write(p)
	if err != nil {
		d.failed = true
	}
	d.written += int64(n)
	return n, err
}

func (d *davFile) Readdir(count int) ([]fs.FileInfo, error) {
	if !d.node.IsDir {
		return nil, os.ErrInvalid
	}
	if !d.dirRead {
		if err := d.readdir(); err != nil {
			return nil, err
		}
		d.dirRead = true
	}
	if count <= 0 {
		out := d.dir
		d.dir = nil
		return out, nil
	}
	if len(d.dir) == 0 {
		return nil, io.EOF
	}
	n := min(count, len(d.dir))
	out := d.dir[:n]
	d.dir = d.dir[n:]
	return out, nil
}

// readdir loads a folder's entries: a real folder's children, plus the
// folders of the shared spaces at the personal root.
func (d *davFile) readdir() error {
	virt, err := d.fs.shared(d.ctx)
	if err != nil {
		return err
	}
	if d.node.ID == virtualID {
		for _, name := range virt[d.node.Name] {
			d.dir = append(d.dir, nodeInfo{virtualNode(name)})
		}
		return nil
	}
	kids, err := d.fs.svc.List(d.ctx, d.fs.sp, d.node.ID)
	if err != nil {
		return d.fs.fail(err)
	}
	for _, k := range kids {
		d.dir = append(d.dir, nodeInfo{k})
	}
	if d.node.ID == 0 {
		for _, k := range []string{ClassesFolder, GroupsFolder} {
			if len(virt[k]) > 0 {
				d.dir = append(d.dir, nodeInfo{virtualNode(k)})
			}
		}
	}
	return nil
}

func (d *davFile) Stat() (fs.FileInfo, error) {
	if d.writing() {
		n := d.node
		n.Size = d.written
		if st, err := d.tmp.Stat(); err == nil {
			n.Size = st.Size()
		}
		n.UpdatedAt = time.Now()
		return nodeInfo{n}, nil
	}
	return nodeInfo{d.node}, nil
}

// DeadProps implements webdav.DeadPropsHolder.
func (d *davFile) DeadProps() (map[xml.Name]webdav.Property, error) {
	out := map[xml.Name]webdav.Property{}
	if d.node.ID > 0 {
		props, err := d.fs.svc.store.Props(d.ctx, d.node.ID)
		if err != nil {
			return nil, err
		}
		for _, p := range props {
			n := xml.Name{Space: p.NS, Local: p.Name}
			out[n] = webdav.Property{XMLName: n, Lang: p.Lang, InnerXML: []byte(p.Value)}
		}
	}
	for _, pp := range d.props {
		for _, p := range pp.Props {
			if pp.Remove {
				delete(out, p.XMLName)
			} else {
				out[p.XMLName] = p
			}
		}
	}
	return out, nil
}

// Patch implements webdav.DeadPropsHolder; a file being written keeps the
// patches until it exists.
func (d *davFile) Patch(patches []webdav.Proppatch) ([]webdav.Propstat, error) {
	if d.writing() && d.node.ID == 0 {
		d.props = append(d.props, patches...)
		return okPropstat(patches), nil
	}
	if d.node.ID <= 0 {
		st := webdav.Propstat{Status: http.StatusForbidden}
		for _, pp := range patches {
			for _, p := range pp.Props {
				st.Props = append(st.Props, webdav.Property{XMLName: p.XMLName})
			}
		}
		return []webdav.Propstat{st}, nil
	}
	return d.fs.svc.PatchProps(d.ctx, d.node.ID, patches)
}

func okPropstat(patches []webdav.Proppatch) []webdav.Propstat {
	st := webdav.Propstat{Status: http.StatusOK}
	for _, pp := range patches {
		for _, p := range pp.Props {
			st.Props = append(st.Props, webdav.Property{XMLName: p.XMLName})
		}
	}
	return []webdav.Propstat{st}
}

// PatchProps applies WebDAV property patches to a node, all or nothing.
func (s *Service) PatchProps(ctx context.Context, nodeID int64, patches []webdav.Proppatch) ([]webdav.Propstat, error) {
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		for _, pp := range patches {
			for _, p := range pp.Props {
				var err error
				if pp.Remove {
					err = s.store.RemoveProp(ctx, tx, nodeID, p.XMLName.Space, p.XMLName.Local)
				} else {
					err = s.store.SetProp(ctx, tx, nodeID, Prop{NS: p.XMLName.Space, Name: p.XMLName.Local, Lang: p.Lang, Value: string(p.InnerXML)})
				}
				if err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return okPropstat(patches), nil
}

// nodeInfo is a node as os.FileInfo, with the ETag and content type that
// x/net would otherwise compute by reading the content.
type nodeInfo struct{ n Node }

func (i nodeInfo) Name() string {
	if i.n.ID == 0 && i.n.Name == "" {
		return "/"
	}
	return i.n.Name
}
func (i nodeInfo) Size() int64 { return i.n.Size }
func (i nodeInfo) Mode() fs.FileMode {
	if i.n.IsDir {
		return fs.ModeDir | 0o750
	}
	return 0o640
}
func (i nodeInfo) ModTime() time.Time {
	if i.n.UpdatedAt.IsZero() {
		return time.Now()
	}
	return i.n.UpdatedAt
}
func (i nodeInfo) IsDir() bool { return i.n.IsDir }
func (i nodeInfo) Sys() any    { return nil }

func (i nodeInfo) ContentType(context.Context) (string, error) {
	if i.n.IsDir || i.n.ContentType == "" {
		return "", webdav.ErrNotImplemented
	}
	return i.n.ContentType, nil
}

func (i nodeInfo) ETag(context.Context) (string, error) {
	if i.n.ETag == "" {
		return "", webdav.ErrNotImplemented
	}
	return i.n.ETag, nil
}
