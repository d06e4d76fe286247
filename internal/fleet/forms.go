package fleet

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"socle/internal/platform/auth"
	"socle/internal/platform/problem"
	"socle/internal/platform/web"
)

// CanManage reports whether p may change the fleet of the establishment
// (pages use it to offer the forms; the service checks again on write).
func (s *Service) CanManage(ctx context.Context, p *auth.Principal, orgID int64) bool {
	return p.Has(auth.PermFleetManage) && s.inScope(ctx, p, auth.PermFleetManage, orgID)
}

// formView is the asset form, for a new asset or an existing one.
type formView struct {
	ID      int64
	Action  string
	In      AssetInput
	Price   string
	Error   string
	Fields  map[string]string
	Types   []option
	States  []option
	Uses    []option
	Funding []option
}

func newFormView(id int64, in AssetInput, price string) formView {
	v := formView{ID: id, In: in, Price: price, Action: "/parc/equipements"}
	if id != 0 {
		v.Action = "/parc/equipements/" + strconv.FormatInt(id, 10)
	}
	for _, t := range Types {
		v.Types = append(v.Types, option{string(t), t.Label(), t == in.Type})
	}
	for _, s := range States {
		v.States = append(v.States, option{string(s), s.Label(), s == in.State})
	}
	for _, u := range []struct {
		v Use
		l string
	}{{UseNone, "Non précisée"}, {UsePupils, "Élèves"}, {UseTeachers, "Enseignants"}, {UseAdmin, "Administration"}} {
		v.Uses = append(v.Uses, option{string(u.v), u.l, u.v == in.AssignedUse})
	}
	for _, f := range []struct {
		v Funding
		l string
	}{{FundingNone, "Non précisé"}, {FundingAuthority, "Collectivité"}, {FundingState, "État"}, {FundingOther, "Autre programme"}} {
		v.Funding = append(v.Funding, option{string(f.v), f.l, f.v == in.Funding})
	}
	return v
}

// inputOf is the form's view of an asset.
func inputOf(a Asset) AssetInput {
	return AssetInput{Establishment: a.UAI, Type: a.Type, Name: a.Name, Manufacturer: a.Manufacturer, Model: a.Model,
		Serial: a.Serial, InventoryNumber: a.InventoryNumber, Building: a.Building, Room: a.Room, AssignedUse: a.Use,
		State: a.State, PurchaseDate: a.PurchaseDate, Supplier: a.Supplier, OrderRef: a.OrderRef, PriceCents: a.PriceCents,
		Funding: a.Funding, WarrantyStart: a.WarrantyStart, WarrantyMonths: a.WarrantyMonths, WarrantySupplier: a.WarrantySupplier}
}

func priceText(cents int64) string {
	if cents <= 0 {
		return ""
	}
	return fmt.Sprintf("%d,%02d", cents/100, cents%100)
}

// inputFromForm reads the posted form; a price or a number that cannot be
// read is reported on its field.
func inputFromForm(w http.ResponseWriter, r *http.Request) (AssetInput, string, *problem.Error) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		return AssetInput{}, "", problem.Invalid("invalid_form", "Formulaire invalide.").Wrap(err)
	}
	f := r.PostForm
	in := AssetInput{Establishment: f.Get("establishment"), Type: Type(f.Get("type")), Name: f.Get("name"),
		Manufacturer: f.Get("manufacturer"), Model: f.Get("model"), Serial: f.Get("serial"),
		InventoryNumber: f.Get("inventory_number"), Building: f.Get("building"), Room: f.Get("room"),
		AssignedUse: Use(f.Get("assigned_use")), State: State(f.Get("state")), PurchaseDate: f.Get("purchase_date"),
		Supplier: f.Get("supplier"), OrderRef: f.Get("order_ref"), Funding: Funding(f.Get("funding")),
		WarrantyStart: f.Get("warranty_start"), WarrantySupplier: f.Get("warranty_supplier")}
	price := strings.TrimSpace(f.Get("price"))
	var bad *problem.Error
	if price != "" {
		c, ok := parseEuros(price)
		if !ok {
			bad = problem.Invalid("invalid_asset", "Équipement invalide.").Field("price", "Prix en euros attendu, par exemple 649,90.")
		}
		in.PriceCents = c
	}
	if m := strings.TrimSpace(f.Get("warranty_months")); m != "" {
		n, err := strconv.Atoi(m)
		if err != nil {
			if bad == nil {
				bad = problem.Invalid("invalid_asset", "Équipement invalide.")
			}
			bad = bad.Field("warranty_months", "Nombre de mois attendu.")
		}
		in.WarrantyMonths = n
	}
	return in, price, bad
}

func (h *Handler) newAssetPage(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	if !p.Has(auth.PermFleetManage) {
		return problem.Forbidden()
	}
	in := AssetInput{Establishment: strings.ToUpper(strings.TrimSpace(r.URL.Query().Get("etablissement"))), Type: TypeWorkstation, State: StateInUse}
	return h.render.Render(w, r, http.StatusOK, "fleet/form", "Nouvel équipement", newFormView(0, in, ""))
}

func (h *Handler) createForm(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	in, price, bad := inputFromForm(w, r)
	var d AssetDetail
	if bad == nil {
		d, err = h.svc.Create(r.Context(), p, in.Asset())
		if pe, ok := problem.As(err); ok {
			bad = pe
		} else if err != nil {
			return err
		}
	}
	if bad != nil {
		if bad.Status >= 500 || bad.Status == http.StatusForbidden {
			return bad
		}
		v := newFormView(0, in, price)
		v.Error, v.Fields = bad.Message, bad.Fields
		return h.render.Render(w, r, bad.Status, "fleet/form", "Nouvel équipement", v)
	}
	http.Redirect(w, r, "/parc/equipements/"+strconv.FormatInt(d.ID, 10), http.StatusSeeOther)
	return nil
}

func (h *Handler) editAssetPage(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	id, err := web.PathID(r, "id", "Équipement")
	if err != nil {
		return err
	}
	d, err := h.svc.Asset(r.Context(), p, id)
	if err != nil {
		return err
	}
	if !h.svc.CanManage(r.Context(), p, d.EstablishmentID) {
		return problem.Forbidden()
	}
	return h.render.Render(w, r, http.StatusOK, "fleet/form", "Modifier l'équipement n° "+strconv.FormatInt(id, 10),
		newFormView(id, inputOf(d.Asset), priceText(d.PriceCents)))
}

func (h *Handler) updateForm(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	id, err := web.PathID(r, "id", "Équipement")
	if err != nil {
		return err
	}
	in, price, bad := inputFromForm(w, r)
	if bad == nil {
		_, err = h.svc.Update(r.Context(), p, id, in.Asset())
		if pe, ok := problem.As(err); ok {
			bad = pe
		} else if err != nil {
			return err
		}
	}
	if bad != nil {
		if bad.Status >= 500 || bad.Status == http.StatusForbidden || bad.Status == http.StatusNotFound {
			return bad
		}
		v := newFormView(id, in, price)
		v.Error, v.Fields = bad.Message, bad.Fields
		return h.render.Render(w, r, bad.Status, "fleet/form", "Modifier l'équipement n° "+strconv.FormatInt(id, 10), v)
	}
	http.Redirect(w, r, "/parc/equipements/"+url.PathEscape(strconv.FormatInt(id, 10)), http.StatusSeeOther)
	return nil
}
