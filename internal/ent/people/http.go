package people

import (
	"net/http"
	"net/url"
	"strings"

	"socle/internal/platform/auth"
	"socle/internal/platform/csvimport"
	"socle/internal/platform/problem"
	"socle/internal/platform/web"
)

// Handler serves the directory's pages and API.
type Handler struct {
	svc    *Service
	render *web.Renderer
}

// NewHandler builds the handler.
func NewHandler(svc *Service, render *web.Renderer) *Handler {
	return &Handler{svc: svc, render: render}
}

// Routes mounts the pages and the API.
func (h *Handler) Routes(r *web.Router) {
	r.Handle("GET /personnes", h.homePage)
	r.Handle("GET /etablissements/{uai}/personnes", h.directoryPage)
	r.Handle("GET /classes/{id}", h.groupPage)
	r.Handle("GET /etablissements/{uai}/alimentation", h.feedPage)
	r.Handle("POST /etablissements/{uai}/alimentation", h.feedUpload)
	r.Handle("POST /etablissements/{uai}/rapprochements/{id}", h.decidePage)
	r.Handle("GET /etablissements/{uai}/bascule", h.rolloverPage)
	r.Handle("POST /etablissements/{uai}/bascule", h.rolloverApply)
	r.Handle("GET /etablissements/{uai}/regles-de-communication", h.rulesPage)
	r.Handle("POST /etablissements/{uai}/regles-de-communication", h.rulesSave)
	h.apiRoutes(r)
}

func (h *Handler) homePage(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	ests, err := h.svc.Establishments(r.Context(), p)
	if err != nil {
		return err
	}
	if len(ests) == 1 {
		http.Redirect(w, r, "/etablissements/"+url.PathEscape(ests[0].UAI)+"/personnes", http.StatusSeeOther)
		return nil
	}
	return h.render.Render(w, r, http.StatusOK, "people/home", "Annuaire", map[string]any{"Establishments": ests})
}

type option struct {
	Value, Label string
	Selected     bool
}

type directoryView struct {
	UAI      string
	Name     string
	Filter   DirectoryFilter
	Profiles []option
	People   []Person
	Classes  []Group
	Manage   bool
}

func (h *Handler) directoryPage(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	f, err := directoryFilter(r)
	if err != nil {
		return err
	}
	uai := strings.ToUpper(r.PathValue("uai"))
	people, err := h.svc.Directory(r.Context(), p, uai, f)
	if err != nil {
		return err
	}
	classes, err := h.svc.Groups(r.Context(), p, uai, "", false)
	if err != nil {
		return err
	}
	e, _ := h.svc.store.establishmentByUAI(r.Context(), h.svc.db, uai)
	v := directoryView{UAI: uai, Name: e.Name, Filter: f, People: people, Classes: classes, Manage: h.svc.Manages(r.Context(), p, uai),
		Profiles: []option{{Value: "", Label: "Tous les profils"}}}
	for _, pr := range Profiles {
		v.Profiles = append(v.Profiles, option{string(pr), pr.Label(), pr == f.Profile})
	}
	return h.render.Render(w, r, http.StatusOK, "people/directory", "Annuaire — "+e.Name, v)
}

func (h *Handler) groupPage(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	id, err := web.PathID(r, "id", "Classe ou groupe")
	if err != nil {
		return err
	}
	d, err := h.svc.Group(r.Context(), p, id)
	if err != nil {
		return err
	}
	return h.render.Render(w, r, http.StatusOK, "people/group", d.Name+" ("+d.SchoolYear+")", map[string]any{
		"Group": d, "TypeLabel": GroupTypeLabel(d.Type)})
}

type feedView struct {
	UAI         string
	Name        string
	Year        string
	SkipInvalid bool
	Report      *csvimport.Report
	Error       *problem.Error
	Pending     []PendingMatch
}

func (h *Handler) renderFeed(w http.ResponseWriter, r *http.Request, p *auth.Principal, status int, v feedView) error {
	e, err := h.svc.establishmentFor(r.Context(), p, r.PathValue("uai"), auth.PermPeopleManage)
	if err != nil {
		return err
	}
	v.UAI, v.Name = e.UAI, e.Name
	if v.Year == "" {
		v.Year = SchoolYearOf(h.svc.now())
	}
	if v.Pending, err = h.svc.PendingMatches(r.Context(), p, e.UAI); err != nil {
		return err
	}
	return h.render.Render(w, r, status, "people/feed", "Alimentation — "+e.Name, v)
}

func (h *Handler) feedPage(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	return h.renderFeed(w, r, p, http.StatusOK, feedView{})
}

func (h *Handler) feedUpload(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	// The session middleware has parsed the multipart form (large files
	// spooled to disk) to read its CSRF field.
	v := feedView{Year: strings.TrimSpace(r.FormValue("year")), SkipInvalid: r.FormValue("skip_invalid") == "1"}
	file, hdr, err := r.FormFile("file")
	if err != nil {
		v.Error = problem.Invalid("missing_file", "Choisissez le fichier CSV d'alimentation.").Field("file", "Fichier manquant.")
		return h.renderFeed(w, r, p, http.StatusBadRequest, v)
	}
	defer file.Close()
	rep, err := h.svc.Feed(r.Context(), p, r.PathValue("uai"), file, FeedOptions{SchoolYear: v.Year, SkipInvalid: v.SkipInvalid, Filename: hdr.Filename})
	if pe, ok := problem.As(err); ok && pe.Status == http.StatusBadRequest {
		v.Error = pe
		return h.renderFeed(w, r, p, http.StatusBadRequest, v)
	}
	if err != nil {
		return err
	}
	v.Report = rep
	return h.renderFeed(w, r, p, http.StatusOK, v)
}

func (h *Handler) decidePage(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	id, err := web.PathID(r, "id", "Rapprochement")
	if err != nil {
		return err
	}
	d := r.FormValue("decision")
	if d != "confirm" && d != "reject" {
		return problem.Invalid("invalid_decision", "Décision attendue : confirmer ou refuser.")
	}
	if _, err := h.svc.DecideMatch(r.Context(), p, id, d == "confirm"); err != nil {
		return err
	}
	http.Redirect(w, r, "/etablissements/"+url.PathEscape(strings.ToUpper(r.PathValue("uai")))+"/alimentation", http.StatusSeeOther)
	return nil
}

func (h *Handler) rolloverPage(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	plan, err := h.svc.Rollover(r.Context(), p, r.PathValue("uai"), r.URL.Query().Get("from"), false)
	if err != nil {
		return err
	}
	return h.renderRollover(w, r, plan, false)
}

func (h *Handler) renderRollover(w http.ResponseWriter, r *http.Request, plan RolloverPlan, done bool) error {
	e, err := h.svc.store.establishmentByUAI(r.Context(), h.svc.db, plan.Establishment)
	if err != nil {
		return err
	}
	years, err := h.svc.schoolYearsOf(r.Context(), e.ID)
	if err != nil {
		return err
	}
	nothing := len(plan.Archive) == 0 && len(plan.Leaving) == 0
	return h.render.Render(w, r, http.StatusOK, "people/rollover", "Bascule d'année — "+e.Name, map[string]any{
		"Plan": plan, "Name": e.Name, "Done": done, "Nothing": nothing, "Years": years})
}

func (h *Handler) rolloverApply(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	plan, err := h.svc.Rollover(r.Context(), p, r.PathValue("uai"), r.FormValue("from"), true)
	if err != nil {
		return err
	}
	return h.renderRollover(w, r, plan, true)
}

func (h *Handler) renderRules(w http.ResponseWriter, r *http.Request, p *auth.Principal, saved bool) error {
	uai := strings.ToUpper(r.PathValue("uai"))
	rules, err := h.svc.CommunicationRules(r.Context(), p, uai)
	if err != nil {
		return err
	}
	e, err := h.svc.store.establishmentByUAI(r.Context(), h.svc.db, uai)
	if err != nil {
		return err
	}
	return h.render.Render(w, r, http.StatusOK, "people/rules", "Règles de communication — "+e.Name, map[string]any{
		"UAI": uai, "Name": e.Name, "Rules": rules, "Manage": h.svc.Manages(r.Context(), p, uai), "Saved": saved})
}

func (h *Handler) rulesPage(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	return h.renderRules(w, r, p, false)
}

// rulesSave reads one checkbox per adjustable rule: a rule left unchecked
// is switched off.
func (h *Handler) rulesSave(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	if err := r.ParseForm(); err != nil {
		return problem.Invalid("invalid_form", "Formulaire illisible.")
	}
	values := map[string]bool{}
	for _, rule := range Rules {
		if !rule.Locked {
			values[rule.Key] = r.PostForm.Get(rule.Key) == "1"
		}
	}
	if _, err := h.svc.SetCommunicationRules(r.Context(), p, r.PathValue("uai"), values); err != nil {
		return err
	}
	return h.renderRules(w, r, p, true)
}
