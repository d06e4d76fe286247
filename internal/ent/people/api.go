package people

import (
	"net/http"
	"strconv"
	"strings"

	"socle/internal/platform/problem"
	"socle/internal/platform/web"
)

func (h *Handler) apiRoutes(r *web.Router) {
	r.Handle("GET /api/v1/people", h.apiDirectory)
	r.Handle("POST /api/v1/people", h.apiCreatePerson)
	r.Handle("GET /api/v1/people/{id}", h.apiPerson)
	r.Handle("POST /api/v1/parent-links", h.apiLinkParent)
	r.Handle("GET /api/v1/groups", h.apiGroups)
	r.Handle("POST /api/v1/groups", h.apiCreateGroup)
	r.Handle("GET /api/v1/groups/{id}", h.apiGroup)
	r.Handle("POST /api/v1/groups/{id}/members", h.apiAddMembers)
	r.Handle("POST /api/v1/establishments/{uai}/feed", h.apiFeed)
	r.Handle("GET /api/v1/establishments/{uai}/rollover", h.apiRolloverPreview)
	r.Handle("POST /api/v1/establishments/{uai}/rollover", h.apiRolloverApply)
	r.Handle("GET /api/v1/establishments/{uai}/pending-matches", h.apiPendingMatches)
	r.Handle("POST /api/v1/pending-matches/{id}", h.apiDecideMatch)
	r.Handle("GET /api/v1/establishments/{uai}/communication-rules", h.apiRules)
	r.Handle("PUT /api/v1/establishments/{uai}/communication-rules", h.apiSetRules)
}

func directoryFilter(r *http.Request) (DirectoryFilter, error) {
	q := r.URL.Query()
	f := DirectoryFilter{Query: strings.TrimSpace(q.Get("q")), Profile: Profile(q.Get("profile"))}
	if f.Profile != "" && !f.Profile.Valid() {
		return f, problem.Invalid("invalid_filter", "Profil inconnu : "+string(f.Profile)+".").Field("profile", "Profil inconnu.")
	}
	return f, nil
}

func (h *Handler) apiDirectory(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	f, err := directoryFilter(r)
	if err != nil {
		return err
	}
	uai := r.URL.Query().Get("establishment")
	if uai == "" {
		return problem.Invalid("invalid_filter", "Indiquez l'établissement (UAI).").Field("establishment", "Obligatoire.")
	}
	items, err := h.svc.Directory(r.Context(), p, uai, f)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusOK, map[string]any{"items": items})
}

func (h *Handler) apiCreatePerson(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	var in NewPerson
	if err := web.DecodeJSON(w, r, 16<<10, &in); err != nil {
		return err
	}
	d, err := h.svc.CreatePerson(r.Context(), p, in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/people/"+strconv.FormatInt(d.UserID, 10))
	return web.JSON(w, http.StatusCreated, d)
}

func (h *Handler) apiPerson(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	id, err := web.PathID(r, "id", "Personne")
	if err != nil {
		return err
	}
	d, err := h.svc.Person(r.Context(), p, id)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusOK, d)
}

// ParentLinkInput links a parent to a child.
type ParentLinkInput struct {
	ParentID int64 `json:"parent_id"`
	ChildID  int64 `json:"child_id"`
}

func (h *Handler) apiLinkParent(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	var in ParentLinkInput
	if err := web.DecodeJSON(w, r, 4<<10, &in); err != nil {
		return err
	}
	if err := h.svc.LinkParent(r.Context(), p, in.ParentID, in.ChildID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handler) apiGroups(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	if q.Get("establishment") == "" {
		return problem.Invalid("invalid_filter", "Indiquez l'établissement (UAI).").Field("establishment", "Obligatoire.")
	}
	archived := q.Get("archived") == "1" || q.Get("archived") == "true"
	items, err := h.svc.Groups(r.Context(), p, q.Get("establishment"), q.Get("year"), archived)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusOK, map[string]any{"items": items})
}

func (h *Handler) apiCreateGroup(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	var in NewGroup
	if err := web.DecodeJSON(w, r, 16<<10, &in); err != nil {
		return err
	}
	d, err := h.svc.CreateGroup(r.Context(), p, in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/groups/"+strconv.FormatInt(d.ID, 10))
	return web.JSON(w, http.StatusCreated, d)
}

func (h *Handler) apiGroup(w http.ResponseWriter, r *http.Request) error {
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
	return web.JSON(w, http.StatusOK, d)
}

// MembersInput adds people to a group.
type MembersInput struct {
	UserIDs []int64 `json:"user_ids"`
	Role    string  `json:"role"`
	Subject string  `json:"subject"`
}

func (h *Handler) apiAddMembers(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	id, err := web.PathID(r, "id", "Classe ou groupe")
	if err != nil {
		return err
	}
	var in MembersInput
	if err := web.DecodeJSON(w, r, 256<<10, &in); err != nil {
		return err
	}
	d, err := h.svc.AddGroupMembers(r.Context(), p, id, in.UserIDs, in.Role, in.Subject)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusOK, d)
}

// maxFeedBytes bounds a feed file: 50,000 people take about 5 MB.
const maxFeedBytes = 64 << 20

func (h *Handler) apiFeed(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	skip := q.Get("skip_invalid")
	rep, err := h.svc.Feed(r.Context(), p, r.PathValue("uai"), http.MaxBytesReader(w, r.Body, maxFeedBytes), FeedOptions{
		SchoolYear: q.Get("year"), SkipInvalid: skip == "1" || skip == "true", Filename: q.Get("file")})
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusOK, rep)
}

func (h *Handler) apiRolloverPreview(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	plan, err := h.svc.Rollover(r.Context(), p, r.PathValue("uai"), r.URL.Query().Get("from"), false)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusOK, plan)
}

// RolloverInput names the school year to leave.
type RolloverInput struct {
	FromYear string `json:"from_year"`
}

func (h *Handler) apiRolloverApply(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	var in RolloverInput
	if err := web.DecodeJSON(w, r, 4<<10, &in); err != nil {
		return err
	}
	plan, err := h.svc.Rollover(r.Context(), p, r.PathValue("uai"), in.FromYear, true)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusOK, plan)
}

func (h *Handler) apiPendingMatches(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	items, err := h.svc.PendingMatches(r.Context(), p, r.PathValue("uai"))
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusOK, map[string]any{"items": items})
}

// DecisionInput settles a pending match.
type DecisionInput struct {
	Decision string `json:"decision"`
}

func (h *Handler) apiDecideMatch(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	id, err := web.PathID(r, "id", "Rapprochement")
	if err != nil {
		return err
	}
	var in DecisionInput
	if err := web.DecodeJSON(w, r, 4<<10, &in); err != nil {
		return err
	}
	if in.Decision != "confirm" && in.Decision != "reject" {
		return problem.Invalid("invalid_decision", "Décision attendue : confirm ou reject.").Field("decision", "confirm ou reject.")
	}
	m, err := h.svc.DecideMatch(r.Context(), p, id, in.Decision == "confirm")
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusOK, m)
}

func (h *Handler) apiRules(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	items, err := h.svc.CommunicationRules(r.Context(), p, r.PathValue("uai"))
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusOK, map[string]any{"items": items})
}

// RulesInput adjusts communication rules: key → allowed.
type RulesInput struct {
	Rules map[string]bool `json:"rules"`
}

func (h *Handler) apiSetRules(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	var in RulesInput
	if err := web.DecodeJSON(w, r, 8<<10, &in); err != nil {
		return err
	}
	items, err := h.svc.SetCommunicationRules(r.Context(), p, r.PathValue("uai"), in.Rules)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusOK, map[string]any{"items": items})
}
