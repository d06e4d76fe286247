package fleet

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"

	"socle/internal/platform/auth"
)

// csvHeader is the export's header: the import's column names, so that an
// exported file can be edited and imported back.
var csvHeader = []string{"uai", "type", "nom", "fabricant", "modele", "numero_serie", "numero_inventaire", "batiment", "salle",
	"affectation", "etat", "date_achat", "fournisseur", "commande", "prix_ttc", "financement", "garantie_debut",
	"garantie_mois", "garantie_prestataire", "systeme", "version_systeme", "logiciels", "dernier_inventaire"}

// ExportCSV writes the assets in the caller's scope matching f as CSV
// (';' separated, UTF-8 with a byte-order mark, which spreadsheets need to
// read accents), a page at a time so memory does not grow with the fleet.
func (s *Service) ExportCSV(ctx context.Context, p *auth.Principal, w io.Writer, f Filter) error {
	if _, err := io.WriteString(w, "\ufeff"); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	cw.Comma = ';'
	if err := cw.Write(csvHeader); err != nil {
		return err
	}
	f.Limit, f.Offset = MaxPageSize, 0
	for {
		res, err := s.List(ctx, p, f)
		if err != nil {
			return err
		}
		for _, a := range res.Items {
			last := ""
			if a.LastInventoryAt != nil {
				last = a.LastInventoryAt.UTC().Format("2006-01-02T15:04:05Z")
			}
			price := ""
			if a.PriceCents > 0 {
				price = fmt.Sprintf("%d,%02d", a.PriceCents/100, a.PriceCents%100)
			}
			months := ""
			if a.WarrantyMonths > 0 {
				months = strconv.Itoa(a.WarrantyMonths)
			}
			if err := cw.Write([]string{a.UAI, string(a.Type), a.Name, a.Manufacturer, a.Model, a.Serial, a.InventoryNumber,
				a.Building, a.Room, string(a.Use), string(a.State), a.PurchaseDate, a.Supplier, a.OrderRef, price,
				string(a.Funding), a.WarrantyStart, months, a.WarrantySupplier, a.OSName, a.OSVersion,
				strconv.Itoa(a.SoftwareCount), last}); err != nil {
				return err
			}
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
			return fmt.Errorf("write CSV: %w", err)
		}
		if len(res.Items) < f.Limit {
			return nil
		}
		f.Offset += f.Limit
	}
}
