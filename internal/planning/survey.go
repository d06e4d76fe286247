package planning

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"socle/internal/platform/auth"
	"socle/internal/platform/db"
	"socle/internal/platform/problem"
	"socle/internal/platform/web"
)

// QuestionType is how a question is answered.
type QuestionType string

const (
	QSingle   QuestionType = "single"
	QMultiple QuestionType = "multiple"
	QNumber   QuestionType = "number"
	QText     QuestionType = "text"
	QYesNo    QuestionType = "yesno"
	QScale    QuestionType = "scale"
)

// Label is the type's French name.
func (t QuestionType) Label() string {
	switch t {
	case QSingle:
		return "Choix unique"
	case QMultiple:
		return "Choix multiple"
	case QNumber:
		return "Nombre"
	case QText:
		return "Texte libre"
	case QYesNo:
		return "Oui / non"
	case QScale:
		return "Échelle"
	}
	return string(t)
}

// QuestionTypes lists the types.
func QuestionTypes() []QuestionType {
	return []QuestionType{QSingle, QMultiple, QNumber, QText, QYesNo, QScale}
}

// Option is a choice of a single- or multiple-choice question; Score is its
// level in the question's domain.
type Option struct {
	Label string  `json:"label"`
	Score float64 `json:"score"`
}

// Question is one question of a questionnaire.
type Question struct {
	ID       int64        `json:"id"`
	Position int          `json:"position"`
	Domain   string       `json:"domain"`
	Text     string       `json:"text"`
	Type     QuestionType `json:"type"`
	Required bool         `json:"required"`
	Options  []Option     `json:"options"`
	Min      int          `json:"min"`
	Max      int          `json:"max"`
	// Declares names the declared metric an answer updates (the equipment
	// survey fills the connection, Wi-Fi, ENT and referent values).
	Declares string `json:"declares,omitempty"`
}

// Questionnaire is a set of questions, scored per domain.
type Questionnaire struct {
	ID          int64      `json:"id"`
	BuiltinKey  string     `json:"builtin_key,omitempty"`
	Name        string     `json:"name"`
	Description string     `json:"description"`
	Questions   []Question `json:"questions"`
}

// Domains lists the scored domains of the questionnaire, in order.
func (q Questionnaire) Domains() []string {
	var out []string
	seen := map[string]bool{}
	for _, qu := range q.Questions {
		if qu.Domain != "" && scored(qu) && !seen[qu.Domain] {
			seen[qu.Domain] = true
			out = append(out, qu.Domain)
		}
	}
	return out
}

func scored(q Question) bool {
	switch q.Type {
	case QSingle, QMultiple:
		for _, o := range q.Options {
			if o.Score != 0 {
				return true
			}
		}
	case QScale:
		return true
	}
	return false
}

// Builtin questionnaire keys.
const (
	BuiltinEquipment = "equipment"
	BuiltinMaturity  = "maturity"
)

// The five domains of the digital maturity self-assessment, in the spirit
// of the ministry's tool, each answered at one of three levels.
var maturityDomains = []string{"Pilotage et organisation", "Formation", "Ressources", "Pratiques pédagogiques", "Infrastructures et équipements"}

func levels(minimal, success, advanced string) []Option {
	return []Option{{"Niveau 1 — conditions minimales : " + minimal, 1}, {"Niveau 2 — conditions de réussite : " + success, 2}, {"Niveau 3 — avancé : " + advanced, 3}}
}

func builtinQuestionnaires() []Questionnaire {
	mq := func(domain, text string, opts []Option) Question {
		return Question{Domain: domain, Text: text, Type: QSingle, Required: true, Options: opts}
	}
	maturity := Questionnaire{BuiltinKey: BuiltinMaturity, Name: "Autoévaluation de la maturité numérique",
		Description: "Cinq domaines, trois niveaux : conditions minimales, conditions de réussite, avancé. À remplir par la direction avec l'équipe.",
		Questions: []Question{
			mq(maturityDomains[0], "Le numérique figure-t-il dans le projet d'école ou d'établissement ?", levels("il n'y figure pas encore", "il y figure avec des objectifs", "il est suivi et évalué chaque année")),
			mq(maturityDomains[0], "Comment l'usage du numérique est-il organisé ?", levels("au cas par cas", "un référent numérique coordonne", "une équipe et un calendrier partagés")),
			mq(maturityDomains[1], "Les enseignants sont-ils formés aux outils numériques ?", levels("quelques-uns", "la majorité", "tous, avec un plan de formation")),
			mq(maturityDomains[1], "Les élèves sont-ils formés aux compétences numériques (Pix) ?", levels("ponctuellement", "dans plusieurs classes", "de façon progressive dans toutes les classes")),
			mq(maturityDomains[2], "Des ressources numériques pédagogiques sont-elles disponibles ?", levels("peu ou pas", "dans plusieurs disciplines", "dans toutes les disciplines, connues de tous")),
			mq(maturityDomains[2], "L'ENT est-il utilisé ?", levels("pas encore", "pour la vie scolaire et le cahier de textes", "pour le travail quotidien avec les élèves et les familles")),
			mq(maturityDomains[3], "Les élèves utilisent-ils le numérique en classe ?", levels("rarement", "chaque semaine", "chaque jour, en autonomie")),
			mq(maturityDomains[3], "Le numérique sert-il à différencier et à collaborer ?", levels("non", "parfois", "régulièrement")),
			mq(maturityDomains[4], "Le réseau et le Wi-Fi suffisent-ils aux usages ?", levels("souvent insuffisants", "suffisants dans la plupart des salles", "fiables partout")),
			mq(maturityDomains[4], "Les équipements sont-ils en état de marche et maintenus ?", levels("pannes fréquentes", "maintenance assurée", "maintenance et renouvellement planifiés")),
		}}
	equipment := Questionnaire{BuiltinKey: BuiltinEquipment, Name: "Enquête équipement et infrastructure",
		Description: "Connexion, Wi-Fi, salles, équipements non inventoriés et besoins.",
		Questions: []Question{
			{Domain: "Connexion", Text: "Débit de la connexion internet (Mbit/s)", Type: QNumber, Required: true, Min: 0, Max: 10000, Declares: string(MetricConnection)},
			{Domain: "Connexion", Text: "Type de connexion", Type: QSingle, Required: true, Options: []Option{{"ADSL", 1}, {"Fibre (THD)", 3}, {"4G/5G ou satellite", 2}, {"Autre ou ne sait pas", 0}}},
			{Domain: "Wi-Fi", Text: "Part des salles de classe couvertes par le Wi-Fi (%)", Type: QScale, Required: true, Min: 0, Max: 100, Declares: string(MetricWifi)},
			{Domain: "Salles", Text: "Nombre de salles de classe", Type: QNumber, Required: true, Min: 0, Max: 500},
			{Domain: "Équipement", Text: "Équipements en service non inventoriés (nombre)", Type: QNumber, Min: 0, Max: 10000},
			{Domain: "Services", Text: "L'ENT est-il activé pour l'établissement ?", Type: QYesNo, Required: true, Declares: string(MetricENT)},
			{Domain: "Services", Text: "Un référent numérique formé est-il désigné ?", Type: QYesNo, Required: true, Declares: string(MetricReferent)},
			{Domain: "Besoins", Text: "Besoins prioritaires", Type: QMultiple, Options: []Option{{"Postes élèves", 0}, {"Tableaux interactifs", 0}, {"Wi-Fi", 0}, {"Connexion", 0}, {"Formation", 0}, {"Ressources", 0}}},
			{Domain: "Besoins", Text: "Précisions", Type: QText},
		}}
	return []Questionnaire{equipment, maturity}
}

// ensureBuiltins creates the two built-in questionnaires once.
func (s *Service) ensureBuiltins(ctx context.Context) error {
	for _, q := range builtinQuestionnaires() {
		var n int
		if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM plan_questionnaires WHERE builtin_key = ?`, q.BuiltinKey).Scan(&n); err != nil {
			return fmt.Errorf("builtin questionnaires: %w", err)
		}
		if n > 0 {
			continue
		}
		err := s.db.InTx(ctx, func(tx *db.Tx) error { _, err := s.insertQuestionnaire(ctx, tx, q); return err })
		if err != nil && !db.IsUniqueViolation(err) {
			return err
		}
	}
	return nil
}

func (s *Service) insertQuestionnaire(ctx context.Context, tx *db.Tx, q Questionnaire) (int64, error) {
	var key any
	if q.BuiltinKey != "" {
		key = q.BuiltinKey
	}
	id, err := insertID(ctx, tx, `INSERT INTO plan_questionnaires (builtin_key, name, description, created_at) VALUES (?, ?, ?, ?)`, key, q.Name, q.Description, s.now().UTC())
	if err != nil {
		return 0, fmt.Errorf("insert questionnaire: %w", err)
	}
	for i, qu := range q.Questions {
		if err := s.insertQuestion(ctx, tx, id, i+1, qu); err != nil {
			return 0, err
		}
	}
	return id, nil
}

func (s *Service) insertQuestion(ctx context.Context, q db.Querier, qid int64, pos int, qu Question) error {
	req := 0
	if qu.Required {
		req = 1
	}
	if qu.Options == nil {
		qu.Options = []Option{}
	}
	_, err := q.ExecContext(ctx, `INSERT INTO plan_questions (questionnaire_id, position, domain, text, qtype, required, options, min_value, max_value, declares)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, qid, pos, qu.Domain, qu.Text, string(qu.Type), req, mustJSON(qu.Options), qu.Min, qu.Max, qu.Declares)
	if err != nil {
		return fmt.Errorf("insert question: %w", err)
	}
	return nil
}

func (s *Service) questionnaire(ctx context.Context, id int64) (Questionnaire, error) {
	var q Questionnaire
	var key *string
	err := s.db.QueryRowContext(ctx, `SELECT id, builtin_key, name, description FROM plan_questionnaires WHERE id = ?`, id).Scan(&q.ID, &key, &q.Name, &q.Description)
	if isNoRows(err) {
		return q, problem.NotFound("Questionnaire")
	}
	if err != nil {
		return q, err
	}
	if key != nil {
		q.BuiltinKey = *key
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, position, domain, text, qtype, required, options, min_value, max_value, declares
		FROM plan_questions WHERE questionnaire_id = ? ORDER BY position, id`, id)
	if err != nil {
		return q, err
	}
	defer rows.Close()
	q.Questions = []Question{}
	for rows.Next() {
		var qu Question
		var req int
		var opts string
		if err := rows.Scan(&qu.ID, &qu.Position, &qu.Domain, &qu.Text, &qu.Type, &req, &opts, &qu.Min, &qu.Max, &qu.Declares); err != nil {
			return q, err
		}
		qu.Required = req == 1
		if err := json.Unmarshal([]byte(opts), &qu.Options); err != nil {
			return q, fmt.Errorf("question %d options: %w", qu.ID, err)
		}
		q.Questions = append(q.Questions, qu)
	}
	return q, rows.Err()
}

// Questionnaires lists the questionnaires (the built-in ones first created).
func (s *Service) Questionnaires(ctx context.Context, p *auth.Principal) ([]Questionnaire, error) {
	if err := needRead(p); err != nil {
		return nil, err
	}
	if err := s.ensureBuiltins(ctx); err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id FROM plan_questionnaires ORDER BY id`)
	if err != nil {
		return nil, err
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	out := []Questionnaire{}
	for _, id := range ids {
		q, err := s.questionnaire(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, q)
	}
	return out, nil
}

// Questionnaire returns one questionnaire.
func (s *Service) Questionnaire(ctx context.Context, p *auth.Principal, id int64) (Questionnaire, error) {
	if anonymous(p) {
		return Questionnaire{}, problem.Unauthenticated()
	}
	if !p.Has(auth.PermPlanRead) && !p.Has(auth.PermSurveyAnswer) {
		return Questionnaire{}, problem.Forbidden()
	}
	return s.questionnaire(ctx, id)
}

func validateQuestion(q *Question) error {
	q.Text, q.Domain = strings.TrimSpace(q.Text), strings.TrimSpace(q.Domain)
	if q.Text == "" {
		return problem.Invalid("invalid_question", "Écrivez la question.").Field("text", "Question obligatoire.")
	}
	ok := false
	for _, t := range QuestionTypes() {
		ok = ok || t == q.Type
	}
	if !ok {
		return problem.Invalid("invalid_question", "Type de question inconnu.").Field("type", "Type inconnu.")
	}
	if (q.Type == QSingle || q.Type == QMultiple) && len(q.Options) < 2 {
		return problem.Invalid("invalid_question", "Une question à choix demande au moins deux réponses possibles.").Field("options", "Deux choix au moins.")
	}
	for _, o := range q.Options {
		if strings.TrimSpace(o.Label) == "" || math.IsNaN(o.Score) || math.IsInf(o.Score, 0) {
			return problem.Invalid("invalid_question", "Chaque choix a un libellé et un score numérique.").Field("options", "Choix invalide.")
		}
	}
	if q.Type == QScale {
		if q.Max == 0 && q.Min == 0 {
			q.Min, q.Max = 1, 5
		}
		if q.Max <= q.Min {
			return problem.Invalid("invalid_question", "Le maximum de l'échelle doit dépasser son minimum.").Field("max", "Échelle invalide.")
		}
	}
	if q.Declares != "" {
		if info, ok := Metric(q.Declares).Info(); !ok || !info.Declared {
			return problem.Invalid("invalid_question", "Une réponse ne peut renseigner qu'une mesure déclarée.").Field("declares", "Mesure inconnue.")
		}
	}
	return nil
}

// CreateQuestionnaire records a questionnaire built by the collectivité.
func (s *Service) CreateQuestionnaire(ctx context.Context, p *auth.Principal, q Questionnaire) (Questionnaire, error) {
	if err := needManage(p); err != nil {
		return Questionnaire{}, err
	}
	q.Name = strings.TrimSpace(q.Name)
	q.BuiltinKey = ""
	if q.Name == "" {
		return Questionnaire{}, problem.Invalid("invalid_questionnaire", "Donnez un nom au questionnaire.").Field("name", "Nom obligatoire.")
	}
	for i := range q.Questions {
		if err := validateQuestion(&q.Questions[i]); err != nil {
			return Questionnaire{}, err
		}
	}
	var id int64
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		var err error
		id, err = s.insertQuestionnaire(ctx, tx, q)
		return err
	})
	if err != nil {
		return Questionnaire{}, err
	}
	return s.questionnaire(ctx, id)
}

// AddQuestion appends a question to a questionnaire that no campaign uses
// yet (answers already given must keep their meaning).
func (s *Service) AddQuestion(ctx context.Context, p *auth.Principal, qid int64, qu Question) (Questionnaire, error) {
	if err := needManage(p); err != nil {
		return Questionnaire{}, err
	}
	q, err := s.questionnaire(ctx, qid)
	if err != nil {
		return q, err
	}
	if q.BuiltinKey != "" {
		return q, problem.Conflict("builtin_questionnaire", "Les questionnaires fournis ne se modifient pas : créez le vôtre.")
	}
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM plan_campaigns WHERE questionnaire_id = ?`, qid).Scan(&n); err != nil {
		return q, err
	}
	if n > 0 {
		return q, problem.Conflict("questionnaire_in_use", "Ce questionnaire est déjà utilisé par une campagne : créez-en une copie.")
	}
	if err := validateQuestion(&qu); err != nil {
		return q, err
	}
	if err := s.insertQuestion(ctx, s.db, qid, len(q.Questions)+1, qu); err != nil {
		return q, err
	}
	return s.questionnaire(ctx, qid)
}

// Campaign sends a questionnaire to establishments between two dates.
type Campaign struct {
	ID              int64    `json:"id"`
	QuestionnaireID int64    `json:"questionnaire_id"`
	Questionnaire   string   `json:"questionnaire"`
	Name            string   `json:"name"`
	OpensOn         string   `json:"opens_on"`
	ClosesOn        string   `json:"closes_on"`
	Establishments  []string `json:"establishments"`
	Answered        int      `json:"answered"`
}

// Open reports whether answers are accepted on day.
func (c Campaign) Open(day string) bool { return day >= c.OpensOn && day <= c.ClosesOn }

func validDate(s string) bool {
	_, err := time.Parse(dateLayout, s)
	return err == nil
}

// CreateCampaign records a campaign for establishments in the caller's
// scope for plan.manage.
func (s *Service) CreateCampaign(ctx context.Context, p *auth.Principal, c Campaign) (Campaign, error) {
	if err := needManage(p); err != nil {
		return Campaign{}, err
	}
	c.Name = strings.TrimSpace(c.Name)
	if c.Name == "" {
		return Campaign{}, problem.Invalid("invalid_campaign", "Donnez un nom à la campagne.").Field("name", "Nom obligatoire.")
	}
	if !validDate(c.OpensOn) || !validDate(c.ClosesOn) || c.ClosesOn < c.OpensOn {
		return Campaign{}, problem.Invalid("invalid_campaign", "Dates d'ouverture et de clôture au format AAAA-MM-JJ, la clôture après l'ouverture.").Field("closes_on", "Dates invalides.")
	}
	if _, err := s.Questionnaire(ctx, p, c.QuestionnaireID); err != nil {
		return Campaign{}, err
	}
	if len(c.Establishments) == 0 {
		return Campaign{}, problem.Invalid("invalid_campaign", "Choisissez au moins un établissement.").Field("establishments", "Aucun établissement.")
	}
	ids, err := s.store.orgIDsByUAI(ctx, s.db, c.Establishments)
	if err != nil {
		return Campaign{}, err
	}
	list := make([]int64, 0, len(ids))
	for _, u := range c.Establishments {
		id, ok := ids[strings.ToUpper(strings.TrimSpace(u))]
		if !ok {
			return Campaign{}, problem.Invalid("invalid_campaign", "Établissement inconnu : "+u+".").Field("establishments", "UAI inconnu.")
		}
		list = append(list, id)
	}
	in, err := s.scopeIDs(ctx, p, auth.PermPlanManage, list)
	if err != nil {
		return Campaign{}, err
	}
	for i, id := range list {
		if !in[id] {
			return Campaign{}, problem.NotFound("Établissement " + c.Establishments[i])
		}
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		var err error
		c.ID, err = insertID(ctx, tx, `INSERT INTO plan_campaigns (questionnaire_id, name, opens_on, closes_on, created_at) VALUES (?, ?, ?, ?, ?)`,
			c.QuestionnaireID, c.Name, c.OpensOn, c.ClosesOn, s.now().UTC())
		if err != nil {
			return fmt.Errorf("insert campaign: %w", err)
		}
		seen := map[int64]bool{}
		for _, id := range list {
			if seen[id] {
				continue
			}
			seen[id] = true
			if _, err := tx.ExecContext(ctx, `INSERT INTO plan_campaign_schools (campaign_id, establishment_id) VALUES (?, ?)`, c.ID, id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return Campaign{}, err
	}
	return s.Campaign(ctx, p, c.ID)
}

// campaignSchools lists the establishments of a campaign in the caller's
// scope for perm.
func (s *Service) campaignSchools(ctx context.Context, p *auth.Principal, perm auth.Permission, id int64) ([]string, []int64, error) {
	scope, args := p.ScopeSQL(perm, "cs.establishment_id")
	return s.store.uaisOf(ctx, `SELECT e.uai, cs.establishment_id FROM plan_campaign_schools cs JOIN establishments e ON e.org_id = cs.establishment_id
		WHERE cs.campaign_id = ? AND `+scope+` ORDER BY e.uai`, append([]any{id}, args...)...)
}

// Campaign returns a campaign with the establishments of the caller's
// scope (plan.read, or survey.answer for a school head); none: 404.
func (s *Service) Campaign(ctx context.Context, p *auth.Principal, id int64) (Campaign, error) {
	if anonymous(p) {
		return Campaign{}, problem.Unauthenticated()
	}
	var c Campaign
	err := s.db.QueryRowContext(ctx, `SELECT c.id, c.questionnaire_id, q.name, c.name, c.opens_on, c.closes_on FROM plan_campaigns c
		JOIN plan_questionnaires q ON q.id = c.questionnaire_id WHERE c.id = ?`, id).Scan(&c.ID, &c.QuestionnaireID, &c.Questionnaire, &c.Name, &c.OpensOn, &c.ClosesOn)
	if isNoRows(err) {
		return c, problem.NotFound("Campagne")
	}
	if err != nil {
		return c, err
	}
	perm := auth.PermPlanRead
	if !p.Has(perm) {
		perm = auth.PermSurveyAnswer
	}
	uais, ids, err := s.campaignSchools(ctx, p, perm, id)
	if err != nil {
		return c, err
	}
	if len(uais) == 0 && !p.Global(auth.PermPlanRead) {
		return Campaign{}, problem.NotFound("Campagne")
	}
	c.Establishments = uais
	answered, err := s.currentResponses(ctx, id)
	if err != nil {
		return c, err
	}
	for _, oid := range ids {
		if _, ok := answered[oid]; ok {
			c.Answered++
		}
	}
	return c, nil
}

// Campaigns lists the campaigns with establishments in the caller's scope.
func (s *Service) Campaigns(ctx context.Context, p *auth.Principal) ([]Campaign, error) {
	if anonymous(p) {
		return nil, problem.Unauthenticated()
	}
	if !p.Has(auth.PermPlanRead) && !p.Has(auth.PermSurveyAnswer) {
		return nil, problem.Forbidden()
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id FROM plan_campaigns ORDER BY opens_on DESC, id DESC`)
	if err != nil {
		return nil, err
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	out := []Campaign{}
	for _, id := range ids {
		c, err := s.Campaign(ctx, p, id)
		if isNotFound(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// Response is one submission of a questionnaire by an establishment.
type Response struct {
	ID          int64              `json:"id"`
	UAI         string             `json:"establishment"`
	UserID      int64              `json:"user_id"`
	SubmittedAt time.Time          `json:"submitted_at"`
	Current     bool               `json:"current"`
	Answers     map[string]any     `json:"answers"` // by question id
	Scores      map[string]float64 `json:"scores"`  // mean level per domain
}

// currentResponses maps establishment ids to their current scores.
func (s *Service) currentResponses(ctx context.Context, campaignID int64) (map[int64]map[string]float64, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT establishment_id, scores FROM plan_responses WHERE campaign_id = ? AND is_current = 1`, campaignID)
	if err != nil {
		return nil, fmt.Errorf("responses: %w", err)
	}
	defer rows.Close()
	out := map[int64]map[string]float64{}
	for rows.Next() {
		var id int64
		var sc string
		if err := rows.Scan(&id, &sc); err != nil {
			return nil, err
		}
		m := map[string]float64{}
		if err := json.Unmarshal([]byte(sc), &m); err != nil {
			return nil, fmt.Errorf("response scores: %w", err)
		}
		out[id] = m
	}
	return out, rows.Err()
}

// latestMaturity is, per establishment, the mean level over the domains of
// its latest current answer to the maturity self-assessment.
func (s *Service) latestMaturity(ctx context.Context) (map[int64]float64, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT r.establishment_id, r.scores FROM plan_responses r
		JOIN plan_campaigns c ON c.id = r.campaign_id JOIN plan_questionnaires q ON q.id = c.questionnaire_id
		WHERE q.builtin_key = ? AND r.is_current = 1 ORDER BY r.submitted_at, r.id`, BuiltinMaturity)
	if err != nil {
		return nil, fmt.Errorf("maturity: %w", err)
	}
	defer rows.Close()
	out := map[int64]float64{}
	for rows.Next() {
		var id int64
		var sc string
		if err := rows.Scan(&id, &sc); err != nil {
			return nil, err
		}
		m := map[string]float64{}
		if err := json.Unmarshal([]byte(sc), &m); err != nil || len(m) == 0 {
			continue
		}
		sum := 0.0
		for _, v := range m {
			sum += v
		}
		out[id] = math.Round(sum/float64(len(m))*100) / 100
	}
	return out, rows.Err()
}

// Answer records the answers of an establishment (by its head, with
// survey.answer on it) while the campaign is open. Answering again keeps
// the earlier submission in the history.
func (s *Service) Answer(ctx context.Context, p *auth.Principal, campaignID int64, uai string, answers map[string]any) (Response, error) {
	if anonymous(p) {
		return Response{}, problem.Unauthenticated()
	}
	if !p.Has(auth.PermSurveyAnswer) {
		return Response{}, problem.Forbidden()
	}
	c, err := s.Campaign(ctx, p, campaignID)
	if err != nil {
		return Response{}, err
	}
	uai = strings.ToUpper(strings.TrimSpace(uai))
	uais, ids, err := s.campaignSchools(ctx, p, auth.PermSurveyAnswer, campaignID)
	if err != nil {
		return Response{}, err
	}
	var orgID int64
	for i, u := range uais {
		if u == uai {
			orgID = ids[i]
		}
	}
	if orgID == 0 {
		return Response{}, problem.NotFound("Établissement de la campagne")
	}
	today := s.now().In(web.Paris()).Format(dateLayout)
	if !c.Open(today) {
		return Response{}, problem.Conflict("campaign_closed", "La campagne est ouverte du "+frDate(c.OpensOn)+" au "+frDate(c.ClosesOn)+" : les réponses ne sont pas acceptées aujourd'hui.")
	}
	q, err := s.questionnaire(ctx, c.QuestionnaireID)
	if err != nil {
		return Response{}, err
	}
	clean, scores, declares, err := scoreAnswers(q, answers)
	if err != nil {
		return Response{}, err
	}
	now := s.now().UTC()
	var id int64
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE plan_responses SET is_current = 0 WHERE campaign_id = ? AND establishment_id = ? AND is_current = 1`, campaignID, orgID); err != nil {
			return err
		}
		var err error
		id, err = insertID(ctx, tx, `INSERT INTO plan_responses (campaign_id, establishment_id, user_id, submitted_at, is_current, answers, scores) VALUES (?, ?, ?, ?, 1, ?, ?)`,
			campaignID, orgID, p.User.ID, now, mustJSON(clean), mustJSON(scores))
		if err != nil {
			return fmt.Errorf("insert response: %w", err)
		}
		for m, v := range declares {
			if err := s.store.SetDeclared(ctx, tx, orgID, m, v, "enquête "+c.Name, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return Response{}, err
	}
	s.log.Info("survey answered", "campaign", campaignID, "response", id)
	return Response{ID: id, UAI: uai, UserID: p.User.ID, SubmittedAt: now, Current: true, Answers: clean, Scores: scores}, nil
}

// scoreAnswers checks the answers against the questions and computes the
// mean level per domain and the declared values they carry.
func scoreAnswers(q Questionnaire, answers map[string]any) (map[string]any, map[string]float64, map[Metric]float64, error) {
	clean := map[string]any{}
	sums, counts := map[string]float64{}, map[string]int{}
	declares := map[Metric]float64{}
	bad := func(qu Question, msg string) error {
		return problem.Invalid("invalid_answer", "Question « "+qu.Text+" » : "+msg).Field("q"+strconv.FormatInt(qu.ID, 10), msg)
	}
	for _, qu := range q.Questions {
		key := strconv.FormatInt(qu.ID, 10)
		raw, present := answers[key]
		if present {
			if s, ok := raw.(string); ok && strings.TrimSpace(s) == "" {
				present = false
			}
			if l, ok := raw.([]any); ok && len(l) == 0 {
				present = false
			}
			if l, ok := raw.([]string); ok && len(l) == 0 {
				present = false
			}
		}
		if !present {
			if qu.Required {
				return nil, nil, nil, bad(qu, "réponse obligatoire.")
			}
			continue
		}
		var score float64
		hasScore := false
		switch qu.Type {
		case QText:
			s := fmt.Sprint(raw)
			if len(s) > 4000 {
				return nil, nil, nil, bad(qu, "4 000 caractères au plus.")
			}
			clean[key] = s
		case QNumber, QScale:
			v, ok := number(raw)
			if !ok || v < float64(qu.Min) || (qu.Max > qu.Min && v > float64(qu.Max)) {
				return nil, nil, nil, bad(qu, fmt.Sprintf("nombre entre %d et %d attendu.", qu.Min, qu.Max))
			}
			clean[key] = v
			if qu.Type == QScale {
				score, hasScore = v, true
			}
			if qu.Declares != "" {
				if Metric(qu.Declares) == MetricWifi && qu.Max == 100 {
					v /= 100 // a percentage answers a share
				}
				declares[Metric(qu.Declares)] = v
			}
		case QYesNo:
			s := strings.ToLower(fmt.Sprint(raw))
			yes := s == "oui" || s == "yes" || s == "true" || s == "1"
			if !yes && s != "non" && s != "no" && s != "false" && s != "0" {
				return nil, nil, nil, bad(qu, "répondez oui ou non.")
			}
			clean[key] = yes
			if qu.Declares != "" {
				declares[Metric(qu.Declares)] = map[bool]float64{true: 1, false: 0}[yes]
			}
		case QSingle:
			i, ok := choice(raw, len(qu.Options))
			if !ok {
				return nil, nil, nil, bad(qu, "choisissez une des réponses proposées.")
			}
			clean[key] = i
			score, hasScore = qu.Options[i].Score, scored(qu)
		case QMultiple:
			var list []any
			switch l := raw.(type) {
			case []any:
				list = l
			case []string:
				for _, v := range l {
					list = append(list, v)
				}
			default:
				list = []any{raw}
			}
			picked := []int{}
			for _, v := range list {
				i, ok := choice(v, len(qu.Options))
				if !ok {
					return nil, nil, nil, bad(qu, "choisissez parmi les réponses proposées.")
				}
				picked = append(picked, i)
				// The level reached is the highest option ticked.
				if !hasScore || qu.Options[i].Score > score {
					score = qu.Options[i].Score
				}
				hasScore = scored(qu)
			}
			sort.Ints(picked)
			clean[key] = picked
		}
		if hasScore && qu.Domain != "" {
			sums[qu.Domain] += score
			counts[qu.Domain]++
		}
	}
	scores := map[string]float64{}
	for d, n := range counts {
		scores[d] = math.Round(sums[d]/float64(n)*100) / 100
	}
	return clean, scores, declares, nil
}

func number(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, !math.IsNaN(x) && !math.IsInf(x, 0)
	case int:
		return float64(x), true
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	case string:
		f, err := strconv.ParseFloat(strings.ReplaceAll(strings.TrimSpace(x), ",", "."), 64)
		return f, err == nil && !math.IsNaN(f) && !math.IsInf(f, 0)
	}
	return 0, false
}

func choice(v any, n int) (int, bool) {
	f, ok := number(v)
	if !ok || f != math.Trunc(f) || f < 0 || int(f) >= n {
		return 0, false
	}
	return int(f), true
}

// History lists every submission of an establishment to a campaign, the
// latest first.
func (s *Service) History(ctx context.Context, p *auth.Principal, campaignID int64, uai string) ([]Response, error) {
	c, err := s.Campaign(ctx, p, campaignID)
	if err != nil {
		return nil, err
	}
	found := false
	for _, u := range c.Establishments {
		found = found || u == strings.ToUpper(uai)
	}
	if !found {
		return nil, problem.NotFound("Établissement de la campagne")
	}
	rows, err := s.db.QueryContext(ctx, `SELECT r.id, e.uai, r.user_id, r.submitted_at, r.is_current, r.answers, r.scores FROM plan_responses r
		JOIN establishments e ON e.org_id = r.establishment_id WHERE r.campaign_id = ? AND e.uai = ? ORDER BY r.submitted_at DESC, r.id DESC`, campaignID, strings.ToUpper(uai))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Response{}
	for rows.Next() {
		var r Response
		var cur int
		var a, sc string
		if err := rows.Scan(&r.ID, &r.UAI, &r.UserID, &r.SubmittedAt, &cur, &a, &sc); err != nil {
			return nil, err
		}
		r.Current = cur == 1
		_ = json.Unmarshal([]byte(a), &r.Answers)
		_ = json.Unmarshal([]byte(sc), &r.Scores)
		out = append(out, r)
	}
	return out, rows.Err()
}

// SurveyGroup is the response rate and the mean level per domain of a
// school, a commune or a collectivité.
type SurveyGroup struct {
	Level    string             `json:"level"`
	Code     string             `json:"code"`
	Name     string             `json:"name"`
	Asked    int                `json:"asked"`
	Answered int                `json:"answered"`
	Rate     float64            `json:"rate"`
	Means    map[string]float64 `json:"means"`
}

// SurveyStats is the result of a campaign.
type SurveyStats struct {
	Campaign    Campaign      `json:"campaign"`
	Domains     []string      `json:"domains"`
	Schools     []SurveyGroup `json:"establishments"`
	Communes    []SurveyGroup `json:"communes"`
	Authorities []SurveyGroup `json:"authorities"`
	Total       SurveyGroup   `json:"total"`
	// Pending lists who has not answered yet: the reminders to send.
	Pending []SurveyGroup `json:"pending"`
}

// Stats computes the response rate and mean levels of a campaign over the
// caller's scope (plan.read).
func (s *Service) Stats(ctx context.Context, p *auth.Principal, campaignID int64) (SurveyStats, error) {
	if err := needRead(p); err != nil {
		return SurveyStats{}, err
	}
	c, err := s.Campaign(ctx, p, campaignID)
	if err != nil {
		return SurveyStats{}, err
	}
	q, err := s.questionnaire(ctx, c.QuestionnaireID)
	if err != nil {
		return SurveyStats{}, err
	}
	answered, err := s.currentResponses(ctx, campaignID)
	if err != nil {
		return SurveyStats{}, err
	}
	in := map[string]bool{}
	for _, u := range c.Establishments {
		in[u] = true
	}
	ests, err := s.establishments(ctx, p, auth.PermPlanRead)
	if err != nil {
		return SurveyStats{}, err
	}
	st := SurveyStats{Campaign: c, Domains: q.Domains(), Schools: []SurveyGroup{}, Pending: []SurveyGroup{},
		Total: SurveyGroup{Level: "total", Name: "Ensemble de la campagne", Means: map[string]float64{}}}
	type acc struct {
		g      *SurveyGroup
		sums   map[string]float64
		counts map[string]int
	}
	groups := map[string]*acc{}
	get := func(level, code, name string) *acc {
		k := level + "|" + code
		a := groups[k]
		if a == nil {
			a = &acc{g: &SurveyGroup{Level: level, Code: code, Name: name, Means: map[string]float64{}}, sums: map[string]float64{}, counts: map[string]int{}}
			groups[k] = a
		}
		return a
	}
	total := get("total", "", "Ensemble de la campagne")
	for _, e := range ests {
		if !in[e.UAI] {
			continue
		}
		scores, ok := answered[e.ID]
		school := SurveyGroup{Level: "establishment", Code: e.UAI, Name: e.Name, Asked: 1, Means: map[string]float64{}}
		if ok {
			school.Answered, school.Rate, school.Means = 1, 1, scores
		} else {
			st.Pending = append(st.Pending, school)
		}
		st.Schools = append(st.Schools, school)
		auth := "-"
		authName := "Non rattaché"
		if e.Responsible != nil {
			auth, authName = strconv.FormatInt(e.Responsible.ID, 10), e.Responsible.Name
		}
		for _, a := range []*acc{get("commune", e.CommuneCode, e.CommuneName), get("authority", auth, authName), total} {
			a.g.Asked++
			if ok {
				a.g.Answered++
				for d, v := range scores {
					a.sums[d] += v
					a.counts[d]++
				}
			}
		}
	}
	for _, a := range groups {
		if a.g.Asked > 0 {
			a.g.Rate = math.Round(float64(a.g.Answered)/float64(a.g.Asked)*1000) / 1000
		}
		for d, n := range a.counts {
			a.g.Means[d] = math.Round(a.sums[d]/float64(n)*100) / 100
		}
		switch a.g.Level {
		case "commune":
			st.Communes = append(st.Communes, *a.g)
		case "authority":
			st.Authorities = append(st.Authorities, *a.g)
		}
	}
	st.Total = *total.g
	byName := func(l []SurveyGroup) {
		sort.Slice(l, func(i, j int) bool { return l[i].Name < l[j].Name })
	}
	byName(st.Communes)
	byName(st.Authorities)
	return st, nil
}

// SurveyResponseRate counts, among a campaign's establishments under orgID
// in the caller's scope, those that answered. It feeds the governance
// indicators.
func (s *Service) SurveyResponseRate(ctx context.Context, p *auth.Principal, campaignID int64, orgID int64) (answered, asked int, err error) {
	if err := needRead(p); err != nil {
		return 0, 0, err
	}
	if _, err := s.Campaign(ctx, p, campaignID); err != nil {
		return 0, 0, err
	}
	_, ids, err := s.campaignSchools(ctx, p, auth.PermPlanRead, campaignID)
	if err != nil {
		return 0, 0, err
	}
	under, err := s.descendants(ctx, orgID)
	if err != nil {
		return 0, 0, err
	}
	cur, err := s.currentResponses(ctx, campaignID)
	if err != nil {
		return 0, 0, err
	}
	for _, id := range ids {
		if !under[id] {
			continue
		}
		asked++
		if _, ok := cur[id]; ok {
			answered++
		}
	}
	return answered, asked, nil
}

// frDate writes an ISO date the French way.
func frDate(iso string) string {
	t, err := time.Parse(dateLayout, iso)
	if err != nil {
		return iso
	}
	return t.Format("02/01/2006")
}
