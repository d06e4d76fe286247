package production

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"socle/internal/platform/auth"
	"socle/internal/platform/problem"
	"socle/internal/platform/web"
)

// Handler serves the productions pages and API.
type Handler struct {
	svc    *Service
	render *web.Renderer
	// modules are, per kind, the script chunks its editor imports
	// (static/editor/modules.json, written by the bundle's build).
	modules map[string][]string
}

// NewHandler builds the handler. static holds the editors' bundle, whose
// chunks the editor page asks for at once.
func NewHandler(svc *Service, render *web.Renderer, static fs.FS) (*Handler, error) {
	h := &Handler{svc: svc, render: render}
	raw, err := fs.ReadFile(static, "editor/modules.json")
	if err != nil {
		return nil, fmt.Errorf("editors' modules: %w", err)
	}
	if err := json.Unmarshal(raw, &h.modules); err != nil {
		return nil, fmt.Errorf("editors' modules: %w", err)
	}
	return h, nil
}

// Routes mounts the pages and the API. The teachers' assignments live
// under /travaux so that their paths never clash with /productions/{id}.
func (h *Handler) Routes(r *web.Router) {
	r.Handle("GET /productions", h.listPage)
	r.Handle("POST /productions", h.createForm)
	r.Handle("POST /productions/importer", h.importForm)
	r.Handle("GET /productions/{id}", h.showPage)
	r.Handle("GET /productions/{id}/editer", h.editorPage)
	r.Handle("GET /productions/{id}/export", h.exportFile)
	r.Handle("GET /productions/{id}/medias/{ref}", h.mediaFile)
	r.Handle("GET /productions/{id}/versions", h.versionsPage)
	r.Handle("POST /productions/{id}/versions", h.saveVersionForm)
	r.Handle("GET /productions/{id}/versions/{version}", h.versionPage)
	r.Handle("GET /productions/{id}/versions/{version}/export", h.versionExportFile)
	r.Handle("POST /productions/{id}/versions/{version}/restaurer", h.restoreVersionForm)
	r.Handle("POST /productions/{id}/renommer", h.renameForm)
	r.Handle("POST /productions/{id}/commentaires", h.followUpForm)
	r.Handle("POST /productions/{id}/corbeille", h.trashForm)
	r.Handle("POST /productions/{id}/restaurer", h.restoreForm)
	r.Handle("POST /productions/{id}/partages", h.shareForm)
	r.Handle("POST /productions/{id}/partages/{share}/retirer", h.revokeForm)
	r.Handle("POST /productions/{id}/liens", h.createLinkForm)
	r.Handle("POST /productions/{id}/liens/{link}/retirer", h.revokeLinkForm)
	r.Handle("GET /partage/{token}", h.followLinkPage)
	r.Handle("GET /travaux", h.assignmentsPage)
	r.Handle("POST /travaux", h.assignForm)
	r.Handle("GET /travaux/{id}", h.assignmentPage)
	r.Handle("GET /travaux/{id}/collecte", h.collectFile)
	r.Handle("POST /travaux/{id}/equipes/{team}/commencer", h.startForm)
	h.apiRoutes(r)
}

// userAndID is the signed-in caller and the production named in the path.
func userAndID(r *http.Request) (*auth.Principal, int64, error) {
	p, err := web.RequireUser(r)
	if err != nil {
		return nil, 0, err
	}
	id, err := web.PathID(r, "id", "Production")
	return p, id, err
}

type kindOption struct {
	Kind  Kind
	Label string
}

func kindOptions() []kindOption {
	out := make([]kindOption, 0, len(Kinds))
	for _, k := range Kinds {
		out = append(out, kindOption{k, k.Label()})
	}
	return out
}

type importOption struct {
	Value, Label string
}

func importOptions() []importOption {
	var out []importOption
	for _, k := range Kinds {
		for _, f := range FormatsOf(k) {
			out = append(out, importOption{string(k) + ":" + f.Key, k.Label() + " — " + f.Label})
		}
	}
	return out
}

type listView struct {
	Lists   Lists
	Trash   bool
	Query   string
	Kinds   []kindOption
	Imports []importOption
	Flash   string
}

func (h *Handler) listPage(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	trash := r.URL.Query().Get("corbeille") == "1"
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	l, err := h.list(r, p, trash, q)
	if err != nil {
		return err
	}
	return h.render.Render(w, r, http.StatusOK, "production/list", "Productions collaboratives",
		listView{Lists: l, Trash: trash, Query: q, Kinds: kindOptions(), Imports: importOptions(), Flash: r.URL.Query().Get("ok")})
}

// list is the caller's productions, or those matching q.
func (h *Handler) list(r *http.Request, p *auth.Principal, trash bool, q string) (Lists, error) {
	if q != "" && !trash {
		return h.svc.Search(r.Context(), p, q)
	}
	return h.svc.List(r.Context(), p, trash)
}

func redirect(w http.ResponseWriter, r *http.Request, path, flash string) error {
	if flash != "" {
		path += "?ok=" + url.QueryEscape(flash)
	}
	http.Redirect(w, r, path, http.StatusSeeOther)
	return nil
}

func (h *Handler) createForm(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	pr, err := h.svc.Create(r.Context(), p, NewProduction{Kind: Kind(r.PostFormValue("kind")), Title: r.PostFormValue("title")})
	if err != nil {
		return err
	}
	return redirect(w, r, "/productions/"+docID(pr.ID), "Production créée.")
}

func (h *Handler) importForm(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	r.Body = http.MaxBytesReader(w, r.Body, MaxImportBytes+1<<20)
	if err := r.ParseMultipartForm(8 << 20); err != nil {
		return problem.Invalid("import_invalid", "Fichier illisible : envoi incomplet ou trop volumineux (20 Mo au plus).").Wrap(err)
	}
	kind, format, _ := strings.Cut(r.PostFormValue("format"), ":")
	f, _, err := r.FormFile("file")
	if err != nil {
		return problem.Invalid("import_no_file", "Choisissez un fichier à importer.").Field("file", "Fichier obligatoire.")
	}
	defer f.Close()
	pr, err := h.svc.Import(r.Context(), p, Kind(kind), format, r.PostFormValue("title"), f)
	if err != nil {
		return err
	}
	return redirect(w, r, "/productions/"+docID(pr.ID), "Production importée.")
}

type shareRole struct {
	Role  Role
	Label string
}

type showView struct {
	Detail     Detail
	Content    Content
	Formats    []Format
	CanWrite   bool
	CanManage  bool
	IsOwner    bool
	IsWide     bool // shares beyond the communication rules (teachers)
	Roles      []shareRole
	Flash      string
	KindLabel  string
	Assignment *int64
	FollowUps  []FollowUp
	Links      []Link
	// SiteURL prefixes the links' paths, for people to copy them whole.
	SiteURL string
}

func (h *Handler) showPage(w http.ResponseWriter, r *http.Request) error {
	p, id, err := userAndID(r)
	if err != nil {
		return err
	}
	d, err := h.svc.Detail(r.Context(), p, id)
	if err != nil {
		return err
	}
	_, c, err := h.svc.Content(r.Context(), p, id)
	if err != nil {
		return err
	}
	v := showView{Detail: d, Content: c, Formats: FormatsOf(d.Kind), CanWrite: d.Role.rank() >= RoleContribute.rank(),
		CanManage: d.Role.rank() >= RoleManage.rank(), IsOwner: d.Role == RoleOwner, IsWide: wide(p), Flash: r.URL.Query().Get("ok"),
		KindLabel: d.Kind.Label(), Assignment: d.AssignmentID}
	if !v.CanManage {
		v.Detail.Shares = nil
	} else if v.Links, err = h.svc.Links(r.Context(), p, id); err != nil {
		return err
	}
	v.SiteURL = siteURL(r)
	if v.CanWrite {
		if v.FollowUps, err = h.svc.FollowUps(r.Context(), p, id); err != nil {
			return err
		}
	}
	for _, ro := range []Role{RoleRead, RoleContribute, RoleManage} {
		v.Roles = append(v.Roles, shareRole{ro, ro.Label()})
	}
	return h.render.Render(w, r, http.StatusOK, "production/show", d.Title, v)
}

type editorView struct {
	Detail    Detail
	Preload   []string // the editor's chunks, under /static/editor/
	KindLabel string
	CanWrite  bool
	CanManage bool
	UserName  string
}

// editorPage mounts the browser's real-time editor (web/static/editor/)
// on the production's Yjs document; readers get it read-only, and the
// collaboration engine refuses their writes anyway.
func (h *Handler) editorPage(w http.ResponseWriter, r *http.Request) error {
	p, id, err := userAndID(r)
	if err != nil {
		return err
	}
	d, err := h.svc.Detail(r.Context(), p, id)
	if err != nil {
		return err
	}
	if d.Kind == Blog && d.Role == RoleRead {
		// Readers of a blog read what was published, not the drafts.
		http.Redirect(w, r, "/productions/"+strconv.FormatInt(d.ID, 10), http.StatusSeeOther)
		return nil
	}
	d.Shares = nil
	return h.render.Render(w, r, http.StatusOK, "production/editor", "Éditer : "+d.Title,
		editorView{Detail: d, KindLabel: d.Kind.Label(), UserName: p.User.DisplayName, Preload: h.modules[string(d.Kind)],
			CanWrite:  d.Role.rank() >= RoleContribute.rank() && !d.Trashed,
			CanManage: d.Role.rank() >= RoleManage.rank() && !d.Trashed})
}

func (h *Handler) exportFile(w http.ResponseWriter, r *http.Request) error {
	p, id, err := userAndID(r)
	if err != nil {
		return err
	}
	ex, err := h.svc.Export(r.Context(), p, id, r.URL.Query().Get("format"))
	if err != nil {
		return err
	}
	return download(w, ex.ContentType, ex.Filename, ex.Data)
}

func (h *Handler) renameForm(w http.ResponseWriter, r *http.Request) error {
	p, id, err := userAndID(r)
	if err != nil {
		return err
	}
	if _, err := h.svc.Rename(r.Context(), p, id, r.PostFormValue("title")); err != nil {
		return err
	}
	return redirect(w, r, "/productions/"+docID(id), "Titre modifié.")
}

func (h *Handler) trashForm(w http.ResponseWriter, r *http.Request) error {
	p, id, err := userAndID(r)
	if err != nil {
		return err
	}
	if err := h.svc.Trash(r.Context(), p, id); err != nil {
		return err
	}
	return redirect(w, r, "/productions", "Production placée dans la corbeille.")
}

func (h *Handler) restoreForm(w http.ResponseWriter, r *http.Request) error {
	p, id, err := userAndID(r)
	if err != nil {
		return err
	}
	if _, err := h.svc.Restore(r.Context(), p, id); err != nil {
		return err
	}
	return redirect(w, r, "/productions/"+docID(id), "Production restaurée.")
}

func (h *Handler) shareForm(w http.ResponseWriter, r *http.Request) error {
	p, id, err := userAndID(r)
	if err != nil {
		return err
	}
	target, err := strconv.ParseInt(strings.TrimSpace(r.PostFormValue("target_id")), 10, 64)
	if err != nil {
		return errBadTarget.Field("target_id", "Indiquez le numéro de la personne, de la classe ou du groupe.")
	}
	if _, err := h.svc.Share(r.Context(), p, id, NewShare{TargetKind: r.PostFormValue("target_kind"), TargetID: target,
		Role: Role(r.PostFormValue("role"))}); err != nil {
		return err
	}
	return redirect(w, r, "/productions/"+docID(id), "Partage enregistré.")
}

func (h *Handler) revokeForm(w http.ResponseWriter, r *http.Request) error {
	p, id, err := userAndID(r)
	if err != nil {
		return err
	}
	sid, err := web.PathID(r, "share", "Partage")
	if err != nil {
		return err
	}
	if err := h.svc.Revoke(r.Context(), p, id, sid); err != nil {
		return err
	}
	return redirect(w, r, "/productions/"+docID(id), "Partage retiré.")
}

type assignmentsView struct {
	Assignments []Assignment
	CanAssign   bool
	Groups      []Group
	Kinds       []kindOption
	Flash       string
}

func (h *Handler) assignmentsPage(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	as, err := h.svc.Assignments(r.Context(), p)
	if err != nil {
		return err
	}
	v := assignmentsView{Assignments: as, CanAssign: p.Has(auth.PermAssignmentCreate), Kinds: kindOptions(), Flash: r.URL.Query().Get("ok")}
	if v.CanAssign {
		if v.Groups, err = h.svc.AssignableGroups(r.Context(), p); err != nil {
			return err
		}
	}
	return h.render.Render(w, r, http.StatusOK, "production/assignments", "Travaux demandés", v)
}

func parseIDs(s string) ([]int64, error) {
	var out []int64
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == ';' || r == '\n' || r == '\r' }) {
		id, err := strconv.ParseInt(f, 10, 64)
		if err != nil || id <= 0 {
			return nil, problem.Invalid("assignment_invalid_pupils", "Numéros d'élèves invalides : séparez-les par des virgules.").Field("pupil_ids", "Numéros séparés par des virgules.")
		}
		out = append(out, id)
	}
	return out, nil
}

func (h *Handler) assignForm(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	in := NewAssignment{Title: r.PostFormValue("title"), Instructions: r.PostFormValue("instructions"), Kind: Kind(r.PostFormValue("kind")),
		Mode: r.PostFormValue("mode"), Due: r.PostFormValue("due")}
	if g := strings.TrimSpace(r.PostFormValue("group_id")); g != "" {
		if in.GroupID, err = strconv.ParseInt(g, 10, 64); err != nil {
			return errNoAssignee.Field("group_id", "Numéro de classe ou de groupe invalide.")
		}
	}
	if in.PupilIDs, err = parseIDs(r.PostFormValue("pupil_ids")); err != nil {
		return err
	}
	if n := strings.TrimSpace(r.PostFormValue("team_size")); n != "" {
		in.TeamSize, _ = strconv.Atoi(n)
	}
	a, err := h.svc.Assign(r.Context(), p, in)
	if err != nil {
		return err
	}
	return redirect(w, r, "/travaux/"+strconv.FormatInt(a.ID, 10), "Travail demandé : les élèves sont prévenus.")
}

type assignmentView struct {
	Assignment Assignment
	IsTeacher  bool
	KindLabel  string
	Kinds      []kindOption
	Flash      string
	Started    int
}

func (h *Handler) assignmentPage(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	id, err := web.PathID(r, "id", "Travail demandé")
	if err != nil {
		return err
	}
	a, err := h.svc.Assignment(r.Context(), p, id)
	if err != nil {
		return err
	}
	v := assignmentView{Assignment: a, IsTeacher: a.TeacherID == p.User.ID, Kinds: kindOptions(), Flash: r.URL.Query().Get("ok")}
	if a.Kind != "" {
		v.KindLabel = a.Kind.Label()
	}
	for _, t := range a.Teams {
		if t.ProductionID != nil {
			v.Started++
		}
	}
	return h.render.Render(w, r, http.StatusOK, "production/assignment", a.Title, v)
}

func (h *Handler) collectFile(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	id, err := web.PathID(r, "id", "Travail demandé")
	if err != nil {
		return err
	}
	// Built in memory first: an error half-way must not send half a zip.
	var buf bytes.Buffer
	if err := h.svc.Collect(r.Context(), p, id, &buf); err != nil {
		return err
	}
	return download(w, "application/zip", "travaux-"+strconv.FormatInt(id, 10)+".zip", buf.Bytes())
}

func (h *Handler) startForm(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	id, err := web.PathID(r, "id", "Travail demandé")
	if err != nil {
		return err
	}
	team, err := web.PathID(r, "team", "Équipe")
	if err != nil {
		return err
	}
	pr, err := h.svc.StartTeamProduction(r.Context(), p, id, team, Kind(r.PostFormValue("kind")))
	if err != nil {
		return err
	}
	return redirect(w, r, "/productions/"+docID(pr.ID), "Production commencée.")
}

func (h *Handler) followUpForm(w http.ResponseWriter, r *http.Request) error {
	p, id, err := userAndID(r)
	if err != nil {
		return err
	}
	if _, err := h.svc.AddFollowUp(r.Context(), p, id, r.PostFormValue("body")); err != nil {
		return err
	}
	return redirect(w, r, "/productions/"+docID(id), "Commentaire envoyé.")
}

// siteURL is the address the person reached the ENT at.
func siteURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https" {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}
