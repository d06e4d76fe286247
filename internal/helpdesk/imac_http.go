package helpdesk

import (
	_ "embed"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"socle/internal/platform/problem"
	"socle/internal/platform/web"
)

//go:embed imac_openapi.json
var imacOpenAPI []byte

// IMACOpenAPI documents the routes of imac_http.go, merged by the
// application beside OpenAPI().
func IMACOpenAPI() []byte { return imacOpenAPI }

// imacRoutes mounts the assets of a ticket: its page and form, and the API.
func (h *Handler) imacRoutes(r *web.Router) {
	r.Handle("GET /tickets/{ref}/equipements", h.imacPage)
	r.Handle("POST /tickets/{ref}/equipements", h.imacForm)
	r.Handle("GET /api/v1/tickets/{ref}/imac", h.apiGetIMAC)
	r.Handle("PUT /api/v1/tickets/{ref}/imac", h.apiSetIMAC)
}

func (h *Handler) apiGetIMAC(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	spec, err := h.svc.IMAC(r.Context(), p, r.PathValue("ref"))
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusOK, spec)
}

func (h *Handler) apiSetIMAC(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	var spec IMACSpec
	if err := web.DecodeJSON(w, r, maxJSON, &spec); err != nil {
		return err
	}
	out, err := h.svc.SetIMAC(r.Context(), p, r.PathValue("ref"), spec)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusOK, out)
}

// imacView is the page of a ticket's assets.
type imacView struct {
	Ref, Title, OperationLabel string
	Spec                       IMACSpec
	// AssetsText is the asset numbers as the form edits them.
	AssetsText string
	NewAsset   NewAssetSpec
	CanWork    bool
	Open       bool
	Error      string
	Fields     map[string]string
	States     []option
	Types      []option
}

// assetStates and assetTypes are the fleet's values as the form offers
// them; the fleet validates them (CheckChange).
var (
	assetStates = []string{"", "Inchangé", "ordered", "Commandé", "in-stock", "En stock", "in-service", "En service",
		"in-repair", "En réparation", "lent", "Prêté", "retired", "Réformé", "disposed", "Éliminé (DEEE)"}
	assetTypes = []string{"", "Aucun", "workstation", "Poste fixe", "laptop", "Ordinateur portable", "tablet", "Tablette",
		"tablet-cart", "Classe mobile", "board", "Tableau numérique interactif", "projector", "Vidéoprojecteur",
		"printer", "Imprimante", "switch", "Commutateur réseau", "access-point", "Borne Wi-Fi", "server", "Serveur", "other", "Autre"}
)

func (h *Handler) imacView(r *http.Request, ref string, spec IMACSpec) (imacView, error) {
	p, err := web.RequireUser(r)
	if err != nil {
		return imacView{}, err
	}
	t, err := h.svc.load(r.Context(), h.svc.db, p, ref)
	if err != nil {
		return imacView{}, err
	}
	work, err := h.svc.canWork(r.Context(), p, &t)
	if err != nil {
		return imacView{}, err
	}
	v := imacView{Ref: t.Reference, Title: t.Title, Spec: spec, CanWork: work, Open: t.Status.open()}
	ids := make([]string, len(spec.Assets))
	for i, id := range spec.Assets {
		ids[i] = strconv.FormatInt(id, 10)
	}
	v.AssetsText = strings.Join(ids, ", ")
	if spec.NewAsset != nil {
		v.NewAsset = *spec.NewAsset
	}
	v.OperationLabel = IMACLabel(spec.Operation)
	v.States = options(spec.State, assetStates...)
	v.Types = options(v.NewAsset.Type, assetTypes...)
	return v, nil
}

func (h *Handler) imacPage(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	spec, err := h.svc.IMAC(r.Context(), p, r.PathValue("ref"))
	if err != nil {
		return err
	}
	v, err := h.imacView(r, r.PathValue("ref"), spec)
	if err != nil {
		return err
	}
	return h.render.Render(w, r, http.StatusOK, "fleet/ticket_assets", "Équipements du ticket "+v.Ref, v)
}

// imacForm reads the form: asset numbers separated by commas or spaces,
// the new location and state, the device to create.
func (h *Handler) imacForm(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxJSON)
	if err := r.ParseForm(); err != nil {
		return problem.Invalid("invalid_form", "Formulaire invalide.").Wrap(err)
	}
	ref := r.PathValue("ref")
	f := r.PostForm
	spec := IMACSpec{Operation: f.Get("operation"), Building: f.Get("building"), Room: f.Get("room"), State: f.Get("state")}
	var bad error
	for _, s := range strings.FieldsFunc(f.Get("assets"), func(c rune) bool { return c == ',' || c == ';' || c == ' ' || c == '\n' || c == '\r' || c == '\t' }) {
		id, err := strconv.ParseInt(strings.TrimPrefix(s, "n°"), 10, 64)
		if err != nil || id <= 0 {
			bad = problem.Invalid("invalid_assets", "Numéro d'équipement invalide : « "+s+" ».").Field("assets", "Numéros séparés par des virgules.")
			break
		}
		spec.Assets = append(spec.Assets, id)
	}
	if t := strings.TrimSpace(f.Get("new_type")); t != "" {
		spec.NewAsset = &NewAssetSpec{Type: t, Name: f.Get("new_name"), Manufacturer: f.Get("new_manufacturer"),
			Model: f.Get("new_model"), Serial: f.Get("new_serial")}
	}
	if bad == nil {
		_, bad = h.svc.SetIMAC(r.Context(), p, ref, spec)
	}
	if pe, ok := problem.As(bad); ok && pe.Status < 500 && pe.Status != http.StatusNotFound {
		v, err := h.imacView(r, ref, spec)
		if err != nil {
			return err
		}
		v.Error, v.Fields = pe.Message, pe.Fields
		v.AssetsText = f.Get("assets")
		return h.render.Render(w, r, pe.Status, "fleet/ticket_assets", "Équipements du ticket "+v.Ref, v)
	}
	if bad != nil {
		return bad
	}
	http.Redirect(w, r, "/tickets/"+url.PathEscape(ref)+"/equipements", http.StatusSeeOther)
	return nil
}
