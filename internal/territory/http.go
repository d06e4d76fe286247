package territory

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"socle/internal/platform/problem"
	"socle/internal/platform/web"
)

// Handler serves the territory's pages and API.
type Handler struct {
	svc    *Service
	render *web.Renderer
	// maxUpload bounds an import file sent through the web form.
	maxUpload int64
	now       func() time.Time
}

// NewHandler builds the handler.
func NewHandler(svc *Service, render *web.Renderer) *Handler {
	return &Handler{svc: svc, render: render, maxUpload: DefaultMaxUpload, now: time.Now}
}

// Routes mounts the territory's pages and API routes.
func (h *Handler) Routes(r *web.Router) {
	h.pageRoutes(r)
	h.apiRoutes(r)
}

func (h *Handler) pageRoutes(r *web.Router) {
	r.Handle("GET /territoire", h.browse)
	r.Handle("GET /etablissements/{uai}", h.establishmentPage)
	r.Handle("GET /organisations/{id}", h.organizationPage)
	h.importRoutes(r)
}

// Pager is what the shared "pager" partial needs; it works out the end of
// the page itself.
type Pager struct {
	Total, Offset, Limit int
	Path                 string
	Query                url.Values
}

// option is one choice of a select, already marked when it is the
// current filter value, so the form shows what the results are filtered on.
type option struct {
	Value, Label string
	Selected     bool
}

// optgroup groups the options of a select (collectivités by kind).
type optgroup struct {
	Label   string
	Options []option
}

type browseView struct {
	Filter      Filter
	Result      SearchResult
	Rows        []browseRow
	Types       []option
	Communes    []option
	Maintainers []optgroup
	Priorities  []option
	Sectors     []option
	Filtered    bool
	Pager       Pager
}

// browseRow is an establishment of the results. Nature is its nature when
// it says more than its type ("École maternelle" for an école, not
// "Collège" again for a collège).
type browseRow struct {
	Establishment
	Nature string
}

// browse is the territory browser: a GET form (bookmarkable, works without
// JavaScript) and a page of results.
func (h *Handler) browse(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f, err := filterFromQuery(q)
	if err != nil {
		return err
	}
	if f.Limit <= 0 {
		f.Limit = 50
	}
	ctx := r.Context()
	res, err := h.svc.Search(ctx, p, f)
	if err != nil {
		return err
	}
	opts, err := h.svc.FilterOptions(ctx, p)
	if err != nil {
		return err
	}
	v := browseView{Filter: f, Result: res,
		Filtered: f.Query != "" || q.Get("type") != "" || f.CommuneCode != "" || f.Responsible != 0 || f.Priority != "" || f.Sector != "",
		Pager:    Pager{Total: res.Total, Offset: f.Offset, Limit: f.Limit, Path: "/territoire", Query: q},
	}
	for _, e := range res.Items {
		row := browseRow{Establishment: e}
		if SearchKey(e.NatureLabel) != SearchKey(e.Type.Label()) {
			row.Nature = e.NatureLabel
		}
		v.Rows = append(v.Rows, row)
	}
	typeValue := q.Get("type")
	v.Types = []option{{Value: "", Label: "Tous les types"}}
	for _, t := range Types {
		v.Types = append(v.Types, option{Value: string(t), Label: t.Label()})
	}
	v.Types = append(v.Types, option{Value: "inconnu", Label: TypeUnknown.Label()})
	markSelected(v.Types, typeValue)

	v.Communes = []option{{Value: "", Label: "Toutes les communes"}}
	for i, c := range opts.Communes {
		label := c.Label
		// Two communes of the same name (in two départements) are told
		// apart by their INSEE code.
		if (i > 0 && opts.Communes[i-1].Label == c.Label) || (i+1 < len(opts.Communes) && opts.Communes[i+1].Label == c.Label) {
			label += " (" + c.Value + ")"
		}
		v.Communes = append(v.Communes, option{Value: c.Value, Label: label})
	}
	v.Communes = keepUnlisted(v.Communes, f.CommuneCode)

	var groups []optgroup
	for _, m := range opts.Maintainers {
		label := kindPlural(m.Kind)
		if len(groups) == 0 || groups[len(groups)-1].Label != label {
			groups = append(groups, optgroup{Label: label})
		}
		g := &groups[len(groups)-1]
		g.Options = append(g.Options, option{Value: strconv.FormatInt(m.ID, 10), Label: m.Name,
			Selected: m.ID == f.Responsible})
	}
	if f.Responsible != 0 && !slices.ContainsFunc(opts.Maintainers, func(m Maintainer) bool { return m.ID == f.Responsible }) {
		// A collectivité that maintains nothing in the reader's scope (a
		// link from its page): the filter still shows, and selects nothing.
		groups = append(groups, optgroup{Label: "Autres", Options: []option{{
			Value: strconv.FormatInt(f.Responsible, 10), Label: "Collectivité n° " + strconv.FormatInt(f.Responsible, 10), Selected: true}}})
	}
	v.Maintainers = groups

	v.Priorities = []option{
		{Value: "", Label: "Indifférent"},
		{Value: "any", Label: "REP ou REP+"},
		{Value: "REP", Label: "REP"},
		{Value: "REP+", Label: "REP+"},
		{Value: "none", Label: "Hors éducation prioritaire"},
	}
	markSelected(v.Priorities, f.Priority)
	v.Sectors = []option{{Value: "", Label: "Public et privé"}, {Value: string(SectorPublic), Label: SectorPublic.Label()}, {Value: string(SectorPrivate), Label: SectorPrivate.Label()}}
	markSelected(v.Sectors, string(f.Sector))
	return h.render.Render(w, r, http.StatusOK, "territory/browse", "Territoire", v)
}

func markSelected(opts []option, value string) {
	for i := range opts {
		opts[i].Selected = opts[i].Value == value
	}
}

// keepUnlisted adds the current value when the list lacks it (a link from
// elsewhere), so the form never hides a filter that is applied.
func keepUnlisted(opts []option, value string) []option {
	markSelected(opts, value)
	if value == "" || slices.ContainsFunc(opts, func(o option) bool { return o.Selected }) {
		return opts
	}
	return append(opts, option{Value: value, Label: value, Selected: true})
}

func kindPlural(k Kind) string {
	switch k {
	case KindRegion:
		return "Régions"
	case KindDepartement:
		return "Départements"
	case KindEPCI:
		return "EPCI et métropoles"
	case KindCommune:
		return "Communes"
	}
	return "Autres"
}

type establishmentView struct {
	E          Establishment
	OpenedOn   string
	Enrolments []enrolmentView
	Levels     levelTable
	// Links to the organization pages are only given for organizations
	// the reader may open: elsewhere the name is plain text, not a link to
	// a "page introuvable".
	ResponsibleLink bool
	AcademyLink     bool
	Lat, Lon        string
	MapURL          string
}

type enrolmentView struct {
	Enrolment
	SourceLabel string
}

// levelTable is the pupils per level, one row per enrolment that has
// per-level figures and one column per level met, in school order.
type levelTable struct {
	Levels []string
	Rows   []levelRow
}

type levelRow struct {
	SchoolYear, Source string
	// Pupils has one cell per column; nil where the file gives nothing.
	Pupils []*int
}

// levelLabel is a level as a table header shows it.
func levelLabel(l string) string {
	switch strings.ReplaceAll(SearchKey(l), " ", "") {
	case "preelementaire":
		return "Pré-élémentaire"
	case "elementaire":
		return "Élémentaire"
	}
	return strings.ReplaceAll(l, "_", " ")
}

func buildLevelTable(enr []enrolmentView) levelTable {
	var t levelTable
	var keys []string
	for _, e := range enr {
		for k := range e.Levels {
			if !slices.Contains(keys, k) {
				keys = append(keys, k)
			}
		}
	}
	if len(keys) == 0 {
		return t
	}
	slices.SortFunc(keys, compareLevels)
	for _, k := range keys {
		t.Levels = append(t.Levels, levelLabel(k))
	}
	for _, e := range enr {
		if len(e.Levels) == 0 {
			continue
		}
		row := levelRow{SchoolYear: e.SchoolYear, Source: e.SourceLabel}
		for _, k := range keys {
			if n, ok := e.Levels[k]; ok {
				row.Pupils = append(row.Pupils, &n)
			} else {
				row.Pupils = append(row.Pupils, nil)
			}
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

// frenchDate writes a directory date (2006-01-02) the French way, and
// leaves any other text as it is.
func frenchDate(s string) string {
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t.Format("02/01/2006")
	}
	return s
}

// establishmentPage shows one establishment; outside the reader's scope it
// does not exist (404).
func (h *Handler) establishmentPage(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	e, enr, err := h.svc.Establishment(ctx, p, r.PathValue("uai"))
	if err != nil {
		return err
	}
	v := establishmentView{E: e, OpenedOn: frenchDate(e.OpenedOn)}
	if e.Responsible != nil {
		if v.ResponsibleLink, err = h.canOpen(r, e.Responsible.ID); err != nil {
			return err
		}
	}
	if e.Academy != nil {
		if v.AcademyLink, err = h.canOpen(r, e.Academy.ID); err != nil {
			return err
		}
	}
	if e.Latitude != nil && e.Longitude != nil {
		v.Lat = strconv.FormatFloat(*e.Latitude, 'f', 6, 64)
		v.Lon = strconv.FormatFloat(*e.Longitude, 'f', 6, 64)
		v.MapURL = "https://www.openstreetmap.org/?mlat=" + v.Lat + "&mlon=" + v.Lon + "#map=17/" + v.Lat + "/" + v.Lon
	}
	for _, en := range enr {
		v.Enrolments = append(v.Enrolments, enrolmentView{Enrolment: en, SourceLabel: sourceLabel(en.Source)})
	}
	v.Levels = buildLevelTable(v.Enrolments)
	return h.render.Render(w, r, http.StatusOK, "territory/establishment", e.Name, v)
}

// canOpen reports whether the reader may open an organization's page.
func (h *Handler) canOpen(r *http.Request, id int64) (bool, error) {
	_, err := h.svc.Organization(r.Context(), web.PrincipalFrom(r.Context()), id)
	if err == nil {
		return true, nil
	}
	if isNotFound(err) {
		return false, nil
	}
	return false, err
}

// sourceLabel names the open-data file an enrolment figure comes from.
func sourceLabel(src string) string {
	k := SearchKey(src)
	switch {
	case strings.Contains(k, "ecole"):
		return "Effectifs des écoles"
	case strings.Contains(k, "college"):
		return "Effectifs des collèges"
	case strings.Contains(k, "second") || strings.Contains(k, "lycee"):
		return "Effectifs du second degré"
	case strings.Contains(k, "annuaire"):
		return "Annuaire de l'éducation"
	case strings.Contains(k, "demo"):
		return "Données de démonstration"
	}
	return src
}

// levelOrder is the order of school levels, from the petite section to the
// terminale, as keys folded by SearchKey without spaces.
var levelOrder = []string{"preelementaire", "maternelle", "tps", "ps", "ms", "gs", "cp", "ce1", "ce2", "cm1", "cm2", "ulis", "cliss",
	"6e", "6eme", "sixieme", "5e", "5eme", "cinquieme", "4e", "4eme", "quatrieme", "3e", "3eme", "troisieme", "segpa",
	"2nde", "2de", "seconde", "1ere", "premiere", "terminale", "tle"}

func levelRank(l string) int {
	k := strings.ReplaceAll(SearchKey(l), " ", "")
	for i, o := range levelOrder {
		if k == o || strings.HasPrefix(k, o+"_") {
			return i
		}
	}
	return len(levelOrder)
}

func compareLevels(a, b string) int {
	if ra, rb := levelRank(a), levelRank(b); ra != rb {
		return ra - rb
	}
	return strings.Compare(a, b)
}

type organizationView struct {
	O           Organization
	KindLabel   string
	Parent      *Organization
	IsAuthority bool
	Maintained  SearchResult
	Holidays    []Holiday
	// Zone is the holiday zone as the calendar names it ("Zone B").
	Zone string
}

// zoneLabel writes a holiday zone the way the national calendar does,
// whether it was recorded as "B" or as "Zone B".
func zoneLabel(z string) string {
	z = strings.TrimSpace(z)
	if z == "" || strings.HasPrefix(strings.ToLower(z), "zone ") {
		return z
	}
	return "Zone " + z
}

// organizationPage shows an organization; an establishment's organization
// page is its establishment page.
func (h *Handler) organizationPage(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	id, err := web.PathID(r, "id", "Organisation")
	if err != nil {
		return err
	}
	ctx := r.Context()
	o, err := h.svc.Organization(ctx, p, id)
	if err != nil {
		return err
	}
	if o.Kind == KindEstablishment {
		http.Redirect(w, r, "/etablissements/"+url.PathEscape(o.Code), http.StatusSeeOther)
		return nil
	}
	v := organizationView{O: o, KindLabel: o.Kind.Label(), IsAuthority: o.Kind.IsAuthority(), Zone: zoneLabel(o.HolidayZone)}
	if o.ParentID != 0 {
		parent, err := h.svc.Organization(ctx, p, o.ParentID)
		switch {
		case err == nil:
			v.Parent = &parent
		case !isNotFound(err):
			return err
		}
	}
	if v.IsAuthority {
		if v.Maintained, err = h.svc.Search(ctx, p, Filter{Responsible: o.ID, Limit: 50}); err != nil {
			return err
		}
	}
	if o.Kind == KindAcademy && o.HolidayZone != "" {
		if v.Holidays, err = h.svc.UpcomingHolidays(ctx, p, o.HolidayZone, h.now(), 6); err != nil {
			return err
		}
	}
	return h.render.Render(w, r, http.StatusOK, "territory/organization", o.Name, v)
}

// isNotFound tells "not there, or outside the scope" from real failures.
func isNotFound(err error) bool {
	pe, ok := problem.As(err)
	return ok && pe.Status == http.StatusNotFound
}
