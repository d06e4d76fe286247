package territory

import (
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"

	"socle/internal/platform/auth"
	"socle/internal/platform/csvimport"
	"socle/internal/platform/problem"
	"socle/internal/platform/web"
)

// DefaultMaxUpload bounds an import file sent through the web form: the
// national files, even for the whole country, run to tens of megabytes,
// and a bound keeps a wrong upload from filling the server's disk.
const DefaultMaxUpload = 200 << 20

// maxRejectedShown bounds the rejected lines (and the notes) listed on a
// report page: a wrong file can reject every one of its tens of thousands
// of lines, and a page that long helps nobody (the command line's --json
// gives them all).
const maxRejectedShown = 500

// importHints say in a few words what each data set brings.
var importHints = map[ImportKind]string{
	ImportAnnuaire:      "établissements, adresses, rattachements",
	ImportEffectifs:     "écoles, collèges ou second degré, par année scolaire",
	ImportCalendrier:    "vacances scolaires par zone",
	ImportCarteScolaire: "collège de secteur par commune et par rue",
}

func (h *Handler) importRoutes(r *web.Router) {
	r.Handle("GET /imports", h.importsPage)
	r.Handle("POST /imports", h.importUpload)
	r.Handle("GET /imports/{id}", h.importReport)
}

// mayImport lets through the platform administrators only: imports write
// national data for everybody, so a grant on part of the tree is not enough.
func mayImport(r *http.Request) (*auth.Principal, error) {
	p, err := web.RequireUser(r)
	if err != nil {
		return nil, err
	}
	if !p.Global(auth.PermImport) {
		return nil, problem.Forbidden()
	}
	return p, nil
}

type importKindOption struct {
	Value, Label, Hint string
	Selected           bool
}

type importsView struct {
	Kinds       []importKindOption
	SkipInvalid bool
	Error       string
	MaxUpload   string
	Runs        []ImportRunRecord
}

func (h *Handler) importsPage(w http.ResponseWriter, r *http.Request) error {
	p, err := mayImport(r)
	if err != nil {
		return err
	}
	return h.renderImports(w, r, p, http.StatusOK, "", false, "")
}

// renderImports shows the import form, again with the person's choices and
// an error when an upload failed.
func (h *Handler) renderImports(w http.ResponseWriter, r *http.Request, p *auth.Principal, status int, kind ImportKind, skip bool, msg string) error {
	runs, err := h.svc.ImportRuns(r.Context(), p, 50)
	if err != nil {
		return err
	}
	v := importsView{SkipInvalid: skip, Error: msg, MaxUpload: formatSize(h.maxUpload)}
	for _, k := range ImportKinds() {
		v.Kinds = append(v.Kinds, importKindOption{Value: string(k), Label: k.Label(), Hint: importHints[k], Selected: k == kind})
	}
	v.Runs = runs
	return h.render.Render(w, r, status, "territory/imports", "Imports", v)
}

// formatSize writes a size limit the French way (Mo, Ko).
func formatSize(n int64) string {
	if n >= 1<<20 {
		return web.FormatNumber(int(n>>20)) + " Mo"
	}
	return web.FormatNumber(int(max(n>>10, 1))) + " Ko"
}

// errTooLarge is returned by the upload reader past the size bound. It is
// a problem for the user, not an internal failure, so that the import
// records it as a refused file with this message.
var errTooLarge = problem.New(http.StatusRequestEntityTooLarge, "upload_too_large",
	"Le fichier dépasse la taille maximale d'un import par le navigateur ; rien n'a été écrit.")

// limitedReader reads at most n bytes and fails beyond, so that an import
// never takes a truncated file for a whole one.
type limitedReader struct {
	r io.Reader
	n int64
}

func (l *limitedReader) Read(b []byte) (int, error) {
	if l.n < 0 {
		return 0, errTooLarge
	}
	if int64(len(b)) > l.n+1 {
		b = b[:l.n+1]
	}
	k, err := l.r.Read(b)
	l.n -= int64(k)
	if l.n < 0 {
		return k, errTooLarge
	}
	return k, err
}

// uploadForm is what the import form sends besides the file.
type uploadForm struct {
	kind ImportKind
	skip bool
}

func (f *uploadForm) set(name, value string) {
	switch name {
	case "kind":
		f.kind = ImportKind(strings.TrimSpace(value))
	case "skip_invalid":
		f.skip = value != ""
	}
}

// importUpload runs an import sent through the form. The file is never
// held whole in memory: when the CSRF check has already parsed the form,
// net/http has spooled the file to a temporary file; otherwise the parts
// are read as they arrive and the file part is handed to the import as a
// stream (the form puts the file last for that).
func (h *Handler) importUpload(w http.ResponseWriter, r *http.Request) error {
	p, err := mayImport(r)
	if err != nil {
		return err
	}
	var form uploadForm
	tooLarge := func() error {
		return h.renderImports(w, r, p, http.StatusRequestEntityTooLarge, form.kind, form.skip,
			"Le fichier est trop volumineux : la taille maximale d'un import par le navigateur est de "+
				formatSize(h.maxUpload)+". Pour un fichier plus gros, utilisez la commande « socle import » sur le serveur.")
	}
	// A little room above the file for the other fields and the multipart
	// framing.
	if r.ContentLength > h.maxUpload+64<<10 {
		return tooLarge()
	}
	var runID int64
	if r.MultipartForm != nil {
		for name, vals := range r.MultipartForm.Value {
			if len(vals) > 0 {
				form.set(name, vals[0])
			}
		}
		fhs := r.MultipartForm.File["file"]
		if len(fhs) == 0 || fhs[0].Filename == "" {
			return h.renderImports(w, r, p, http.StatusBadRequest, form.kind, form.skip, "Choisissez le fichier CSV à importer.")
		}
		if fhs[0].Size > h.maxUpload {
			return tooLarge()
		}
		f, err := fhs[0].Open()
		if err != nil {
			return fmt.Errorf("open uploaded file: %w", err)
		}
		defer f.Close()
		runID, err = h.runImport(r, p, form, fhs[0].Filename, f)
		if err != nil && (runID == 0 || isTooLarge(err)) {
			return h.importFailed(w, r, p, form, err, tooLarge)
		}
	} else {
		r.Body = http.MaxBytesReader(w, r.Body, h.maxUpload+64<<10)
		mr, err := r.MultipartReader()
		if err != nil {
			return problem.Invalid("invalid_form", "Formulaire d'import invalide : envoyez-le depuis la page « Imports ».").Wrap(err)
		}
		for runID == 0 {
			part, err := mr.NextPart()
			if errors.Is(err, io.EOF) {
				break
			}
			if isTooLarge(err) {
				return tooLarge()
			}
			if err != nil {
				return problem.Invalid("invalid_form", "Formulaire d'import illisible.").Wrap(err)
			}
			if part.FormName() != "file" {
				form.set(part.FormName(), readField(part))
				continue
			}
			if part.FileName() == "" {
				continue
			}
			runID, err = h.runImport(r, p, form, part.FileName(), part)
			if err != nil && (runID == 0 || isTooLarge(err)) {
				return h.importFailed(w, r, p, form, err, tooLarge)
			}
			break
		}
		if runID == 0 {
			return h.renderImports(w, r, p, http.StatusBadRequest, form.kind, form.skip, "Choisissez le fichier CSV à importer.")
		}
	}
	// Every recorded run has its report page, rows rejected or file
	// refused as a whole: that page says what happened and what to fix.
	http.Redirect(w, r, "/imports/"+strconv.FormatInt(runID, 10), http.StatusSeeOther)
	return nil
}

// readField reads a small form field; more than a few bytes is not one of
// ours and is cut.
func readField(part *multipart.Part) string {
	b, _ := io.ReadAll(io.LimitReader(part, 256))
	return string(b)
}

// runImport runs the import and returns the id of its record (0 when the
// import could not start, for a data set not chosen or a refusal before
// anything was recorded).
func (h *Handler) runImport(r *http.Request, p *auth.Principal, form uploadForm, filename string, body io.Reader) (int64, error) {
	if !form.kind.Valid() {
		return 0, problem.Invalid("invalid_kind", "Choisissez le jeu de données à importer.")
	}
	rep, err := h.svc.Import(r.Context(), p, form.kind, &limitedReader{r: body, n: h.maxUpload},
		ImportOptions{SkipInvalid: form.skip, Filename: filepath.Base(filename)})
	if rep == nil {
		return 0, err
	}
	if err == nil && rep.RunID == 0 {
		// The import went through but its record failed (the service has
		// logged why): say so rather than show a report that is not there.
		return 0, problem.New(http.StatusInternalServerError, "import_unrecorded",
			"L'import a été fait, mais son rapport n'a pas pu être enregistré. L'équipe technique a été prévenue.")
	}
	return rep.RunID, err
}

func isTooLarge(err error) bool {
	var tooBig *http.MaxBytesError
	return errors.Is(err, errTooLarge) || errors.As(err, &tooBig)
}

// importFailed shows the form again with the reason when the import could
// not run at all (unknown file layout, file too large); other failures are
// internal errors.
func (h *Handler) importFailed(w http.ResponseWriter, r *http.Request, p *auth.Principal, form uploadForm, err error, tooLarge func() error) error {
	if isTooLarge(err) {
		return tooLarge()
	}
	if pe, ok := problem.As(err); ok && pe.Status < 500 {
		return h.renderImports(w, r, p, pe.Status, form.kind, form.skip, pe.Message)
	}
	return err
}

type importReportView struct {
	Run       ImportRunRecord
	KindLabel string
	// Written is whether anything of the file was kept.
	Written bool
	RunBy   string
	// Rejected and Notes are the lists shown, bounded; the totals count
	// every row.
	Rejected      []csvimport.Rejection
	RejectedTotal int
	Notes         []csvimport.Note
	NotesTotal    int
}

// importReport shows what an import did.
func (h *Handler) importReport(w http.ResponseWriter, r *http.Request) error {
	p, err := mayImport(r)
	if err != nil {
		return err
	}
	id, err := web.PathID(r, "id", "Import")
	if err != nil {
		return err
	}
	ctx := r.Context()
	run, err := h.svc.ImportRun(ctx, p, id)
	if err != nil {
		return err
	}
	rep := run.Report
	v := importReportView{Run: run, KindLabel: run.Kind.Label(),
		Written:  run.Status == ImportStatusApplied || run.Status == ImportStatusPartial,
		Rejected: rep.Rejected, RejectedTotal: rep.RejectedCount(), Notes: rep.Notes, NotesTotal: len(rep.Notes) + rep.NotesOmitted}
	if len(v.Rejected) > maxRejectedShown {
		v.Rejected = v.Rejected[:maxRejectedShown]
	}
	if len(v.Notes) > maxRejectedShown {
		v.Notes = v.Notes[:maxRejectedShown]
	}
	switch {
	case run.UserID == 0:
		v.RunBy = "Opérateur local (ligne de commande)"
	case run.UserID == p.User.ID:
		v.RunBy = p.User.DisplayName
	default:
		// The account may have been removed since; the report stays.
		if u, err := h.svc.auth.Store().UserByID(ctx, run.UserID); err == nil {
			v.RunBy = u.DisplayName
		}
	}
	return h.render.Render(w, r, http.StatusOK, "territory/import", "Rapport d'import n° "+strconv.FormatInt(run.ID, 10), v)
}
