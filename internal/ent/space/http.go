package space

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"socle/internal/platform/problem"
	"socle/internal/platform/web"
)

// Handler serves the page "Mes documents" and the space's JSON API.
type Handler struct {
	svc    *Service
	render *web.Renderer
}

// NewHandler builds the handler.
func NewHandler(svc *Service, render *web.Renderer) *Handler {
	return &Handler{svc: svc, render: render}
}

// Routes mounts the pages and API routes. WebDAV is apart (NewDAV): it is
// mounted on "/dav/" outside the session middleware.
func (h *Handler) Routes(r *web.Router) {
	r.Handle("GET /documents", h.page)
	r.Handle("POST /documents/televerser", h.upload)
	r.Handle("POST /documents/dossiers", h.mkdir)
	r.Handle("GET /documents/fichiers/{id}", h.download)
	r.Handle("POST /documents/{id}/supprimer", h.trash)
	r.Handle("GET /documents/corbeille", h.trashPage)
	r.Handle("POST /documents/corbeille/{id}/restaurer", h.restore)
	r.Handle("POST /documents/corbeille/{id}/purger", h.purge)
	h.apiRoutes(r)
}

// space is the space a request names: "espace" (pages, query or form) or
// "space" (API query), absent for the personal space. Membership of a
// shared space is checked by the service on every request.
func (h *Handler) space(r *http.Request) (Space, error) {
	p, err := web.RequireUser(r)
	if err != nil {
		return Space{}, err
	}
	v := r.FormValue("espace")
	if v == "" {
		v = r.URL.Query().Get("space")
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if v != "" && (err != nil || id < 0) {
		return Space{}, errNoSpace
	}
	return h.svc.SpaceByID(r.Context(), p, id)
}

// spaceQuery is the query parameter that keeps a page in its space
// ("&espace=12"), empty for the personal space.
func spaceQuery(sp Space) string {
	if !sp.Shared() {
		return ""
	}
	return "&espace=" + strconv.FormatInt(sp.ID, 10)
}

// title is the heading of a space's pages.
func title(sp Space) string {
	if !sp.Shared() {
		return "Mes documents"
	}
	return "Documents — " + sp.KindLabel() + " " + sp.Name
}

// folderParam reads an optional folder id (0: the root).
func folderParam(v string) (int64, error) {
	if v == "" {
		return 0, nil
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id < 0 {
		return 0, problem.NotFound("Dossier")
	}
	return id, nil
}

type listView struct {
	Space   Space
	Spaces  []Space
	Folder  Node
	Items   []Node
	Percent int
	Flash   string
	Title   string
}

func (h *Handler) page(w http.ResponseWriter, r *http.Request) error {
	sp, err := h.space(r)
	if err != nil {
		return err
	}
	fid, err := folderParam(r.URL.Query().Get("dossier"))
	if err != nil {
		return err
	}
	folder, err := h.svc.Node(r.Context(), sp, fid)
	if err != nil {
		return err
	}
	items, err := h.svc.List(r.Context(), sp, fid)
	if err != nil {
		return err
	}
	spaces, err := h.svc.Spaces(r.Context(), web.PrincipalFrom(r.Context()))
	if err != nil {
		return err
	}
	v := listView{Space: sp, Spaces: spaces, Folder: folder, Items: items, Flash: r.URL.Query().Get("ok"),
		Title: title(sp)}
	if sp.Quota > 0 {
		v.Percent = int(min(100, sp.Used*100/sp.Quota))
	}
	return h.render.Render(w, r, http.StatusOK, "space/documents", v.Title, v)
}

func back(w http.ResponseWriter, r *http.Request, sp Space, folder int64, flash string) error {
	u := "/documents?ok=" + url.QueryEscape(flash) + spaceQuery(sp)
	if folder != 0 {
		u += "&dossier=" + strconv.FormatInt(folder, 10)
	}
	http.Redirect(w, r, u, http.StatusSeeOther)
	return nil
}

func (h *Handler) upload(w http.ResponseWriter, r *http.Request) error {
	sp, err := h.space(r)
	if err != nil {
		return err
	}
	fid, err := folderParam(r.FormValue("dossier"))
	if err != nil {
		return err
	}
	// The session middleware already parsed the multipart body, spooling
	// large files to disk; the part is streamed from there.
	f, hdr, err := r.FormFile("fichier")
	if err != nil {
		return problem.Invalid("no_file", "Choisissez un fichier à envoyer.").Field("fichier", "Choisissez un fichier.")
	}
	defer f.Close()
	// Browsers may send a path (old Internet Explorer); keep the last part.
	name := hdr.Filename
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	if _, err := h.svc.PutFile(r.Context(), sp, fid, name, f); err != nil {
		return err
	}
	return back(w, r, sp, fid, "Fichier « "+name+" » enregistré.")
}

func (h *Handler) mkdir(w http.ResponseWriter, r *http.Request) error {
	sp, err := h.space(r)
	if err != nil {
		return err
	}
	fid, err := folderParam(r.FormValue("dossier"))
	if err != nil {
		return err
	}
	name := strings.TrimSpace(r.FormValue("nom"))
	if _, err := h.svc.Mkdir(r.Context(), sp, fid, name); err != nil {
		return err
	}
	return back(w, r, sp, fid, "Dossier « "+name+" » créé.")
}

func (h *Handler) download(w http.ResponseWriter, r *http.Request) error {
	sp, err := h.space(r)
	if err != nil {
		return err
	}
	id, err := web.PathID(r, "id", "Document")
	if err != nil {
		return err
	}
	n, err := h.svc.Node(r.Context(), sp, id)
	if err != nil {
		return err
	}
	rc, err := h.svc.Open(r.Context(), n)
	if err != nil {
		return err
	}
	defer rc.Close()
	w.Header().Set("Content-Type", n.ContentType)
	// Always a download, never rendered in the site's origin: an uploaded
	// HTML or SVG file must not run script as the site.
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename*=UTF-8''%s", url.PathEscape(n.Name)))
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("ETag", n.ETag)
	http.ServeContent(w, r, "", n.UpdatedAt, rc)
	return nil
}

func (h *Handler) trash(w http.ResponseWriter, r *http.Request) error {
	sp, err := h.space(r)
	if err != nil {
		return err
	}
	id, err := web.PathID(r, "id", "Document")
	if err != nil {
		return err
	}
	n, err := h.svc.Node(r.Context(), sp, id)
	if err != nil {
		return err
	}
	if err := h.svc.Trash(r.Context(), sp, id); err != nil {
		return err
	}
	return back(w, r, sp, n.ParentID, "« "+n.Name+" » placé dans la corbeille.")
}

func (h *Handler) trashPage(w http.ResponseWriter, r *http.Request) error {
	sp, err := h.space(r)
	if err != nil {
		return err
	}
	items, err := h.svc.ListTrash(r.Context(), sp)
	if err != nil {
		return err
	}
	return h.render.Render(w, r, http.StatusOK, "space/trash", "Corbeille", map[string]any{
		"Space": sp, "Items": items, "Flash": r.URL.Query().Get("ok"), "Title": title(sp)})
}

func (h *Handler) restore(w http.ResponseWriter, r *http.Request) error {
	sp, err := h.space(r)
	if err != nil {
		return err
	}
	id, err := web.PathID(r, "id", "Document")
	if err != nil {
		return err
	}
	n, err := h.svc.Restore(r.Context(), sp, id)
	if err != nil {
		return err
	}
	return back(w, r, sp, n.ParentID, "« "+n.Name+" » restauré.")
}

func (h *Handler) purge(w http.ResponseWriter, r *http.Request) error {
	sp, err := h.space(r)
	if err != nil {
		return err
	}
	id, err := web.PathID(r, "id", "Document")
	if err != nil {
		return err
	}
	if err := h.svc.Purge(r.Context(), sp, id); err != nil {
		return err
	}
	http.Redirect(w, r, "/documents/corbeille?ok="+url.QueryEscape("Élément supprimé définitivement.")+spaceQuery(sp), http.StatusSeeOther)
	return nil
}

// HumanSize writes a size the French way ("1,5 Mo").
func HumanSize(n int64) string {
	switch {
	case n < KiB:
		return fmt.Sprintf("%d octets", n)
	case n < MiB:
		return strings.Replace(fmt.Sprintf("%.1f Ko", float64(n)/float64(KiB)), ".", ",", 1)
	case n < GiB:
		return strings.Replace(fmt.Sprintf("%.1f Mo", float64(n)/float64(MiB)), ".", ",", 1)
	}
	return strings.Replace(fmt.Sprintf("%.1f Go", float64(n)/float64(GiB)), ".", ",", 1)
}
