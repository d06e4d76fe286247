package planning

import (
	"context"
	"fmt"
	"math"
	"regexp"
	"strings"

	"socle/internal/platform/auth"
	"socle/internal/platform/db"
	"socle/internal/platform/problem"
	"socle/internal/territory"
)

// Targets lists the targets with their criteria.
func (s *Service) Targets(ctx context.Context, p *auth.Principal) ([]Target, error) {
	if err := needRead(p); err != nil {
		return nil, err
	}
	ts, err := s.store.Targets(ctx)
	if err != nil {
		return nil, err
	}
	for i := range ts {
		if ts[i].Criteria, err = s.store.Criteria(ctx, ts[i].ID); err != nil {
			return nil, err
		}
	}
	return ts, nil
}

// Target returns one target.
func (s *Service) Target(ctx context.Context, p *auth.Principal, id int64) (Target, error) {
	if err := needRead(p); err != nil {
		return Target{}, err
	}
	return s.target(ctx, id)
}

// CurrentTarget returns the target in force (the latest "current" one, else
// the latest target); found is false when there is none.
func (s *Service) CurrentTarget(ctx context.Context, p *auth.Principal) (Target, bool, error) {
	ts, err := s.Targets(ctx, p)
	if err != nil || len(ts) == 0 {
		return Target{}, false, err
	}
	best := ts[len(ts)-1]
	for _, t := range ts {
		if t.Status == TargetCurrent {
			best = t
		}
	}
	return best, true, nil
}

var keyRe = regexp.MustCompile(`^[a-z0-9_-]{1,40}$`)

func validateCriterion(c *Criterion) error {
	c.Key, c.Label = strings.TrimSpace(c.Key), strings.TrimSpace(c.Label)
	info, ok := c.Metric.Info()
	if !ok {
		return problem.Invalid("invalid_criterion", "Mesure inconnue : "+string(c.Metric)+".").Field("metric", "Mesure inconnue.")
	}
	if c.Key == "" {
		c.Key = string(c.Metric)
		if c.EstablishmentType != "" {
			c.Key += "-" + c.EstablishmentType
		}
	}
	if !keyRe.MatchString(c.Key) {
		return problem.Invalid("invalid_criterion", "Le code du critère ne peut contenir que des minuscules, chiffres, tirets (40 au plus).").Field("key", "Code invalide.")
	}
	if c.Label == "" {
		c.Label = info.Label
		if c.Metric == MetricRecentDevices {
			c.Label = fmt.Sprintf("Part des équipements de moins de %d ans", c.Param)
		}
		if c.EstablishmentType != "" {
			c.Label += " — " + strings.ToLower(territory.Type(c.EstablishmentType).Label()) + "s"
		}
		switch c.Priority {
		case "REP", "REP+":
			c.Label += " (" + c.Priority + ")"
		case "any":
			c.Label += " (éducation prioritaire)"
		case "none":
			c.Label += " (hors éducation prioritaire)"
		}
	}
	if c.EstablishmentType != "" {
		ok := false
		for _, t := range territory.Types {
			ok = ok || string(t) == c.EstablishmentType
		}
		if !ok {
			return problem.Invalid("invalid_criterion", "Type d'établissement inconnu : "+c.EstablishmentType+".").Field("establishment_type", "Type inconnu.")
		}
	}
	switch c.Priority {
	case "", "REP", "REP+", "any", "none":
	default:
		return problem.Invalid("invalid_criterion", "Éducation prioritaire : choisissez REP, REP+, any ou none.").Field("priority", "Valeur inconnue.")
	}
	if math.IsNaN(c.Threshold) || math.IsInf(c.Threshold, 0) || c.Threshold < 0 {
		return problem.Invalid("invalid_criterion", "Le seuil doit être un nombre positif.").Field("threshold", "Seuil invalide.")
	}
	if c.Metric == MetricPupilsPerDevice && c.Threshold <= 0 {
		return problem.Invalid("invalid_criterion", "Le nombre d'élèves par poste visé doit être supérieur à zéro.").Field("threshold", "Seuil invalide.")
	}
	if (info.Unit == "part") && c.Threshold > 1 {
		return problem.Invalid("invalid_criterion", "Une part s'exprime entre 0 et 1 (0,9 pour 90 %).").Field("threshold", "Part invalide.")
	}
	if c.Metric == MetricRecentDevices && (c.Param < 1 || c.Param > 15) {
		return problem.Invalid("invalid_criterion", "Donnez l'âge des équipements en années (1 à 15).").Field("param", "Âge invalide.")
	}
	if c.UnitPriceCents < 0 {
		return problem.Invalid("invalid_criterion", "Le prix unitaire ne peut pas être négatif.").Field("unit_price_cents", "Prix invalide.")
	}
	return nil
}

// CreateTarget records a target and its criteria.
func (s *Service) CreateTarget(ctx context.Context, p *auth.Principal, t Target) (Target, error) {
	if err := needManage(p); err != nil {
		return Target{}, err
	}
	t.Name = strings.TrimSpace(t.Name)
	if t.Name == "" {
		return Target{}, problem.Invalid("invalid_target", "Donnez un nom à la cible.").Field("name", "Nom obligatoire.")
	}
	switch t.Status {
	case "":
		t.Status = TargetDraft
	case TargetDraft, TargetCurrent, TargetNext, TargetArchived:
	default:
		return Target{}, problem.Invalid("invalid_target", "Statut de cible inconnu.").Field("status", "Statut inconnu.")
	}
	seen := map[string]bool{}
	for i := range t.Criteria {
		if err := validateCriterion(&t.Criteria[i]); err != nil {
			return Target{}, err
		}
		if seen[t.Criteria[i].Key] {
			return Target{}, problem.Invalid("invalid_criterion", "Deux critères portent le code "+t.Criteria[i].Key+".").Field("key", "Code en double.")
		}
		seen[t.Criteria[i].Key] = true
		t.Criteria[i].Position = i + 1
	}
	var id int64
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		var err error
		if id, err = s.store.InsertTarget(ctx, tx, t, s.now().UTC()); err != nil {
			return fmt.Errorf("insert target: %w", err)
		}
		for _, c := range t.Criteria {
			if _, err := s.store.InsertCriterion(ctx, tx, id, c); err != nil {
				return fmt.Errorf("insert criterion: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return Target{}, err
	}
	s.log.Info("target created", "target", id, "criteria", len(t.Criteria))
	return s.target(ctx, id)
}

// AddCriterion adds a criterion to a target.
func (s *Service) AddCriterion(ctx context.Context, p *auth.Principal, targetID int64, c Criterion) (Target, error) {
	if err := needManage(p); err != nil {
		return Target{}, err
	}
	t, err := s.target(ctx, targetID)
	if err != nil {
		return Target{}, err
	}
	if err := validateCriterion(&c); err != nil {
		return Target{}, err
	}
	for _, o := range t.Criteria {
		if o.Key == c.Key {
			return Target{}, problem.Invalid("invalid_criterion", "Cette cible a déjà un critère de code "+c.Key+".").Field("key", "Code en double.")
		}
	}
	c.Position = len(t.Criteria) + 1
	if _, err := s.store.InsertCriterion(ctx, s.db, targetID, c); err != nil {
		return Target{}, fmt.Errorf("insert criterion: %w", err)
	}
	return s.target(ctx, targetID)
}

// SetDeclared records a declared value (connection, Wi-Fi, ENT, referent)
// for an establishment in the caller's scope for plan.manage.
func (s *Service) SetDeclared(ctx context.Context, p *auth.Principal, uai string, m Metric, v float64) error {
	if err := needManage(p); err != nil {
		return err
	}
	info, ok := m.Info()
	if !ok || !info.Declared {
		return problem.Invalid("invalid_declared", "Seules les mesures déclarées (débit, Wi-Fi, ENT, référent) peuvent être saisies.").Field("metric", "Mesure non déclarable.")
	}
	if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 || (info.Unit == "part" && v > 1) || (info.Unit == "oui/non" && v != 0 && v != 1) {
		return problem.Invalid("invalid_declared", "Valeur impossible pour « "+info.Label+" ».").Field("value", "Valeur invalide.")
	}
	e, err := s.establishmentByUAI(ctx, p, auth.PermPlanManage, uai)
	if err != nil {
		return err
	}
	return s.store.SetDeclared(ctx, s.db, e.ID, m, v, "saisie "+actor(p), s.now().UTC())
}

// SetRural declares whether a commune is rural (for the priorities).
func (s *Service) SetRural(ctx context.Context, p *auth.Principal, communeCode string, rural bool) error {
	if err := needManage(p); err != nil {
		return err
	}
	communeCode = strings.TrimSpace(communeCode)
	if len(communeCode) != 5 {
		return problem.Invalid("invalid_commune", "Code commune INSEE à 5 caractères attendu.").Field("commune", "Code invalide.")
	}
	// A commune is declared by whoever manages the plan on it; the
	// platform's managers may declare communes the directory has not
	// created as organizations.
	if !p.Global(auth.PermPlanManage) {
		var id int64
		err := s.db.QueryRowContext(ctx, `SELECT id FROM organizations WHERE kind = 'commune' AND code = ?`, communeCode).Scan(&id)
		if err != nil && !isNoRows(err) {
			return err
		}
		in, err := s.scopeIDs(ctx, p, auth.PermPlanManage, []int64{id})
		if err != nil {
			return err
		}
		if id == 0 || !in[id] {
			return problem.NotFound("Commune")
		}
	}
	return s.store.SetRural(ctx, s.db, communeCode, rural, s.now().UTC())
}

// SetPrice sets an entry of the price list.
func (s *Service) SetPrice(ctx context.Context, p *auth.Principal, key string, cents int64) error {
	if err := needManage(p); err != nil {
		return err
	}
	for _, k := range PriceKeys() {
		if k[0] == key {
			if cents <= 0 {
				return problem.Invalid("invalid_price", "Le prix doit être supérieur à zéro.").Field("unit_price_cents", "Prix invalide.")
			}
			return s.store.SetPrice(ctx, s.db, key, k[1], cents)
		}
	}
	return problem.Invalid("invalid_price", "Article inconnu dans la liste de prix.").Field("key", "Article inconnu.")
}

// Prices returns the price list (defaults filled in).
func (s *Service) Prices(ctx context.Context, p *auth.Principal) (map[string]int64, error) {
	if err := needRead(p); err != nil {
		return nil, err
	}
	m, err := s.store.Prices(ctx)
	if err != nil {
		return nil, err
	}
	for _, k := range PriceKeys() {
		if m[k[0]] <= 0 {
			m[k[0]] = defaultPrices[k[0]]
		}
	}
	return m, nil
}

// Comparison sets several targets side by side on the same data.
type Comparison struct {
	Targets []Target          `json:"targets"`
	Rows    []ComparisonRow   `json:"rows"`
	Totals  []ComparisonTotal `json:"totals"`
}

// ComparisonRow is one criterion key across targets.
type ComparisonRow struct {
	Key   string              `json:"key"`
	Label string              `json:"label"`
	Cells []*CriterionSummary `json:"cells"` // nil where the target lacks the criterion
}

// ComparisonTotal is one target's totals.
type ComparisonTotal struct {
	TargetID   int64 `json:"target_id"`
	MeetingAll int   `json:"meeting_all"`
	Schools    int   `json:"establishments"`
	CostCents  int64 `json:"cost_cents"`
}

// CompareTargets computes the gap to each target on one snapshot.
func (s *Service) CompareTargets(ctx context.Context, p *auth.Principal, ids []int64) (Comparison, error) {
	if err := needRead(p); err != nil {
		return Comparison{}, err
	}
	if len(ids) < 2 || len(ids) > 5 {
		return Comparison{}, problem.Invalid("invalid_comparison", "Choisissez de deux à cinq cibles à comparer.").Field("targets", "Deux à cinq cibles.")
	}
	var targets []Target
	for _, id := range ids {
		t, err := s.target(ctx, id)
		if err != nil {
			return Comparison{}, err
		}
		targets = append(targets, t)
	}
	snap, err := s.load(ctx, p, needsAges(targets...))
	if err != nil {
		return Comparison{}, err
	}
	out := Comparison{Rows: []ComparisonRow{}}
	index := map[string]int{}
	for ti, t := range targets {
		g, err := s.gap(ctx, p, snap, t)
		if err != nil {
			return Comparison{}, err
		}
		out.Targets = append(out.Targets, t)
		out.Totals = append(out.Totals, ComparisonTotal{TargetID: t.ID, MeetingAll: g.Territory.MeetingAll, Schools: g.Territory.Establishments, CostCents: g.Territory.CostCents})
		for _, cs := range g.Criteria {
			i, ok := index[cs.Key]
			if !ok {
				i = len(out.Rows)
				index[cs.Key] = i
				out.Rows = append(out.Rows, ComparisonRow{Key: cs.Key, Label: cs.Label, Cells: make([]*CriterionSummary, len(ids))})
			}
			c := cs
			out.Rows[i].Cells[ti] = &c
		}
	}
	return out, nil
}
