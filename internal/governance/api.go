package governance

import (
	"bytes"
	"net/http"
	"time"

	"socle/internal/platform/auth"
	"socle/internal/platform/problem"
	"socle/internal/platform/web"
)

// APIRoutes are the JSON API routes, for the scope test of the
// application.
func APIRoutes() []string {
	return []string{
		"GET /api/v1/governance/bodies", "POST /api/v1/governance/bodies", "GET /api/v1/governance/bodies/{id}",
		"POST /api/v1/governance/bodies/{id}/members", "GET /api/v1/governance/alerts",
		"GET /api/v1/governance/meetings", "POST /api/v1/governance/meetings", "GET /api/v1/governance/meetings/{id}",
		"POST /api/v1/governance/meetings/{id}/minutes", "POST /api/v1/governance/meetings/{id}/documents",
		"POST /api/v1/governance/meetings/{id}/decisions", "GET /api/v1/governance/meetings/{id}/file",
		"GET /api/v1/governance/projects", "POST /api/v1/governance/projects", "GET /api/v1/governance/projects/{id}",
		"POST /api/v1/governance/projects/{id}/evaluation",
		"GET /api/v1/governance/roadmaps", "POST /api/v1/governance/roadmaps", "GET /api/v1/governance/roadmaps/{id}",
		"POST /api/v1/governance/roadmaps/{id}/items", "POST /api/v1/governance/roadmaps/{id}/refresh",
		"POST /api/v1/governance/objectives/{id}/indicators", "GET /api/v1/governance/indicators",
		"POST /api/v1/governance/indicators/{id}/values",
		"GET /api/v1/governance/campaigns", "POST /api/v1/governance/campaigns",
	}
}

func (h *Handler) apiRoutes(r *web.Router) {
	r.Handle("GET /api/v1/governance/bodies", h.apiBodies)
	r.Handle("POST /api/v1/governance/bodies", h.apiCreateBody)
	r.Handle("GET /api/v1/governance/bodies/{id}", h.apiBody)
	r.Handle("POST /api/v1/governance/bodies/{id}/members", h.apiAddMember)
	r.Handle("GET /api/v1/governance/alerts", h.apiAlerts)
	r.Handle("GET /api/v1/governance/meetings", h.apiMeetings)
	r.Handle("POST /api/v1/governance/meetings", h.apiCreateMeeting)
	r.Handle("GET /api/v1/governance/meetings/{id}", h.apiMeeting)
	r.Handle("POST /api/v1/governance/meetings/{id}/minutes", h.apiMinutes)
	r.Handle("POST /api/v1/governance/meetings/{id}/documents", h.apiDocument)
	r.Handle("POST /api/v1/governance/meetings/{id}/decisions", h.apiDecision)
	r.Handle("GET /api/v1/governance/meetings/{id}/file", h.apiFile)
	r.Handle("GET /api/v1/governance/projects", h.apiProjects)
	r.Handle("POST /api/v1/governance/projects", h.apiPropose)
	r.Handle("GET /api/v1/governance/projects/{id}", h.apiProject)
	r.Handle("POST /api/v1/governance/projects/{id}/evaluation", h.apiEvaluate)
	r.Handle("GET /api/v1/governance/roadmaps", h.apiRoadmaps)
	r.Handle("POST /api/v1/governance/roadmaps", h.apiCreateRoadmap)
	r.Handle("GET /api/v1/governance/roadmaps/{id}", h.apiRoadmap)
	r.Handle("POST /api/v1/governance/roadmaps/{id}/items", h.apiAddItem)
	r.Handle("POST /api/v1/governance/roadmaps/{id}/refresh", h.apiRefresh)
	r.Handle("POST /api/v1/governance/objectives/{id}/indicators", h.apiAddIndicator)
	r.Handle("GET /api/v1/governance/indicators", h.apiIndicators)
	r.Handle("POST /api/v1/governance/indicators/{id}/values", h.apiDeclare)
	r.Handle("GET /api/v1/governance/campaigns", h.apiCampaigns)
	r.Handle("POST /api/v1/governance/campaigns", h.apiCreateCampaign)
}

const maxBody = 1 << 20

// items wraps a list, so the API can add fields later.
type items[T any] struct {
	Items []T `json:"items"`
}

func list[T any](w http.ResponseWriter, xs []T, err error) error {
	if err != nil {
		return err
	}
	if xs == nil {
		xs = []T{}
	}
	return web.JSON(w, http.StatusOK, items[T]{Items: xs})
}

func one[T any](w http.ResponseWriter, status int, x T, err error) error {
	if err != nil {
		return err
	}
	return web.JSON(w, status, x)
}

func (h *Handler) apiBodies(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	bs, err := h.svc.Bodies(r.Context(), p)
	return list(w, bs, err)
}

// BodyInput is a new body.
type BodyInput struct {
	OrgID        int64    `json:"org_id"`
	Kind         BodyKind `json:"kind"`
	Name         string   `json:"name"`
	Chair        string   `json:"chair"`
	Role         string   `json:"role"`
	MinPerYear   int      `json:"min_per_year"`
	RequiredData string   `json:"required_data"`
	Members      []Member `json:"members"`
}

func (h *Handler) apiCreateBody(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	var in BodyInput
	if err := web.DecodeJSON(w, r, maxBody, &in); err != nil {
		return err
	}
	b, err := h.svc.CreateBody(r.Context(), p, Body{OrgID: in.OrgID, Kind: in.Kind, Name: in.Name, Chair: in.Chair, Role: in.Role,
		MinPerYear: in.MinPerYear, RequiredData: in.RequiredData, Members: in.Members})
	return one(w, http.StatusCreated, b, err)
}

func (h *Handler) apiBody(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	id, err := web.PathID(r, "id", "Instance")
	if err != nil {
		return err
	}
	b, err := h.svc.Body(r.Context(), p, id)
	return one(w, http.StatusOK, b, err)
}

func (h *Handler) apiAddMember(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	id, err := web.PathID(r, "id", "Instance")
	if err != nil {
		return err
	}
	var in Member
	if err := web.DecodeJSON(w, r, maxBody, &in); err != nil {
		return err
	}
	b, err := h.svc.AddMember(r.Context(), p, id, in)
	return one(w, http.StatusOK, b, err)
}

func (h *Handler) apiAlerts(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	as, err := h.svc.Alerts(r.Context(), p)
	return list(w, as, err)
}

func (h *Handler) apiMeetings(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	body, err := web.IntParam(r.URL.Query(), "body", 1, 1<<53)
	if err != nil {
		return err
	}
	ms, err := h.svc.Meetings(r.Context(), p, body)
	return list(w, ms, err)
}

// MeetingInput is a new meeting.
type MeetingInput struct {
	BodyID   int64     `json:"body_id"`
	Title    string    `json:"title"`
	StartsAt time.Time `json:"starts_at"`
	EndsAt   time.Time `json:"ends_at"`
	Place    string    `json:"place"`
	Agenda   string    `json:"agenda"`
}

func (h *Handler) apiCreateMeeting(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	var in MeetingInput
	if err := web.DecodeJSON(w, r, maxBody, &in); err != nil {
		return err
	}
	m, err := h.svc.CreateMeeting(r.Context(), p, Meeting{BodyID: in.BodyID, Title: in.Title, StartsAt: in.StartsAt, EndsAt: in.EndsAt,
		Place: in.Place, Agenda: in.Agenda})
	return one(w, http.StatusCreated, m, err)
}

func (h *Handler) apiMeeting(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	id, err := web.PathID(r, "id", "Séance")
	if err != nil {
		return err
	}
	m, err := h.svc.Meeting(r.Context(), p, id)
	return one(w, http.StatusOK, m, err)
}

func (h *Handler) apiMinutes(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	id, err := web.PathID(r, "id", "Séance")
	if err != nil {
		return err
	}
	var in Minutes
	if err := web.DecodeJSON(w, r, maxBody, &in); err != nil {
		return err
	}
	m, err := h.svc.RecordMinutes(r.Context(), p, id, in)
	return one(w, http.StatusOK, m, err)
}

func (h *Handler) apiDocument(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	id, err := web.PathID(r, "id", "Séance")
	if err != nil {
		return err
	}
	var in Document
	if err := web.DecodeJSON(w, r, maxBody, &in); err != nil {
		return err
	}
	m, err := h.svc.AddDocument(r.Context(), p, id, in)
	return one(w, http.StatusOK, m, err)
}

// DecisionInput is a decision to record.
type DecisionInput struct {
	Kind        DecisionKind `json:"kind"`
	Summary     string       `json:"summary"`
	ProjectID   int64        `json:"project_id"`
	IndicatorID int64        `json:"indicator_id"`
	// NewTarget is the new target of target_changed, as a number in text.
	NewTarget   string `json:"new_target"`
	AmountCents int64  `json:"amount_cents"`
}

func (h *Handler) apiDecision(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	id, err := web.PathID(r, "id", "Séance")
	if err != nil {
		return err
	}
	var in DecisionInput
	if err := web.DecodeJSON(w, r, maxBody, &in); err != nil {
		return err
	}
	d, err := h.svc.RecordDecision(r.Context(), p, id, Decision{Kind: in.Kind, Summary: in.Summary, ProjectID: in.ProjectID,
		IndicatorID: in.IndicatorID, After: in.NewTarget, AmountCents: in.AmountCents})
	return one(w, http.StatusCreated, d, err)
}

func (h *Handler) apiFile(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	id, err := web.PathID(r, "id", "Séance")
	if err != nil {
		return err
	}
	d, err := h.svc.CommitteeFile(r.Context(), p, id)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := WritePDF(&buf, d); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/pdf")
	_, err = w.Write(buf.Bytes())
	return err
}

func (h *Handler) apiProjects(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	ps, err := h.svc.Projects(r.Context(), p, ProjectStatus(r.URL.Query().Get("status")))
	return list(w, ps, err)
}

// ProjectInput is a proposal.
type ProjectInput struct {
	OrgID         int64        `json:"org_id"`
	ProposerOrgID int64        `json:"proposer_org_id"`
	ProposerKind  ProposerKind `json:"proposer_kind"`
	Title         string       `json:"title"`
	Description   string       `json:"description"`
	Benefits      string       `json:"benefits"`
	CostCents     int64        `json:"cost_cents"`
	Feasibility   string       `json:"feasibility"`
	IndicatorID   int64        `json:"indicator_id"`
}

func (h *Handler) apiPropose(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	var in ProjectInput
	if err := web.DecodeJSON(w, r, maxBody, &in); err != nil {
		return err
	}
	pr, err := h.svc.Propose(r.Context(), p, Project{OrgID: in.OrgID, ProposerOrgID: in.ProposerOrgID, ProposerKind: in.ProposerKind,
		Title: in.Title, Description: in.Description, Benefits: in.Benefits, CostCents: in.CostCents, Feasibility: in.Feasibility,
		IndicatorID: in.IndicatorID})
	return one(w, http.StatusCreated, pr, err)
}

func (h *Handler) apiProject(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	id, err := web.PathID(r, "id", "Projet")
	if err != nil {
		return err
	}
	pr, err := h.svc.Project(r.Context(), p, id)
	return one(w, http.StatusOK, pr, err)
}

// EvaluationInput closes a project.
type EvaluationInput struct {
	Note string `json:"note"`
}

func (h *Handler) apiEvaluate(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	id, err := web.PathID(r, "id", "Projet")
	if err != nil {
		return err
	}
	var in EvaluationInput
	if err := web.DecodeJSON(w, r, maxBody, &in); err != nil {
		return err
	}
	pr, err := h.svc.EvaluateProject(r.Context(), p, id, in.Note)
	return one(w, http.StatusOK, pr, err)
}

func (h *Handler) apiRoadmaps(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	rs, err := h.svc.Roadmaps(r.Context(), p)
	return list(w, rs, err)
}

// RoadmapInput is a new roadmap.
type RoadmapInput struct {
	OrgID     int64  `json:"org_id"`
	Title     string `json:"title"`
	FirstYear int    `json:"first_year"`
	LastYear  int    `json:"last_year"`
}

func (h *Handler) apiCreateRoadmap(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	var in RoadmapInput
	if err := web.DecodeJSON(w, r, maxBody, &in); err != nil {
		return err
	}
	rm, err := h.svc.CreateRoadmap(r.Context(), p, Roadmap{OrgID: in.OrgID, Title: in.Title, FirstYear: in.FirstYear, LastYear: in.LastYear})
	return one(w, http.StatusCreated, rm, err)
}

func (h *Handler) apiRoadmap(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	id, err := web.PathID(r, "id", "Feuille de route")
	if err != nil {
		return err
	}
	rm, err := h.svc.Roadmap(r.Context(), p, id)
	return one(w, http.StatusOK, rm, err)
}

// ItemInput is a new ambition, target or objective.
type ItemInput struct {
	ParentID int64  `json:"parent_id"`
	Title    string `json:"title"`
	Year     int    `json:"year"`
}

func (h *Handler) apiAddItem(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	id, err := web.PathID(r, "id", "Feuille de route")
	if err != nil {
		return err
	}
	var in ItemInput
	if err := web.DecodeJSON(w, r, maxBody, &in); err != nil {
		return err
	}
	it, err := h.svc.AddItem(r.Context(), p, id, RoadmapItem{ParentID: in.ParentID, Title: in.Title, Year: in.Year})
	return one(w, http.StatusCreated, it, err)
}

// RefreshResult says how many values a measurement recorded.
type RefreshResult struct {
	Recorded int `json:"recorded"`
}

func (h *Handler) apiRefresh(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	id, err := web.PathID(r, "id", "Feuille de route")
	if err != nil {
		return err
	}
	rm, err := h.svc.Roadmap(r.Context(), p, id)
	if err != nil {
		return err
	}
	if err := h.svc.check(r.Context(), p, auth.PermGovernanceManage, rm.OrgID, "Feuille de route"); err != nil {
		return err
	}
	n, err := h.svc.Refresh(r.Context(), p, id)
	return one(w, http.StatusOK, RefreshResult{Recorded: n}, err)
}

// IndicatorInput is a new indicator.
type IndicatorInput struct {
	Name       string    `json:"name"`
	Definition string    `json:"definition"`
	Unit       string    `json:"unit"`
	Source     string    `json:"source"`
	Target     *float64  `json:"target_value"`
	HigherBest *bool     `json:"higher_is_better"`
	Frequency  Frequency `json:"frequency"`
}

func (h *Handler) apiAddIndicator(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	id, err := web.PathID(r, "id", "Objectif")
	if err != nil {
		return err
	}
	var in IndicatorInput
	if err := web.DecodeJSON(w, r, maxBody, &in); err != nil {
		return err
	}
	higher := in.HigherBest == nil || *in.HigherBest
	ind, err := h.svc.AddIndicator(r.Context(), p, id, Indicator{Name: in.Name, Definition: in.Definition, Unit: in.Unit,
		Source: in.Source, Target: in.Target, HigherBest: higher, Frequency: in.Frequency})
	return one(w, http.StatusCreated, ind, err)
}

func (h *Handler) apiIndicators(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	roadmap, err := web.IntParam(q, "roadmap", 1, 1<<53)
	if err != nil {
		return err
	}
	org, err := web.IntParam(q, "org", 1, 1<<53)
	if err != nil {
		return err
	}
	vs, err := h.svc.Indicators(r.Context(), p, roadmap, org)
	return list(w, vs, err)
}

func (h *Handler) apiDeclare(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	id, err := web.PathID(r, "id", "Indicateur")
	if err != nil {
		return err
	}
	var in Declaration
	if err := web.DecodeJSON(w, r, maxBody, &in); err != nil {
		return err
	}
	v, err := h.svc.Declare(r.Context(), p, id, in)
	return one(w, http.StatusCreated, v, err)
}

func (h *Handler) apiCampaigns(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	cs, err := h.svc.Campaigns(r.Context(), p)
	return list(w, cs, err)
}

// CampaignInput is a new campaign.
type CampaignInput struct {
	IndicatorID    int64  `json:"indicator_id"`
	OrgID          int64  `json:"org_id"`
	RespondentRole string `json:"respondent_role"`
}

func (h *Handler) apiCreateCampaign(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	var in CampaignInput
	if err := web.DecodeJSON(w, r, maxBody, &in); err != nil {
		return err
	}
	if in.IndicatorID == 0 {
		return problem.Invalid("missing_field", "L'indicateur est obligatoire.").Field("indicator_id", "Obligatoire.")
	}
	c, err := h.svc.CreateCampaign(r.Context(), p, Campaign{IndicatorID: in.IndicatorID, OrgID: in.OrgID, RespondentRole: in.RespondentRole})
	return one(w, http.StatusCreated, c, err)
}
