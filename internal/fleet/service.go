package fleet

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"socle/internal/platform/auth"
	"socle/internal/platform/db"
	"socle/internal/platform/problem"
)

// Service is the rules of the fleet: every read is filtered by the caller's
// scope on the establishment that owns the asset (out of scope is 404), and
// every change writes its history line in the same transaction.
type Service struct {
	db    *db.DB
	store *Store
	log   *slog.Logger
	// tickets lists the tickets of an asset (imac.go); nil until SetTickets.
	tickets Tickets
	// now is the clock, replaced by tests.
	now func() time.Time
}

// NewService builds the service.
func NewService(d *db.DB, log *slog.Logger) *Service {
	return &Service{db: d, store: NewStore(d), log: log, now: time.Now}
}

// Store exposes the store to wiring code and tests.
func (s *Service) Store() *Store { return s.store }

// MaxPageSize bounds a page of assets.
const MaxPageSize = 200

// ListResult is a page of assets.
type ListResult struct {
	// Total is counted up to ListCountCap (RowByRowCountCap for a search
	// on words too common for the index); TotalCapped says the count
	// stopped there ("plus de 10 000").
	Total       int     `json:"total"`
	TotalCapped bool    `json:"total_capped"`
	Items       []Asset `json:"items"`
}

// List returns the assets in the caller's scope matching f.
func (s *Service) List(ctx context.Context, p *auth.Principal, f Filter) (ListResult, error) {
	if f.Limit <= 0 || f.Limit > MaxPageSize {
		f.Limit = 50
	}
	f.Offset = max(f.Offset, 0)
	f.UAI = strings.ToUpper(strings.TrimSpace(f.UAI))
	if f.UAI != "" {
		orgID, err := s.store.EstablishmentByUAI(ctx, s.db, f.UAI)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && !s.inScope(ctx, p, auth.PermFleetRead, orgID)) {
			return ListResult{}, problem.NotFound("Établissement")
		}
		if err != nil {
			return ListResult{}, err
		}
		f.orgID = orgID
	}
	scope, args := p.ScopeSQL(auth.PermFleetRead, "a.establishment_id")
	total, capped, items, err := s.store.List(ctx, f, scope, args)
	return ListResult{Total: total, TotalCapped: capped, Items: items}, err
}

// AssetDetail is an asset with its history and software.
type AssetDetail struct {
	Asset
	History  []Event    `json:"history"`
	Software []Software `json:"software"`
	// BookValueCents is today's straight-line depreciated value.
	BookValueCents int64  `json:"book_value_cents"`
	WarrantyEnd    string `json:"warranty_end"`
}

// Asset returns one asset in the caller's scope.
func (s *Service) Asset(ctx context.Context, p *auth.Principal, id int64) (AssetDetail, error) {
	scope, args := p.ScopeSQL(auth.PermFleetRead, "a.establishment_id")
	a, err := s.store.Asset(ctx, s.db, id, scope, args)
	if errors.Is(err, sql.ErrNoRows) {
		return AssetDetail{}, problem.NotFound("Équipement")
	}
	if err != nil {
		return AssetDetail{}, fmt.Errorf("asset %d: %w", id, err)
	}
	d := AssetDetail{Asset: a, BookValueCents: a.BookValueCents(s.now(), defaultLifetime[a.Type])}
	if end := a.WarrantyEnd(); !end.IsZero() {
		d.WarrantyEnd = end.Format(dateLayout)
	}
	if d.History, err = s.store.Events(ctx, id); err != nil {
		return d, err
	}
	d.Software, err = s.store.Software(ctx, s.db, id)
	return d, err
}

// Create records an asset entered by hand. Writing needs the fleet
// management permission on the establishment; a reader of it is refused
// (403), anyone else is told the establishment does not exist.
func (s *Service) Create(ctx context.Context, p *auth.Principal, a Asset) (AssetDetail, error) {
	a.UAI = strings.ToUpper(strings.TrimSpace(a.UAI))
	if err := validate(&a); err != nil {
		return AssetDetail{}, err
	}
	orgID, err := s.store.EstablishmentByUAI(ctx, s.db, a.UAI)
	if errors.Is(err, sql.ErrNoRows) {
		return AssetDetail{}, problem.Invalid("unknown_establishment", "Établissement inconnu : "+a.UAI+".").Field("establishment", "UAI inconnu.")
	}
	if err != nil {
		return AssetDetail{}, err
	}
	if !s.inScope(ctx, p, auth.PermFleetManage, orgID) {
		if s.inScope(ctx, p, auth.PermFleetRead, orgID) {
			return AssetDetail{}, problem.Forbidden()
		}
		return AssetDetail{}, problem.Invalid("unknown_establishment", "Établissement inconnu : "+a.UAI+".").Field("establishment", "UAI inconnu.")
	}
	now := s.now().UTC()
	a.EstablishmentID, a.Source, a.CreatedAt, a.UpdatedAt = orgID, "manual", now, now
	var id int64
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		var err error
		if id, err = s.store.InsertAsset(ctx, tx, a); err != nil {
			return err
		}
		return s.store.AddEvent(ctx, tx, id, now, actorOf(p), "created", "Saisie manuelle : "+a.Type.Label())
	})
	if err != nil {
		return AssetDetail{}, err
	}
	return s.Asset(ctx, p, id)
}

// Update replaces the fields a person maintains (lifecycle state, location,
// purchase, warranty...) and records what changed in the history, in the
// same transaction. Moving an asset needs the right on both schools.
func (s *Service) Update(ctx context.Context, p *auth.Principal, id int64, a Asset) (AssetDetail, error) {
	cur, err := s.Asset(ctx, p, id)
	if err != nil {
		return AssetDetail{}, err
	}
	a.UAI = strings.ToUpper(strings.TrimSpace(a.UAI))
	if a.UAI == "" {
		a.UAI = cur.UAI
	}
	if err := validate(&a); err != nil {
		return AssetDetail{}, err
	}
	if !s.inScope(ctx, p, auth.PermFleetManage, cur.EstablishmentID) {
		return AssetDetail{}, problem.Forbidden()
	}
	a.EstablishmentID = cur.EstablishmentID
	if a.UAI != cur.UAI {
		orgID, err := s.store.EstablishmentByUAI(ctx, s.db, a.UAI)
		if err != nil || !s.inScope(ctx, p, auth.PermFleetManage, orgID) {
			return AssetDetail{}, problem.Invalid("unknown_establishment", "Établissement inconnu ou hors de votre périmètre : "+a.UAI+".").Field("establishment", "UAI inconnu.")
		}
		a.EstablishmentID = orgID
	}
	now := s.now().UTC()
	a.ID, a.UpdatedAt = id, now
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		old, err := s.store.Asset(ctx, tx, id, "1=1", nil)
		if err != nil {
			return fmt.Errorf("load asset %d: %w", id, err)
		}
		if err := s.store.UpdateManual(ctx, tx, a); err != nil {
			return err
		}
		d := diffManual(old, a)
		if old.EstablishmentID != a.EstablishmentID {
			d = strings.TrimPrefix(d+" ; établissement : "+old.UAI+" → "+a.UAI, " ; ")
		}
		if d == "" {
			return nil
		}
		return s.store.AddEvent(ctx, tx, id, now, actorOf(p), "updated", d)
	})
	if err != nil {
		return AssetDetail{}, err
	}
	return s.Asset(ctx, p, id)
}

// inScope reports whether the organization lies in the caller's scope for perm.
func (s *Service) inScope(ctx context.Context, p *auth.Principal, perm auth.Permission, orgID int64) bool {
	scope, args := p.ScopeSQL(perm, "o.id")
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM organizations o WHERE o.id = ? AND `+scope, append([]any{orgID}, args...)...).Scan(&n)
	return err == nil && n > 0
}

func actorOf(p *auth.Principal) string {
	if p == nil || p.User.Email == "" {
		return "inconnu"
	}
	return p.User.Email
}

// validate checks an asset entered by hand or imported, with French
// messages per field.
func validate(a *Asset) error {
	bad := problem.Invalid("invalid_asset", "Équipement invalide.")
	fields := 0
	check := func(ok bool, field, msg string) {
		if !ok {
			bad = bad.Field(field, msg)
			fields++
		}
	}
	if a.State == "" {
		a.State = StateInUse
	}
	check(a.Type.Valid(), "type", "Type d'équipement inconnu.")
	check(a.State.Valid(), "state", "État inconnu.")
	check(a.Use.Valid(), "assigned_use", "Affectation inconnue (pupils, teachers, administration).")
	check(a.Funding.Valid(), "funding", "Financement inconnu (collectivite, etat, autre).")
	check(a.PriceCents >= 0, "price_cents", "Le prix ne peut pas être négatif.")
	check(a.WarrantyMonths >= 0 && a.WarrantyMonths <= 240, "warranty_months", "Durée de garantie invalide (0 à 240 mois).")
	for field, v := range map[string]string{"purchase_date": a.PurchaseDate, "warranty_start": a.WarrantyStart} {
		if v != "" {
			_, err := time.Parse(dateLayout, v)
			check(err == nil, field, "Date attendue au format AAAA-MM-JJ.")
		}
	}
	check(a.UAI != "", "establishment", "Établissement (UAI) obligatoire.")
	if fields > 0 {
		return bad
	}
	return nil
}

// IngestResult says what an inventory did.
type IngestResult struct {
	AssetID     int64
	Created     bool
	Quarantined bool
	Added       int
	Removed     int
}

// Ingest stores an agent's inventory: the TAG names the establishment (its
// UAI); the machine is recognised by serial, then hardware UUID, then MAC
// address, never by the agent's device id, which changes on reinstall. An
// unknown TAG sends the report to quarantine instead of dropping it.
func (s *Service) Ingest(ctx context.Context, inv Inventory) (IngestResult, error) {
	now := s.now().UTC()
	uai := strings.ToUpper(strings.TrimSpace(inv.Tag))
	orgID, err := s.store.EstablishmentByUAI(ctx, s.db, uai)
	if errors.Is(err, sql.ErrNoRows) || uai == "" {
		reason := "Étiquette (TAG) inconnue : aucun établissement n'a l'UAI « " + inv.Tag + " »."
		if uai == "" {
			reason = "Inventaire sans étiquette (TAG) : l'établissement ne peut pas être déterminé."
		}
		summary := fmt.Sprintf("Système : %s %s ; %d logiciels ; MAC : %s", inv.OSName, inv.OSVersion, len(inv.Software), strings.Join(inv.MACs, ", "))
		err := s.store.Quarantine(ctx, s.db, QuarantineEntry{ReceivedAt: now, Tag: inv.Tag, DeviceID: inv.DeviceID,
			Name: inv.Name, Serial: inv.Serial, Reason: reason}, summary)
		return IngestResult{Quarantined: true}, err
	}
	if err != nil {
		return IngestResult{}, fmt.Errorf("resolve tag %q: %w", uai, err)
	}
	var res IngestResult
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		id, err := s.store.MatchAsset(ctx, tx, inv)
		if err != nil {
			return fmt.Errorf("match asset: %w", err)
		}
		const actor = "agent d'inventaire"
		if id == 0 {
			a := Asset{EstablishmentID: orgID, Type: typeFromInventory(inv), Name: inv.Name, Manufacturer: inv.Manufacturer,
				Model: inv.Model, Serial: inv.Serial, HardwareUUID: inv.UUID, State: StateInUse, OSName: inv.OSName,
				OSVersion: inv.OSVersion, Source: "agent", LastInventoryAt: &now, CreatedAt: now, UpdatedAt: now}
			if id, err = s.store.InsertAsset(ctx, tx, a); err != nil {
				return err
			}
			res.Created = true
			if err := s.store.AddEvent(ctx, tx, id, now, actor, "created", "Découvert par l'agent ("+inv.DeviceID+")"); err != nil {
				return err
			}
		} else {
			old, err := s.store.Asset(ctx, tx, id, "1=1", nil)
			if err != nil {
				return fmt.Errorf("load asset %d: %w", id, err)
			}
			a := old
			a.EstablishmentID = orgID
			// What the agent does not report is kept: a serial typed by
			// hand is not erased by a BIOS that gives none.
			keep := func(dst *string, v string) {
				if v != "" {
					*dst = v
				}
			}
			keep(&a.Name, inv.Name)
			keep(&a.Manufacturer, inv.Manufacturer)
			keep(&a.Model, inv.Model)
			keep(&a.Serial, inv.Serial)
			keep(&a.HardwareUUID, inv.UUID)
			keep(&a.OSName, inv.OSName)
			keep(&a.OSVersion, inv.OSVersion)
			a.LastInventoryAt, a.UpdatedAt = &now, now
			if err := s.store.UpdateInventoried(ctx, tx, a); err != nil {
				return err
			}
			if d := diffAssets(old, a); d != "" {
				if err := s.store.AddEvent(ctx, tx, id, now, actor, "updated", d); err != nil {
					return err
				}
			}
		}
		res.AssetID = id
		if err := s.store.ReplaceMACs(ctx, tx, id, inv.MACs); err != nil {
			return err
		}
		if res.Added, res.Removed, err = s.store.SyncSoftware(ctx, tx, id, inv.Software); err != nil {
			return err
		}
		if res.Added+res.Removed > 0 && !res.Created {
			return s.store.AddEvent(ctx, tx, id, now, actor, "software", fmt.Sprintf("Logiciels : %d ajoutés, %d retirés", res.Added, res.Removed))
		}
		return nil
	})
	return res, err
}

func diffAssets(old, cur Asset) string {
	var parts []string
	add := func(label, a, b string) {
		if a != b {
			parts = append(parts, fmt.Sprintf("%s : « %s » → « %s »", label, a, b))
		}
	}
	add("établissement", strconv.FormatInt(old.EstablishmentID, 10), strconv.FormatInt(cur.EstablishmentID, 10))
	add("nom", old.Name, cur.Name)
	add("fabricant", old.Manufacturer, cur.Manufacturer)
	add("modèle", old.Model, cur.Model)
	add("numéro de série", old.Serial, cur.Serial)
	add("UUID", old.HardwareUUID, cur.HardwareUUID)
	add("système", old.OSName, cur.OSName)
	add("version du système", old.OSVersion, cur.OSVersion)
	return strings.Join(parts, " ; ")
}

// typeFromInventory guesses the type from the chassis and the system; an
// agent runs on computers, so the default is a workstation.
func typeFromInventory(inv Inventory) Type {
	c := strings.ToLower(inv.Chassis)
	os := strings.ToLower(inv.OSName)
	switch {
	case strings.Contains(os, "server"):
		return TypeServer
	case strings.Contains(c, "tablet"):
		return TypeTablet
	case strings.Contains(c, "laptop") || strings.Contains(c, "notebook") || strings.Contains(c, "portable"):
		return TypeLaptop
	case strings.Contains(os, "android") || strings.Contains(os, "ipados") || strings.Contains(os, "ios"):
		return TypeTablet
	}
	return TypeWorkstation
}

// EstablishmentSoftware is the software catalogue of an establishment.
func (s *Service) EstablishmentSoftware(ctx context.Context, p *auth.Principal, uai string) ([]SoftwareUse, error) {
	uai = strings.ToUpper(strings.TrimSpace(uai))
	orgID, err := s.store.EstablishmentByUAI(ctx, s.db, uai)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !s.inScope(ctx, p, auth.PermFleetRead, orgID)) {
		return nil, problem.NotFound("Établissement")
	}
	if err != nil {
		return nil, err
	}
	return s.store.EstablishmentSoftware(ctx, orgID)
}

// Quarantine lists the inventories waiting for an administrator; only
// platform-wide administrators see them, since their school is unknown.
func (s *Service) Quarantine(ctx context.Context, p *auth.Principal) ([]QuarantineEntry, error) {
	if !p.Global(auth.PermFleetManage) {
		return nil, problem.Forbidden()
	}
	return s.store.QuarantineList(ctx, 500)
}

// CompareVersions orders version strings the way people read them: numeric
// runs by value ("10.2" > "9.8"), other runs as text. It returns -1, 0, 1.
func CompareVersions(a, b string) int {
	for a != "" || b != "" {
		ca, ra := versionChunk(a)
		cb, rb := versionChunk(b)
		a, b = ra, rb
		na, errA := strconv.ParseUint(ca, 10, 64)
		nb, errB := strconv.ParseUint(cb, 10, 64)
		switch {
		case errA == nil && errB == nil:
			if na != nb {
				if na < nb {
					return -1
				}
				return 1
			}
		case ca != cb:
			if ca < cb {
				return -1
			}
			return 1
		}
	}
	return 0
}

// versionChunk splits off the first run of digits or of non-separator
// characters.
func versionChunk(s string) (string, string) {
	s = strings.TrimLeft(s, ".-_+~: ")
	if s == "" {
		return "", ""
	}
	digit := s[0] >= '0' && s[0] <= '9'
	i := 0
	for i < len(s) {
		c := s[i]
		if strings.IndexByte(".-_+~: ", c) >= 0 || (c >= '0' && c <= '9') != digit {
			break
		}
		i++
	}
	return s[:i], s[i:]
}
