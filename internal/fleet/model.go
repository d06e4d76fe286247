// Package fleet is the equipment fleet (parc) of the establishments: assets
// and their history, software installations, automatic inventory from
// FusionInventory / GLPI agents, warranties, renewal forecast and ratios.
package fleet

import (
	"embed"
	"io/fs"
	"time"

	"socle/internal/platform/db"
)

//go:embed migrations
var migrationsFS embed.FS

// Migrations is the schema of the fleet. It references the territory's
// organizations, so it runs after territory.Migrations().
func Migrations() db.MigrationSet {
	sub, err := fs.Sub(migrationsFS, "migrations")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	return db.MigrationSet{Component: "fleet", FS: sub}
}

// Type is the kind of equipment.
type Type string

const (
	TypeWorkstation Type = "workstation"
	TypeLaptop      Type = "laptop"
	TypeTablet      Type = "tablet"
	TypeTabletCart  Type = "tablet-cart"
	TypeBoard       Type = "board"
	TypeProjector   Type = "projector"
	TypePrinter     Type = "printer"
	TypeSwitch      Type = "switch"
	TypeAccessPoint Type = "access-point"
	TypeServer      Type = "server"
	TypeOther       Type = "other"
)

// Types lists every type in the order the UI shows them.
var Types = []Type{TypeWorkstation, TypeLaptop, TypeTablet, TypeTabletCart, TypeBoard, TypeProjector,
	TypePrinter, TypeSwitch, TypeAccessPoint, TypeServer, TypeOther}

// Label is the type's French name.
func (t Type) Label() string {
	switch t {
	case TypeWorkstation:
		return "Poste fixe"
	case TypeLaptop:
		return "Ordinateur portable"
	case TypeTablet:
		return "Tablette"
	case TypeTabletCart:
		return "Classe mobile (chariot de tablettes)"
	case TypeBoard:
		return "Tableau numérique interactif (TNI/VPI)"
	case TypeProjector:
		return "Vidéoprojecteur"
	case TypePrinter:
		return "Imprimante"
	case TypeSwitch:
		return "Commutateur réseau"
	case TypeAccessPoint:
		return "Borne Wi-Fi"
	case TypeServer:
		return "Serveur"
	case TypeOther:
		return "Autre"
	}
	return string(t)
}

// Valid reports whether t is a known type.
func (t Type) Valid() bool {
	for _, k := range Types {
		if k == t {
			return true
		}
	}
	return false
}

// DefaultLifetimeYears is the renewal rule per type: the age at which a
// device is due for replacement, from the territory's usual practice.
var defaultLifetime = map[Type]int{
	TypeWorkstation: 5, TypeLaptop: 4, TypeTablet: 4, TypeTabletCart: 4, TypeBoard: 7, TypeProjector: 6,
	TypePrinter: 5, TypeSwitch: 8, TypeAccessPoint: 6, TypeServer: 6, TypeOther: 5,
}

// DefaultLifetimes returns a fresh copy of the default lifecycle rules
// (years per type), which callers may change without touching the defaults.
func DefaultLifetimes() map[Type]int {
	out := make(map[Type]int, len(defaultLifetime))
	for k, v := range defaultLifetime {
		out[k] = v
	}
	return out
}

// State is the lifecycle state of an asset.
type State string

const (
	StateOrdered  State = "ordered"
	StateInStock  State = "in-stock"
	StateInUse    State = "in-service"
	StateRepair   State = "in-repair"
	StateLent     State = "lent"
	StateRetired  State = "retired"
	StateDisposed State = "disposed"
)

// States lists every state in lifecycle order.
var States = []State{StateOrdered, StateInStock, StateInUse, StateRepair, StateLent, StateRetired, StateDisposed}

// Label is the state's French name.
func (s State) Label() string {
	switch s {
	case StateOrdered:
		return "Commandé"
	case StateInStock:
		return "En stock"
	case StateInUse:
		return "En service"
	case StateRepair:
		return "En réparation"
	case StateLent:
		return "Prêté"
	case StateRetired:
		return "Réformé"
	case StateDisposed:
		return "Éliminé (DEEE)"
	}
	return string(s)
}

// Valid reports whether s is a known state.
func (s State) Valid() bool {
	for _, k := range States {
		if k == s {
			return true
		}
	}
	return false
}

// Active reports whether the device still counts in the fleet (ratios,
// renewals): retired and disposed devices do not.
func (s State) Active() bool { return s != StateRetired && s != StateDisposed && s != StateOrdered }

// Use is who the device is assigned to.
type Use string

const (
	UseNone     Use = ""
	UsePupils   Use = "pupils"
	UseTeachers Use = "teachers"
	UseAdmin    Use = "administration"
)

// Valid reports whether u is a known use.
func (u Use) Valid() bool { return u == UseNone || u == UsePupils || u == UseTeachers || u == UseAdmin }

// Funding is who paid for the device.
type Funding string

const (
	FundingNone      Funding = ""
	FundingAuthority Funding = "collectivite"
	FundingState     Funding = "etat"
	FundingOther     Funding = "autre"
)

// Valid reports whether f is a known funding source.
func (f Funding) Valid() bool {
	return f == FundingNone || f == FundingAuthority || f == FundingState || f == FundingOther
}

// Asset is one piece of equipment.
type Asset struct {
	ID               int64      `json:"id"`
	EstablishmentID  int64      `json:"-"`
	UAI              string     `json:"establishment"`
	Type             Type       `json:"type"`
	Name             string     `json:"name"`
	Manufacturer     string     `json:"manufacturer"`
	Model            string     `json:"model"`
	Serial           string     `json:"serial"`
	HardwareUUID     string     `json:"hardware_uuid"`
	InventoryNumber  string     `json:"inventory_number"`
	Building         string     `json:"building"`
	Room             string     `json:"room"`
	Use              Use        `json:"assigned_use"`
	State            State      `json:"state"`
	PurchaseDate     string     `json:"purchase_date"`
	Supplier         string     `json:"supplier"`
	OrderRef         string     `json:"order_ref"`
	PriceCents       int64      `json:"price_cents"`
	Funding          Funding    `json:"funding"`
	WarrantyStart    string     `json:"warranty_start"`
	WarrantyMonths   int        `json:"warranty_months"`
	WarrantySupplier string     `json:"warranty_supplier"`
	OSName           string     `json:"os_name"`
	OSVersion        string     `json:"os_version"`
	Source           string     `json:"source"`
	LastInventoryAt  *time.Time `json:"last_inventory_at"`
	CreatedAt        time.Time  `json:"created_at"`
	UpdatedAt        time.Time  `json:"updated_at"`
	SoftwareCount    int        `json:"software_count"`
}

const dateLayout = "2006-01-02"

// WarrantyEnd is the day the warranty ends (zero when unknown).
func (a Asset) WarrantyEnd() time.Time {
	start, err := time.Parse(dateLayout, a.WarrantyStart)
	if err != nil || a.WarrantyMonths <= 0 {
		return time.Time{}
	}
	return start.AddDate(0, a.WarrantyMonths, 0)
}

// BookValueCents is the straight-line depreciated value on day at: the
// price spread evenly over the lifetime (in years) from the purchase date,
// never below zero. Unknown purchase date or price gives 0.
func (a Asset) BookValueCents(at time.Time, lifetimeYears int) int64 {
	bought, err := time.Parse(dateLayout, a.PurchaseDate)
	if err != nil || a.PriceCents <= 0 || lifetimeYears <= 0 {
		return 0
	}
	if at.Before(bought) {
		return a.PriceCents
	}
	end := bought.AddDate(lifetimeYears, 0, 0)
	if !at.Before(end) {
		return 0
	}
	total := end.Sub(bought).Hours()
	left := end.Sub(at).Hours()
	return int64(float64(a.PriceCents) * left / total)
}

// Event is one line of an asset's history.
type Event struct {
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"`
	Kind   string    `json:"kind"`
	Detail string    `json:"detail"`
}

// Software is one installation on an asset.
type Software struct {
	Name      string `json:"name"`
	Version   string `json:"version"`
	Publisher string `json:"publisher"`
}

// SoftwareUse is one line of an establishment's software catalogue.
type SoftwareUse struct {
	Name      string `json:"name"`
	Publisher string `json:"publisher"`
	Version   string `json:"version"`
	Machines  int    `json:"machines"`
	// Latest is the newest version of the same name and publisher seen
	// anywhere in the territory; Outdated says Version is older.
	Latest   string `json:"latest"`
	Outdated bool   `json:"outdated"`
}

// QuarantineEntry is an inventory that could not be placed.
type QuarantineEntry struct {
	ID         int64     `json:"id"`
	ReceivedAt time.Time `json:"received_at"`
	Tag        string    `json:"tag"`
	DeviceID   string    `json:"device_id"`
	Name       string    `json:"name"`
	Serial     string    `json:"serial"`
	Reason     string    `json:"reason"`
}
