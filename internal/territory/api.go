package territory

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"socle/internal/platform/problem"
	"socle/internal/platform/web"
)

func (h *Handler) apiRoutes(r *web.Router) {
	r.Handle("GET /api/v1/establishments", h.apiSearch)
	r.Handle("GET /api/v1/establishments/{uai}", h.apiEstablishment)
	r.Handle("GET /api/v1/organizations/{id}", h.apiOrganization)
}

// DefaultPageSize is the page size when the caller gives none.
const DefaultPageSize = 50

// maxQueryLen bounds the search text: each of its words becomes a
// condition of the query, and nobody types 200 characters into a search box.
const maxQueryLen = 200

// filterFromQuery reads the search filters shared by the browser page and
// the API: q, type, commune, responsible, rep, sector, limit, offset. The
// filter it returns carries the page size actually applied, so the answer
// can say it.
func filterFromQuery(q url.Values) (Filter, error) {
	f := Filter{Query: strings.TrimSpace(q.Get("q")), CommuneCode: strings.TrimSpace(q.Get("commune"))}
	if utf8.RuneCountInString(f.Query) > maxQueryLen {
		return f, problem.Invalid("invalid_filter", "Texte recherché trop long : "+strconv.Itoa(maxQueryLen)+" caractères au plus.").Field("q", "Texte trop long.")
	}
	if t := q.Get("type"); t != "" {
		f.Type = Type(t)
		valid := t == "inconnu"
		for _, known := range Types {
			valid = valid || Type(t) == known
		}
		if !valid {
			return f, problem.Invalid("invalid_filter", "Type d'établissement inconnu : "+t+".").Field("type", "Type inconnu.")
		}
		if t == "inconnu" {
			f.Type, f.TypeSet = TypeUnknown, true
		}
	}
	if s := q.Get("sector"); s != "" {
		if s != string(SectorPublic) && s != string(SectorPrivate) {
			return f, problem.Invalid("invalid_filter", "Secteur inconnu : "+s+" (public ou prive).").Field("sector", "Secteur inconnu.")
		}
		f.Sector = Sector(s)
	}
	switch rep := q.Get("rep"); rep {
	case "", "REP", "REP+", "any", "none":
		f.Priority = rep
	default:
		return f, problem.Invalid("invalid_filter", "Filtre d'éducation prioritaire inconnu : "+rep+" (REP, REP+, any, none).").Field("rep", "Valeur inconnue.")
	}
	var err error
	if f.Responsible, err = web.IntParam(q, "responsible", 1, 1<<62); err != nil {
		return f, err
	}
	limit, err := web.IntParam(q, "limit", 1, MaxPageSize)
	if err != nil {
		return f, err
	}
	f.Limit = int(limit)
	if f.Limit == 0 {
		f.Limit = DefaultPageSize
	}
	offset, err := web.IntParam(q, "offset", 0, 1<<31)
	if err != nil {
		return f, err
	}
	f.Offset = int(offset)
	return f, nil
}

func (h *Handler) apiSearch(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	f, err := filterFromQuery(r.URL.Query())
	if err != nil {
		return err
	}
	res, err := h.svc.Search(r.Context(), p, f)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusOK, struct {
		SearchResult
		Limit  int `json:"limit"`
		Offset int `json:"offset"`
	}{res, f.Limit, f.Offset})
}

type establishmentResponse struct {
	Establishment
	Enrolments []Enrolment `json:"enrolments"`
}

func (h *Handler) apiEstablishment(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	e, enr, err := h.svc.Establishment(r.Context(), p, r.PathValue("uai"))
	if err != nil {
		return err
	}
	if enr == nil {
		enr = []Enrolment{}
	}
	return web.JSON(w, http.StatusOK, establishmentResponse{e, enr})
}

func (h *Handler) apiOrganization(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	id, err := web.PathID(r, "id", "Organisation")
	if err != nil {
		return err
	}
	o, err := h.svc.Organization(r.Context(), p, id)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusOK, o)
}
