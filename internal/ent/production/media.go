package production

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base32"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"socle/internal/platform/auth"
	"socle/internal/platform/problem"
	"socle/internal/platform/web"
)

// Medias: the images, sounds and videos put in a production. Their files
// live in the production owner's personal space, in a folder
// "Productions/<title>", so that they count in the owner's quota and stay
// theirs; a production_media row binds each file to its production under
// a random reference, and the file is only ever served through that
// production, to the people who may read it.

// MediaStore keeps files in people's personal spaces ([space]); the
// application adapts the personal space service to it.
type MediaStore interface {
	// Put stores r as a new file in ownerID's personal space, in the
	// folder path (created when missing). It never overwrites: a taken
	// name gets a number. The space's quota applies.
	Put(ctx context.Context, ownerID int64, folder []string, name string, r io.Reader) (StoredFile, error)
	// Open returns the content of a file Put stored; a problem "not_found"
	// when the owner deleted it since.
	Open(ctx context.Context, ownerID, fileID int64) (io.ReadSeekCloser, StoredFile, error)
}

// StoredFile is a file of a personal space, as MediaStore sees it.
type StoredFile struct {
	ID      int64
	Name    string
	Size    int64
	ModTime time.Time
}

// SetMediaStore gives the service where medias are stored; without one,
// uploads answer that medias are unavailable.
func (s *Service) SetMediaStore(m MediaStore) { s.media = m }

// MaxMediaBytes bounds one media file.
const MaxMediaBytes = 20 << 20

// Media is an uploaded media, as the API answers it.
type Media struct {
	URL         string `json:"url"`
	Name        string `json:"name"`
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
}

// MediaFile is a media's content to serve; the caller closes Body.
type MediaFile struct {
	Media
	ModTime time.Time
	Body    io.ReadSeekCloser
}

var (
	errMediaType = problem.New(http.StatusUnsupportedMediaType, "media_type_refused",
		"Type de fichier refusé : envoyez une image (PNG, JPEG, GIF, WebP), un son (MP3, Ogg, WAV) ou une vidéo (MP4, WebM).")
	errMediaMismatch = problem.New(http.StatusUnsupportedMediaType, "media_type_mismatch",
		"Le contenu du fichier ne correspond pas à son extension : renommez-le ou enregistrez-le à nouveau dans le bon format.")
	errMediaTooLarge = problem.New(http.StatusRequestEntityTooLarge, "media_too_large",
		"Fichier trop volumineux : 20 Mo au plus par image, son ou vidéo.")
	errMediaNoFile      = problem.Invalid("media_no_file", "Choisissez un fichier à envoyer.").Field("file", "Fichier obligatoire.")
	errMediaUnavailable = problem.New(http.StatusServiceUnavailable, "media_unavailable", "L'envoi de médias n'est pas disponible sur ce serveur.")
	errMediaNotFound    = problem.NotFound("Média")
)

// mediaType is an accepted type: what the content must look like, and the
// extensions its name may carry (the first is added to a name without one).
type mediaType struct {
	contentType string
	exts        []string
}

var mediaTypes = []mediaType{
	{"image/png", []string{".png"}},
	{"image/jpeg", []string{".jpg", ".jpeg"}},
	{"image/gif", []string{".gif"}},
	{"image/webp", []string{".webp"}},
	{"audio/mpeg", []string{".mp3"}},
	{"audio/ogg", []string{".ogg", ".oga", ".opus"}},
	{"audio/wav", []string{".wav"}},
	{"video/mp4", []string{".mp4", ".m4v"}},
	{"video/webm", []string{".webm"}},
}

// sniffMedia finds the type of a file from its first bytes and checks its
// name's extension against it. SVG, HTML and anything else are refused:
// only formats a browser shows without running code are served.
func sniffMedia(name string, head []byte) (mediaType, error) {
	sniffed, _, _ := strings.Cut(http.DetectContentType(head), ";")
	switch {
	case sniffed == "application/ogg":
		sniffed = "audio/ogg"
	case sniffed == "audio/wave":
		sniffed = "audio/wav"
	case sniffed == "application/octet-stream" && len(head) > 2 && head[0] == 0xFF && head[1]&0xE0 == 0xE0:
		// An MP3 without ID3 tag starts with a frame header, which the
		// standard sniffer does not know.
		sniffed = "audio/mpeg"
	}
	i := slices.IndexFunc(mediaTypes, func(t mediaType) bool { return t.contentType == sniffed })
	if i < 0 {
		return mediaType{}, errMediaType
	}
	ext := strings.ToLower(path.Ext(name))
	if ext == "" || slices.Contains(mediaTypes[i].exts, ext) {
		return mediaTypes[i], nil
	}
	for _, t := range mediaTypes {
		if slices.Contains(t.exts, ext) {
			return mediaType{}, errMediaMismatch
		}
	}
	return mediaType{}, errMediaType
}

// cleanFileName makes a file or folder name every file system accepts: the
// last path element only, no control or reserved characters, not too
// long; fallback when nothing is left.
func cleanFileName(name, fallback string) string {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || strings.ContainsRune(`<>:"|?*`, r) {
			return '_'
		}
		return r
	}, strings.ToValidUTF8(name, ""))
	name = strings.TrimSpace(strings.TrimRight(name, " ."))
	if len(name) > 120 {
		ext := path.Ext(name)
		if len(ext) > 10 {
			ext = ""
		}
		base := name[:120-len(ext)]
		for !utf8.ValidString(base) {
			base = base[:len(base)-1]
		}
		name = strings.TrimRight(base, " .") + ext
	}
	if strings.Trim(name, "._ ") == "" {
		return fallback
	}
	return name
}

// mediaName is the name a media gets in the owner's space: the uploaded
// name cleaned, with the extension of its real type.
func mediaName(name string, t mediaType) string {
	name = cleanFileName(name, "média")
	if path.Ext(name) == "" || !slices.Contains(t.exts, strings.ToLower(path.Ext(name))) {
		name += t.exts[0]
	}
	return name
}

// mediaFolder is where a production's medias go in its owner's space.
func mediaFolder(pr Production) []string {
	title := strings.NewReplacer("/", "_", `\`, "_").Replace(pr.Title)
	return []string{"Productions", cleanFileName(title, "Production "+docID(pr.ID))}
}

var refEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// newToken is a random reference (medias, share links): unguessable, so
// that a media URL or a share link says nothing about the others.
func newToken() string {
	b := make([]byte, 15)
	_, _ = rand.Read(b)
	return refEncoding.EncodeToString(b)
}

var tokenRe = regexp.MustCompile(`^[a-z2-7]{24}$`)

// MediaURL is where a production's media is served.
func MediaURL(productionID int64, ref string) string {
	return "/productions/" + docID(productionID) + "/medias/" + ref
}

var mediaURLRe = regexp.MustCompile(`^/productions/([0-9]+)/medias/([a-z2-7]{24})$`)

// mediaRefOf returns the reference of a URL of production id's medias.
func mediaRefOf(id int64, u string) (string, bool) {
	m := mediaURLRe.FindStringSubmatch(u)
	if m == nil || m[1] != docID(id) {
		return "", false
	}
	return m[2], true
}

// limitedReader fails with errMediaTooLarge past MaxMediaBytes, so that an
// oversized upload stops early and leaves nothing behind.
type limitedReader struct {
	r io.Reader
	n int64
}

func (l *limitedReader) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	l.n += int64(n)
	if l.n > MaxMediaBytes {
		return n, errMediaTooLarge
	}
	return n, err
}

// UploadMedia stores a file in the production (contributors and up), in
// its owner's personal space.
func (s *Service) UploadMedia(ctx context.Context, p *auth.Principal, id int64, name string, r io.Reader) (Media, error) {
	pr, err := s.load(ctx, p, id, RoleContribute)
	if err != nil {
		return Media{}, err
	}
	if pr.Trashed {
		return Media{}, problem.Forbidden()
	}
	return s.storeMedia(ctx, pr, p.User.ID, name, r)
}

func (s *Service) storeMedia(ctx context.Context, pr Production, by int64, name string, r io.Reader) (Media, error) {
	if s.media == nil {
		return Media{}, errMediaUnavailable
	}
	br := bufio.NewReaderSize(r, 512)
	head, err := br.Peek(512)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return Media{}, fmt.Errorf("read media: %w", err)
	}
	if len(head) == 0 {
		return Media{}, errMediaNoFile
	}
	t, err := sniffMedia(name, head)
	if err != nil {
		return Media{}, err
	}
	f, err := s.media.Put(ctx, pr.OwnerID, mediaFolder(pr), mediaName(name, t), &limitedReader{r: br})
	if err != nil {
		return Media{}, err
	}
	ref := newToken()
	if _, err := s.db.ExecContext(ctx, `INSERT INTO production_media (production_id, ref, owner_id, file_id, name, content_type, size, created_by, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, pr.ID, ref, pr.OwnerID, f.ID, f.Name, t.contentType, f.Size, by, s.now().UTC()); err != nil {
		return Media{}, fmt.Errorf("insert media: %w", err)
	}
	s.log.Info("production media stored", "production", pr.ID, "type", t.contentType, "size", f.Size)
	return Media{URL: MediaURL(pr.ID, ref), Name: f.Name, ContentType: t.contentType, Size: f.Size}, nil
}

// Media opens a production's media for someone who may read the
// production. A reference of another production is not found.
func (s *Service) Media(ctx context.Context, p *auth.Principal, id int64, ref string) (MediaFile, error) {
	pr, err := s.Get(ctx, p, id)
	if err != nil {
		return MediaFile{}, err
	}
	return s.openMedia(ctx, pr, ref)
}

func (s *Service) openMedia(ctx context.Context, pr Production, ref string) (MediaFile, error) {
	if !tokenRe.MatchString(ref) || s.media == nil {
		return MediaFile{}, errMediaNotFound
	}
	var owner, file int64
	var m MediaFile
	err := s.db.QueryRowContext(ctx, `SELECT owner_id, file_id, name, content_type, size FROM production_media
		WHERE production_id = ? AND ref = ?`, pr.ID, ref).Scan(&owner, &file, &m.Name, &m.ContentType, &m.Size)
	if errors.Is(err, sql.ErrNoRows) {
		return MediaFile{}, errMediaNotFound
	}
	if err != nil {
		return MediaFile{}, fmt.Errorf("find media: %w", err)
	}
	body, f, err := s.media.Open(ctx, owner, file)
	if err != nil {
		if e, ok := problem.As(err); ok && e.Status == http.StatusNotFound {
			return MediaFile{}, errMediaNotFound // deleted from the owner's space
		}
		return MediaFile{}, err
	}
	m.URL, m.Size, m.ModTime, m.Body = MediaURL(pr.ID, ref), f.Size, f.ModTime, body
	return m, nil
}

// picture is an image's bytes, to embed in a document.
type picture struct {
	contentType string
	data        []byte
}

// maxEmbeddedBytes bounds what one export embeds: beyond, images stay
// links, so that an export never holds unbounded memory.
const maxEmbeddedBytes = 200 << 20

// pictures reads the images of this production that a content shows, by
// URL, to embed them in an export. An image that cannot be read (deleted
// since) is left out: the export keeps its link.
func (s *Service) pictures(ctx context.Context, pr Production, c Content) map[string]picture {
	out := map[string]picture{}
	total := 0
	for _, b := range allBlocks(c) {
		if b.Type != "image" || out[b.Src].data != nil {
			continue
		}
		ref, ok := mediaRefOf(pr.ID, b.Src)
		if !ok {
			continue
		}
		m, err := s.openMedia(ctx, pr, ref)
		if err != nil {
			s.log.Warn("media not embedded", "production", pr.ID, "ref", ref, "err", err)
			continue
		}
		data, err := io.ReadAll(io.LimitReader(m.Body, MaxMediaBytes+1))
		m.Body.Close()
		if err != nil || len(data) > MaxMediaBytes || !strings.HasPrefix(m.ContentType, "image/") || total+len(data) > maxEmbeddedBytes {
			continue
		}
		total += len(data)
		out[b.Src] = picture{contentType: m.ContentType, data: data}
	}
	return out
}

// allBlocks lists the blocks of a pad or of every wiki page.
func allBlocks(c Content) []Block {
	out := slices.Clone(c.Blocks)
	for _, p := range c.Pages {
		out = append(out, p.Blocks...)
	}
	return out
}

// storePictures stores the pictures an imported file embeds as medias of
// the new production, and points the image blocks at them. A picture that
// is refused (not an image we serve, too large) leaves its block without
// source, dropped by sanitize; over the owner's quota, the import fails.
func (s *Service) storePictures(ctx context.Context, pr Production, by int64, c *Content, pics map[string][]byte) error {
	stored := map[string]string{}
	rewrite := func(blocks []Block) error {
		for i := range blocks {
			b := &blocks[i]
			data, ok := pics[b.Src]
			if b.Type != "image" || !ok {
				continue
			}
			if u, done := stored[b.Src]; done {
				b.Src = u
				continue
			}
			m, err := s.storeMedia(ctx, pr, by, path.Base(b.Src), bytes.NewReader(data))
			if refusedPicture(err) {
				s.log.Warn("imported picture left out", "production", pr.ID, "picture", b.Src, "err", err)
				stored[b.Src], b.Src = "", ""
				continue
			}
			if err != nil {
				return err // the owner's quota, the storage: the import fails
			}
			stored[b.Src], b.Src = m.URL, m.URL
		}
		return nil
	}
	if err := rewrite(c.Blocks); err != nil {
		return err
	}
	for i := range c.Pages {
		if err := rewrite(c.Pages[i].Blocks); err != nil {
			return err
		}
	}
	return nil
}

// refusedPicture reports an embedded picture that is not a media we keep
// (its block is left out of the import, the rest goes on).
func refusedPicture(err error) bool {
	for _, e := range []error{errMediaType, errMediaMismatch, errMediaTooLarge, errMediaNoFile, errMediaUnavailable} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// mediaDisposition is an inline Content-Disposition with a name safe in a
// header: ASCII only in filename, the real name in filename* (RFC 6266).
func mediaDisposition(name string) string {
	ascii := strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' || r == ';' {
			return '_'
		}
		return r
	}, name)
	return `inline; filename="` + ascii + `"; filename*=UTF-8''` + urlPathEscape(name)
}

func urlPathEscape(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-._~", c) >= 0 {
			b.WriteByte(c)
		} else {
			b.WriteString("%" + strings.ToUpper(strconv.FormatInt(int64(c)|0x100, 16)[1:]))
		}
	}
	return b.String()
}

// apiUploadMedia is POST /api/v1/productions/{id}/media: a multipart form
// whose field "file" is the media.
func (h *Handler) apiUploadMedia(w http.ResponseWriter, r *http.Request) error {
	p, id, err := userAndID(r)
	if err != nil {
		return err
	}
	// The session middleware may have parsed the form already (CSRF token
	// in a field); otherwise the body is bounded here, files beyond 8 MB
	// spooled to disk.
	r.Body = http.MaxBytesReader(w, r.Body, MaxMediaBytes+1<<20)
	if err := r.ParseMultipartForm(8 << 20); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return errMediaTooLarge.Wrap(err)
		}
		return errMediaNoFile.Wrap(err)
	}
	f, fh, err := r.FormFile("file")
	if err != nil {
		return errMediaNoFile
	}
	defer f.Close()
	if fh.Size > MaxMediaBytes {
		return errMediaTooLarge
	}
	m, err := h.svc.UploadMedia(r.Context(), p, id, fh.Filename, f)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusCreated, m)
}

// mediaFile is GET /productions/{id}/medias/{ref}: the media, to the people
// who may read the production. Ranges are served (audio and video seek).
func (h *Handler) mediaFile(w http.ResponseWriter, r *http.Request) error {
	p, id, err := userAndID(r)
	if err != nil {
		return err
	}
	m, err := h.svc.Media(r.Context(), p, id, r.PathValue("ref"))
	if err != nil {
		return err
	}
	defer m.Body.Close()
	hd := w.Header()
	hd.Set("Content-Type", m.ContentType)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Content-Disposition", mediaDisposition(m.Name))
	// Opened directly, the file is never a page that runs anything.
	hd.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	// A reference always names the same bytes; access is checked on each
	// request the browser makes after a day.
	hd.Set("Cache-Control", "private, max-age=86400")
	http.ServeContent(w, r, "", m.ModTime, m.Body)
	return nil
}
