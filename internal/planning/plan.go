package planning

import (
	"context"
	"fmt"
	"strings"

	"socle/internal/platform/auth"
	"socle/internal/platform/db"
	"socle/internal/platform/problem"
	"socle/internal/platform/web"
)

// Plans lists the plans (without their operations).
func (s *Service) Plans(ctx context.Context, p *auth.Principal) ([]Plan, error) {
	if err := needRead(p); err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, name, strategy, description, created_at FROM plan_plans ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("plans: %w", err)
	}
	defer rows.Close()
	out := []Plan{}
	for rows.Next() {
		var pl Plan
		if err := rows.Scan(&pl.ID, &pl.Name, &pl.Strategy, &pl.Description, &pl.CreatedAt); err != nil {
			return nil, err
		}
		pl.Waves, pl.Operations = []Wave{}, []Operation{}
		out = append(out, pl)
	}
	return out, rows.Err()
}

// CreatePlan records a plan.
func (s *Service) CreatePlan(ctx context.Context, p *auth.Principal, pl Plan) (Plan, error) {
	if err := needManage(p); err != nil {
		return Plan{}, err
	}
	pl.Name = strings.TrimSpace(pl.Name)
	if pl.Name == "" {
		return Plan{}, problem.Invalid("invalid_plan", "Donnez un nom au plan.").Field("name", "Nom obligatoire.")
	}
	if pl.Strategy == "" {
		pl.Strategy = "phases"
	}
	if pl.Strategy != "phases" && pl.Strategy != "cycles" {
		return Plan{}, problem.Invalid("invalid_plan", "Stratégie : phases (expérimentation, pilotes, généralisation) ou cycles (communes par année).").Field("strategy", "Stratégie inconnue.")
	}
	id, err := insertID(ctx, s.db, `INSERT INTO plan_plans (name, strategy, description, created_at) VALUES (?, ?, ?, ?)`, pl.Name, pl.Strategy, pl.Description, s.now().UTC())
	if err != nil {
		return Plan{}, fmt.Errorf("insert plan: %w", err)
	}
	return s.Plan(ctx, p, id)
}

// Plan returns a plan with its waves and operations; the establishments
// listed are those of the caller's scope.
func (s *Service) Plan(ctx context.Context, p *auth.Principal, id int64) (Plan, error) {
	if err := needRead(p); err != nil {
		return Plan{}, err
	}
	var pl Plan
	err := s.db.QueryRowContext(ctx, `SELECT id, name, strategy, description, created_at FROM plan_plans WHERE id = ?`, id).
		Scan(&pl.ID, &pl.Name, &pl.Strategy, &pl.Description, &pl.CreatedAt)
	if isNoRows(err) {
		return pl, problem.NotFound("Plan")
	}
	if err != nil {
		return pl, err
	}
	scope, sargs := p.ScopeSQL(auth.PermPlanRead, "x.establishment_id")
	rows, err := s.db.QueryContext(ctx, `SELECT id, position, phase, name, starts_on, ends_on FROM plan_waves WHERE plan_id = ? ORDER BY position, id`, id)
	if err != nil {
		return pl, err
	}
	pl.Waves = []Wave{}
	for rows.Next() {
		var w Wave
		if err := rows.Scan(&w.ID, &w.Position, &w.Phase, &w.Name, &w.StartsOn, &w.EndsOn); err != nil {
			rows.Close()
			return pl, err
		}
		pl.Waves = append(pl.Waves, w)
	}
	rows.Close()
	// A wave or an operation whose establishments all lie outside the
	// caller's scope is not shown; those naming none concern everyone.
	global := p.Global(auth.PermPlanRead)
	hidden := func(table, col string, id int64, shown int) (bool, error) {
		if global || shown > 0 {
			return false, nil
		}
		var n int
		err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+table+` WHERE `+col+` = ?`, id).Scan(&n)
		return n > 0, err
	}
	waves := pl.Waves[:0]
	for _, w := range pl.Waves {
		if w.Establishments, _, err = s.store.uaisOf(ctx, `SELECT e.uai, x.establishment_id FROM plan_wave_schools x
			JOIN establishments e ON e.org_id = x.establishment_id WHERE x.wave_id = ? AND `+scope+` ORDER BY e.uai`, append([]any{w.ID}, sargs...)...); err != nil {
			return pl, err
		}
		if hide, err := hidden("plan_wave_schools", "wave_id", w.ID, len(w.Establishments)); err != nil {
			return pl, err
		} else if !hide {
			waves = append(waves, w)
		}
	}
	pl.Waves = waves
	rows, err = s.db.QueryContext(ctx, `SELECT id, COALESCE(wave_id, 0), kind, title, starts_on, ends_on, owner, status, asset_ids FROM plan_operations
		WHERE plan_id = ? ORDER BY starts_on, id`, id)
	if err != nil {
		return pl, err
	}
	pl.Operations = []Operation{}
	for rows.Next() {
		var o Operation
		var assets string
		if err := rows.Scan(&o.ID, &o.WaveID, &o.Kind, &o.Title, &o.StartsOn, &o.EndsOn, &o.Owner, &o.Status, &assets); err != nil {
			rows.Close()
			return pl, err
		}
		o.AssetIDs = splitIDs(assets)
		o.DependsOn = []int64{}
		pl.Operations = append(pl.Operations, o)
	}
	rows.Close()
	deps, err := s.deps(ctx, id)
	if err != nil {
		return pl, err
	}
	ops := pl.Operations[:0]
	for _, o := range pl.Operations {
		if d := deps[o.ID]; d != nil {
			o.DependsOn = d
		}
		if o.Establishments, _, err = s.store.uaisOf(ctx, `SELECT e.uai, x.establishment_id FROM plan_operation_schools x
			JOIN establishments e ON e.org_id = x.establishment_id WHERE x.operation_id = ? AND `+scope+` ORDER BY e.uai`, append([]any{o.ID}, sargs...)...); err != nil {
			return pl, err
		}
		if hide, err := hidden("plan_operation_schools", "operation_id", o.ID, len(o.Establishments)); err != nil {
			return pl, err
		} else if !hide {
			ops = append(ops, o)
		}
	}
	pl.Operations = ops
	return pl, nil
}

func (s *Service) deps(ctx context.Context, planID int64) (map[int64][]int64, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT d.operation_id, d.depends_on_id FROM plan_operation_deps d
		JOIN plan_operations o ON o.id = d.operation_id WHERE o.plan_id = ? ORDER BY d.operation_id, d.depends_on_id`, planID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64][]int64{}
	for rows.Next() {
		var a, b int64
		if err := rows.Scan(&a, &b); err != nil {
			return nil, err
		}
		out[a] = append(out[a], b)
	}
	return out, rows.Err()
}

// schoolIDs resolves UAIs to organization ids in the caller's scope for
// plan.manage; an unknown or out-of-scope UAI is refused by name.
func (s *Service) schoolIDs(ctx context.Context, p *auth.Principal, uais []string, field string) ([]int64, error) {
	for i := range uais {
		uais[i] = strings.ToUpper(strings.TrimSpace(uais[i]))
	}
	ids, err := s.store.orgIDsByUAI(ctx, s.db, uais)
	if err != nil {
		return nil, err
	}
	list := make([]int64, 0, len(uais))
	seen := map[int64]bool{}
	for _, u := range uais {
		id, ok := ids[u]
		if !ok {
			return nil, problem.Invalid("invalid_establishment", "Établissement inconnu : "+u+".").Field(field, "UAI inconnu.")
		}
		if !seen[id] {
			seen[id] = true
			list = append(list, id)
		}
	}
	in, err := s.scopeIDs(ctx, p, auth.PermPlanManage, list)
	if err != nil {
		return nil, err
	}
	for _, id := range list {
		if !in[id] {
			return nil, problem.Invalid("invalid_establishment", "Un des établissements n'est pas dans votre périmètre.").Field(field, "Hors périmètre.")
		}
	}
	return list, nil
}

// AddWave adds a wave of establishments to a plan.
func (s *Service) AddWave(ctx context.Context, p *auth.Principal, planID int64, w Wave) (Plan, error) {
	if err := needManage(p); err != nil {
		return Plan{}, err
	}
	pl, err := s.Plan(ctx, p, planID)
	if err != nil {
		return pl, err
	}
	w.Name = strings.TrimSpace(w.Name)
	if w.Name == "" {
		return pl, problem.Invalid("invalid_wave", "Donnez un nom à la vague.").Field("name", "Nom obligatoire.")
	}
	if _, ok := phaseLabels[w.Phase]; !ok {
		return pl, problem.Invalid("invalid_wave", "Phase : experimentation, pilots, generalisation ou cycle.").Field("phase", "Phase inconnue.")
	}
	if !validDate(w.StartsOn) || !validDate(w.EndsOn) || w.EndsOn < w.StartsOn {
		return pl, problem.Invalid("invalid_wave", "Dates de début et de fin au format AAAA-MM-JJ, la fin après le début.").Field("ends_on", "Dates invalides.")
	}
	if len(w.Communes) > 0 {
		ests, err := s.establishments(ctx, p, auth.PermPlanManage)
		if err != nil {
			return pl, err
		}
		want := map[string]bool{}
		for _, c := range w.Communes {
			want[strings.TrimSpace(c)] = true
		}
		found := map[string]bool{}
		for _, e := range ests {
			if want[e.CommuneCode] {
				w.Establishments = append(w.Establishments, e.UAI)
				found[e.CommuneCode] = true
			}
		}
		for c := range want {
			if !found[c] {
				return pl, problem.Invalid("invalid_wave", "Aucun établissement de votre périmètre dans la commune "+c+".").Field("communes", "Commune sans établissement.")
			}
		}
	}
	if len(w.Establishments) == 0 {
		return pl, problem.Invalid("invalid_wave", "Une vague rassemble au moins un établissement (UAI ou communes).").Field("establishments", "Aucun établissement.")
	}
	ids, err := s.schoolIDs(ctx, p, w.Establishments, "establishments")
	if err != nil {
		return pl, err
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		wid, err := insertID(ctx, tx, `INSERT INTO plan_waves (plan_id, position, phase, name, starts_on, ends_on) VALUES (?, ?, ?, ?, ?, ?)`,
			planID, len(pl.Waves)+1, w.Phase, w.Name, w.StartsOn, w.EndsOn)
		if err != nil {
			return fmt.Errorf("insert wave: %w", err)
		}
		for _, id := range ids {
			if _, err := tx.ExecContext(ctx, `INSERT INTO plan_wave_schools (wave_id, establishment_id) VALUES (?, ?)`, wid, id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return pl, err
	}
	return s.Plan(ctx, p, planID)
}

// hasCycle reports whether adding edges from op to deps closes a loop.
func hasCycle(edges map[int64][]int64, op int64, deps []int64) bool {
	seen := map[int64]bool{}
	var visit func(n int64) bool
	visit = func(n int64) bool {
		if n == op {
			return true
		}
		if seen[n] {
			return false
		}
		seen[n] = true
		for _, m := range edges[n] {
			if visit(m) {
				return true
			}
		}
		return false
	}
	for _, d := range deps {
		if visit(d) {
			return true
		}
	}
	return false
}

func (s *Service) validateOperation(pl Plan, o *Operation, self int64) error {
	o.Title, o.Owner = strings.TrimSpace(o.Title), strings.TrimSpace(o.Owner)
	if !o.Kind.Valid() {
		return problem.Invalid("invalid_operation", "Nature d'opération : works, procurement, deployment, go-live ou acceptance.").Field("kind", "Nature inconnue.")
	}
	if o.Title == "" {
		return problem.Invalid("invalid_operation", "Donnez un intitulé à l'opération.").Field("title", "Intitulé obligatoire.")
	}
	if !validDate(o.StartsOn) || !validDate(o.EndsOn) || o.EndsOn < o.StartsOn {
		return problem.Invalid("invalid_operation", "Dates de début et de fin au format AAAA-MM-JJ, la fin après le début.").Field("ends_on", "Dates invalides.")
	}
	if o.Status == "" {
		o.Status = OpPlanned
	}
	if !o.Status.Valid() {
		return problem.Invalid("invalid_operation", "Statut : planned, in-progress, done ou cancelled.").Field("status", "Statut inconnu.")
	}
	ops := map[int64]Operation{}
	for _, x := range pl.Operations {
		ops[x.ID] = x
	}
	if o.WaveID != 0 {
		ok := false
		for _, w := range pl.Waves {
			ok = ok || w.ID == o.WaveID
		}
		if !ok {
			return problem.Invalid("invalid_operation", "Cette vague n'appartient pas au plan.").Field("wave_id", "Vague inconnue.")
		}
	}
	edges := map[int64][]int64{}
	for _, x := range pl.Operations {
		if x.ID != self {
			edges[x.ID] = x.DependsOn
		}
	}
	for _, d := range o.DependsOn {
		dep, ok := ops[d]
		if !ok || d == self {
			return problem.Invalid("invalid_operation", "Une opération ne peut dépendre que d'une autre opération du même plan.").Field("depends_on", "Dépendance inconnue.")
		}
		if dep.EndsOn > o.StartsOn {
			return problem.Invalid("invalid_operation", "L'opération commence le "+frDate(o.StartsOn)+", avant la fin de « "+dep.Title+" » dont elle dépend ("+frDate(dep.EndsOn)+").").Field("starts_on", "Commence avant la fin d'une dépendance.")
		}
	}
	if self != 0 && hasCycle(edges, self, o.DependsOn) {
		return problem.Invalid("invalid_operation", "Ces dépendances formeraient une boucle : une opération attendrait sa propre fin.").Field("depends_on", "Dépendances en boucle.")
	}
	return nil
}

// AddOperation adds an operation to a plan.
func (s *Service) AddOperation(ctx context.Context, p *auth.Principal, planID int64, o Operation) (Operation, error) {
	if err := needManage(p); err != nil {
		return Operation{}, err
	}
	pl, err := s.Plan(ctx, p, planID)
	if err != nil {
		return Operation{}, err
	}
	if err := s.validateOperation(pl, &o, 0); err != nil {
		return Operation{}, err
	}
	ids, err := s.schoolIDs(ctx, p, o.Establishments, "establishments")
	if err != nil {
		return Operation{}, err
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		var err error
		o.ID, err = insertID(ctx, tx, `INSERT INTO plan_operations (plan_id, wave_id, kind, title, starts_on, ends_on, owner, status, asset_ids)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, planID, db.NullID(o.WaveID), string(o.Kind), o.Title, o.StartsOn, o.EndsOn, o.Owner, string(o.Status), joinIDs(o.AssetIDs))
		if err != nil {
			return fmt.Errorf("insert operation: %w", err)
		}
		return s.writeLinks(ctx, tx, o.ID, o.DependsOn, ids)
	})
	if err != nil {
		return Operation{}, err
	}
	return s.operation(ctx, p, planID, o.ID)
}

func (s *Service) writeLinks(ctx context.Context, tx *db.Tx, opID int64, deps, schools []int64) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM plan_operation_deps WHERE operation_id = ?`, opID); err != nil {
		return err
	}
	seen := map[int64]bool{}
	for _, d := range deps {
		if seen[d] {
			continue
		}
		seen[d] = true
		if _, err := tx.ExecContext(ctx, `INSERT INTO plan_operation_deps (operation_id, depends_on_id) VALUES (?, ?)`, opID, d); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM plan_operation_schools WHERE operation_id = ?`, opID); err != nil {
		return err
	}
	for _, id := range schools {
		if _, err := tx.ExecContext(ctx, `INSERT INTO plan_operation_schools (operation_id, establishment_id) VALUES (?, ?)`, opID, id); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) operation(ctx context.Context, p *auth.Principal, planID, opID int64) (Operation, error) {
	pl, err := s.Plan(ctx, p, planID)
	if err != nil {
		return Operation{}, err
	}
	for _, o := range pl.Operations {
		if o.ID == opID {
			return o, nil
		}
	}
	return Operation{}, problem.NotFound("Opération")
}

// UpdateOperation changes an operation (dates, dependencies, owner,
// status...). Setting a deployment operation to done records the
// deployment in the fleet, in the same call.
func (s *Service) UpdateOperation(ctx context.Context, p *auth.Principal, planID, opID int64, o Operation) (Operation, error) {
	if err := needManage(p); err != nil {
		return Operation{}, err
	}
	pl, err := s.Plan(ctx, p, planID)
	if err != nil {
		return Operation{}, err
	}
	var cur *Operation
	for i := range pl.Operations {
		if pl.Operations[i].ID == opID {
			cur = &pl.Operations[i]
		}
	}
	if cur == nil {
		return Operation{}, problem.NotFound("Opération")
	}
	if err := s.validateOperation(pl, &o, opID); err != nil {
		return Operation{}, err
	}
	ids, err := s.schoolIDs(ctx, p, o.Establishments, "establishments")
	if err != nil {
		return Operation{}, err
	}
	// The caller only sees, and so only edits, the establishments of
	// their scope: the others stay linked.
	_, linked, err := s.store.uaisOf(ctx, `SELECT e.uai, x.establishment_id FROM plan_operation_schools x
		JOIN establishments e ON e.org_id = x.establishment_id WHERE x.operation_id = ?`, opID)
	if err != nil {
		return Operation{}, err
	}
	visible, err := s.scopeIDs(ctx, p, auth.PermPlanRead, linked)
	if err != nil {
		return Operation{}, err
	}
	for _, id := range linked {
		if !visible[id] {
			ids = append(ids, id)
		}
	}
	completing := o.Status == OpDone && cur.Status != OpDone
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		var done any
		if o.Status == OpDone {
			done = s.now().UTC()
		}
		if _, err := tx.ExecContext(ctx, `UPDATE plan_operations SET wave_id = ?, kind = ?, title = ?, starts_on = ?, ends_on = ?, owner = ?, status = ?, asset_ids = ?, completed_at = ?
			WHERE id = ? AND plan_id = ?`, db.NullID(o.WaveID), string(o.Kind), o.Title, o.StartsOn, o.EndsOn, o.Owner, string(o.Status), joinIDs(o.AssetIDs), done, opID, planID); err != nil {
			return fmt.Errorf("update operation: %w", err)
		}
		return s.writeLinks(ctx, tx, opID, o.DependsOn, ids)
	})
	if err != nil {
		return Operation{}, err
	}
	if completing && o.Kind == OpDeployment && s.updater != nil {
		d := Deployment{OperationID: opID, Title: o.Title, Establishments: o.Establishments, AssetIDs: o.AssetIDs, Date: s.now().In(web.Paris()).Format(dateLayout)}
		if err := s.updater.DeploymentDone(ctx, p, d); err != nil {
			return Operation{}, fmt.Errorf("record deployment in the fleet: %w", err)
		}
	}
	return s.operation(ctx, p, planID, opID)
}

// SetOperationStatus changes only an operation's status.
func (s *Service) SetOperationStatus(ctx context.Context, p *auth.Principal, planID, opID int64, st OpStatus) (Operation, error) {
	o, err := s.operation(ctx, p, planID, opID)
	if err != nil {
		return o, err
	}
	o.Status = st
	return s.UpdateOperation(ctx, p, planID, opID, o)
}
