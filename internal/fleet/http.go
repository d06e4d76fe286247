package fleet

import (
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"

	"socle/internal/helpdesk"
	"socle/internal/platform/auth"
	"socle/internal/platform/problem"
	"socle/internal/platform/web"
)

// Handler serves the fleet's pages, API and agent endpoints.
type Handler struct {
	svc    *Service
	render *web.Renderer
	agents *AgentHandler
}

// NewHandler builds the handler.
func NewHandler(svc *Service, render *web.Renderer, opts AgentOptions) *Handler {
	return &Handler{svc: svc, render: render, agents: NewAgentHandler(svc, opts)}
}

// Agents is the inventory endpoint, for wiring that mounts it elsewhere.
func (h *Handler) Agents() http.Handler { return h.agents }

// AgentPaths are the agent endpoints, which the session middleware must
// let through untouched (web.Sessions.Exempt): agents carry no session or
// CSRF token, and their HTTP Basic credentials are not a Bearer token.
func AgentPaths() []string { return []string{"/ocsinventory", "/inventory"} }

// Routes mounts the pages, the API and the agent endpoints. Agents do not
// log in: they are authenticated by AgentOptions (HTTP Basic) or not at all.
func (h *Handler) Routes(r *web.Router) {
	for _, path := range AgentPaths() {
		r.HandleHTTP("POST "+path, h.agents)
		r.HandleHTTP("GET "+path, h.agents)
	}
	r.Handle("GET /etablissements/{uai}/parc", h.listPage)
	r.Handle("GET /etablissements/{uai}/logiciels", h.softwarePage)
	r.Handle("GET /parc/equipements/nouveau", h.newAssetPage)
	r.Handle("POST /parc/equipements", h.createForm)
	r.Handle("GET /parc/equipements/{id}", h.assetPage)
	r.Handle("GET /parc/equipements/{id}/modifier", h.editAssetPage)
	r.Handle("POST /parc/equipements/{id}", h.updateForm)
	r.Handle("GET /parc", h.overviewPage)
	r.Handle("GET /parc/renouvellement", h.forecastPage)
	r.Handle("GET /parc/quarantaine", h.quarantinePage)
	h.apiRoutes(r)
}

// Euros formats cents as a French amount: 1 234,56 €.
func Euros(cents int64) string { return web.FormatEuros(cents, true) }

type option struct {
	Value, Label string
	Selected     bool
}

type listView struct {
	UAI       string
	CanManage bool
	Filter    Filter
	Result    ListResult
	Types     []option
	States    []option
}

func (h *Handler) listPage(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	f, err := filterFromRequest(r)
	if err != nil {
		return err
	}
	f.UAI = strings.ToUpper(r.PathValue("uai"))
	res, err := h.svc.List(r.Context(), p, f)
	if err != nil {
		return err
	}
	v := listView{UAI: f.UAI, Filter: f, Result: res, CanManage: p.Has(auth.PermFleetManage),
		Types: []option{{Value: "", Label: "Tous les types"}}, States: []option{{Value: "", Label: "Tous les états"}}}
	for _, t := range Types {
		v.Types = append(v.Types, option{string(t), t.Label(), t == f.Type})
	}
	for _, s := range States {
		v.States = append(v.States, option{string(s), s.Label(), s == f.State})
	}
	return h.render.Render(w, r, http.StatusOK, "fleet/list", "Parc de l'établissement "+f.UAI, v)
}

type assetView struct {
	AssetDetail
	Price, BookValue string
	LastInventory    time.Time
	Tickets          []helpdesk.AssetTicket
	CanManage        bool
}

func (h *Handler) assetPage(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	id, err := web.PathID(r, "id", "Équipement")
	if err != nil {
		return err
	}
	d, err := h.svc.Asset(r.Context(), p, id)
	if err != nil {
		return err
	}
	v := assetView{AssetDetail: d, Price: Euros(d.PriceCents), BookValue: Euros(d.BookValueCents),
		CanManage: h.svc.CanManage(r.Context(), p, d.EstablishmentID)}
	if v.Tickets, err = h.svc.AssetTickets(r.Context(), p, id); err != nil {
		return err
	}
	if d.LastInventoryAt != nil {
		v.LastInventory = *d.LastInventoryAt
	}
	title := d.Name
	if title == "" {
		title = d.Type.Label() + " n° " + strconv.FormatInt(d.ID, 10)
	}
	return h.render.Render(w, r, http.StatusOK, "fleet/asset", title, v)
}

type forecastView struct {
	ForecastResult
	UAI        string
	Cost       [][]string
	TotalCosts []string
	Chart      template.HTML
}

func (h *Handler) forecastPage(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	uai := strings.ToUpper(strings.TrimSpace(r.URL.Query().Get("etablissement")))
	res, err := h.svc.Forecast(r.Context(), p, ForecastOptions{UAI: uai})
	if err != nil {
		return err
	}
	v := forecastView{ForecastResult: res, UAI: uai, Chart: forecastChart(res)}
	for _, row := range res.Rows {
		var c []string
		for _, x := range row.CostCents {
			c = append(c, Euros(x))
		}
		v.Cost = append(v.Cost, c)
	}
	for _, x := range res.TotalCostCents {
		v.TotalCosts = append(v.TotalCosts, Euros(x))
	}
	return h.render.Render(w, r, http.StatusOK, "fleet/forecast", "Prévision de renouvellement du parc", v)
}

func (h *Handler) quarantinePage(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	items, err := h.svc.Quarantine(r.Context(), p)
	if err != nil {
		return err
	}
	return h.render.Render(w, r, http.StatusOK, "fleet/quarantine", "Inventaires en quarantaine", items)
}

type softwareView struct {
	UAI      string
	Items    []SoftwareUse
	Outdated int
}

func (h *Handler) softwarePage(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	uai := strings.ToUpper(r.PathValue("uai"))
	items, err := h.svc.EstablishmentSoftware(r.Context(), p, uai)
	if err != nil {
		return err
	}
	v := softwareView{UAI: uai, Items: items}
	for _, it := range items {
		if it.Outdated {
			v.Outdated++
		}
	}
	return h.render.Render(w, r, http.StatusOK, "fleet/software", "Logiciels de l'établissement "+uai, v)
}

type overviewView struct {
	Ratios
	Warranty   []WarrantyAlert
	Quarantine bool
	CanManage  bool
}

// overviewPage is the fleet's home: the equipment ratios of every school in
// scope (the "état des lieux"), the warranties ending soon, and the way to
// the renewal forecast.
func (h *Handler) overviewPage(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	if !p.Has(auth.PermFleetRead) {
		return problem.Forbidden()
	}
	ratios, err := h.svc.Ratios(r.Context(), p, "")
	if err != nil {
		return err
	}
	alerts, err := h.svc.WarrantyAlerts(r.Context(), p, "", 90)
	if err != nil {
		return err
	}
	v := overviewView{Ratios: ratios, Warranty: alerts, Quarantine: p.Global(auth.PermFleetManage), CanManage: p.Has(auth.PermFleetManage)}
	return h.render.Render(w, r, http.StatusOK, "fleet/overview", "Parc informatique", v)
}
