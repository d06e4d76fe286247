package fleet

import (
	"net/http"
	"strconv"
	"strings"

	"socle/internal/platform/problem"
	"socle/internal/platform/web"
)

func (h *Handler) apiRoutes(r *web.Router) {
	r.Handle("GET /api/v1/assets", h.apiList)
	r.Handle("POST /api/v1/assets", h.apiCreate)
	r.Handle("GET /api/v1/assets/{id}", h.apiAsset)
	r.Handle("GET /api/v1/assets/{id}/tickets", h.apiAssetTickets)
	r.Handle("PUT /api/v1/assets/{id}", h.apiUpdate)
	r.Handle("POST /api/v1/assets/import", h.apiImport)
	r.Handle("GET /api/v1/assets/export", h.apiExport)
	r.Handle("GET /api/v1/establishments/{uai}/software", h.apiSoftware)
	r.Handle("GET /api/v1/fleet/forecast", h.apiForecast)
	r.Handle("GET /api/v1/fleet/forecast/export", h.apiForecastExport)
	r.Handle("GET /api/v1/fleet/ratios", h.apiRatios)
	r.Handle("GET /api/v1/fleet/warranty-alerts", h.apiWarranty)
	r.Handle("GET /api/v1/fleet/quarantine", h.apiQuarantine)
}

// intParam is web.IntParam for the int-sized parameters of the fleet.
func intParam(r *http.Request, name string, lo, hi int) (int, error) {
	n, err := web.IntParam(r.URL.Query(), name, int64(lo), int64(hi))
	return int(n), err
}

// filterFromRequest reads the list filters shared by the page and the API.
func filterFromRequest(r *http.Request) (Filter, error) {
	q := r.URL.Query()
	f := Filter{UAI: strings.TrimSpace(q.Get("establishment")), Type: Type(q.Get("type")), State: State(q.Get("state")),
		Query: strings.TrimSpace(q.Get("q"))}
	if f.Type != "" && !f.Type.Valid() {
		return f, problem.Invalid("invalid_filter", "Type d'équipement inconnu : "+string(f.Type)+".").Field("type", "Type inconnu.")
	}
	if f.State != "" && !f.State.Valid() {
		return f, problem.Invalid("invalid_filter", "État inconnu : "+string(f.State)+".").Field("state", "État inconnu.")
	}
	var err error
	if f.Limit, err = intParam(r, "limit", 1, MaxPageSize); err != nil {
		return f, err
	}
	f.Offset, err = intParam(r, "offset", 0, 1<<30)
	return f, err
}

func (h *Handler) apiList(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	f, err := filterFromRequest(r)
	if err != nil {
		return err
	}
	res, err := h.svc.List(r.Context(), p, f)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusOK, res)
}

func (h *Handler) apiAsset(w http.ResponseWriter, r *http.Request) error {
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
	return web.JSON(w, http.StatusOK, d)
}

// AssetInput is what a client may set on a new asset.
type AssetInput struct {
	Establishment    string  `json:"establishment"`
	Type             Type    `json:"type"`
	Name             string  `json:"name"`
	Manufacturer     string  `json:"manufacturer"`
	Model            string  `json:"model"`
	Serial           string  `json:"serial"`
	InventoryNumber  string  `json:"inventory_number"`
	Building         string  `json:"building"`
	Room             string  `json:"room"`
	AssignedUse      Use     `json:"assigned_use"`
	State            State   `json:"state"`
	PurchaseDate     string  `json:"purchase_date"`
	Supplier         string  `json:"supplier"`
	OrderRef         string  `json:"order_ref"`
	PriceCents       int64   `json:"price_cents"`
	Funding          Funding `json:"funding"`
	WarrantyStart    string  `json:"warranty_start"`
	WarrantyMonths   int     `json:"warranty_months"`
	WarrantySupplier string  `json:"warranty_supplier"`
}

// Asset returns the asset the input describes.
func (in AssetInput) Asset() Asset {
	t := strings.TrimSpace
	return Asset{UAI: t(in.Establishment), Type: in.Type, Name: t(in.Name), Manufacturer: t(in.Manufacturer),
		Model: t(in.Model), Serial: t(in.Serial), InventoryNumber: t(in.InventoryNumber), Building: t(in.Building),
		Room: t(in.Room), Use: in.AssignedUse, State: in.State, PurchaseDate: t(in.PurchaseDate), Supplier: t(in.Supplier),
		OrderRef: t(in.OrderRef), PriceCents: in.PriceCents, Funding: in.Funding, WarrantyStart: t(in.WarrantyStart),
		WarrantyMonths: in.WarrantyMonths, WarrantySupplier: t(in.WarrantySupplier)}
}

func (h *Handler) apiCreate(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	var in AssetInput
	if err := web.DecodeJSON(w, r, 64<<10, &in); err != nil {
		return err
	}
	d, err := h.svc.Create(r.Context(), p, in.Asset())
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/assets/"+strconv.FormatInt(d.ID, 10))
	return web.JSON(w, http.StatusCreated, d)
}

func (h *Handler) apiSoftware(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	items, err := h.svc.EstablishmentSoftware(r.Context(), p, r.PathValue("uai"))
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusOK, map[string]any{"establishment": strings.ToUpper(r.PathValue("uai")), "items": items})
}

func (h *Handler) apiForecast(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	years, err := intParam(r, "years", 1, 15)
	if err != nil {
		return err
	}
	res, err := h.svc.Forecast(r.Context(), p, ForecastOptions{Years: years, UAI: strings.ToUpper(strings.TrimSpace(r.URL.Query().Get("establishment")))})
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusOK, res)
}

func (h *Handler) apiRatios(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	res, err := h.svc.Ratios(r.Context(), p, strings.ToUpper(strings.TrimSpace(r.URL.Query().Get("establishment"))))
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusOK, res)
}

func (h *Handler) apiQuarantine(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	items, err := h.svc.Quarantine(r.Context(), p)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusOK, map[string]any{"items": items})
}

// maxImportBytes bounds an uploaded CSV: a school's fleet is a few
// thousand lines, a territory's a few hundred thousand.
const maxImportBytes = 50 << 20

func (h *Handler) apiImport(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	skip := r.URL.Query().Get("skip_invalid")
	rep, err := h.svc.ImportCSV(r.Context(), p, http.MaxBytesReader(w, r.Body, maxImportBytes),
		ImportOptions{SkipInvalid: skip == "1" || skip == "true", File: r.URL.Query().Get("file")})
	if err != nil {
		return err
	}
	status := http.StatusOK
	if rep.Error != "" {
		status = http.StatusUnprocessableEntity
	}
	return web.JSON(w, status, rep)
}

func (h *Handler) apiExport(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	f, err := filterFromRequest(r)
	if err != nil {
		return err
	}
	// Checked before the first byte is written, so that an out-of-scope
	// establishment still gets a clean 404.
	if _, err := h.svc.List(r.Context(), p, Filter{UAI: f.UAI, Limit: 1}); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="parc.csv"`)
	return h.svc.ExportCSV(r.Context(), p, w, f)
}

func (h *Handler) apiWarranty(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	days, err := intParam(r, "days", 1, 3650)
	if err != nil {
		return err
	}
	items, err := h.svc.WarrantyAlerts(r.Context(), p, strings.ToUpper(strings.TrimSpace(r.URL.Query().Get("establishment"))), days)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusOK, map[string]any{"items": items})
}

func (h *Handler) apiUpdate(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	id, err := web.PathID(r, "id", "Équipement")
	if err != nil {
		return err
	}
	var in AssetInput
	if err := web.DecodeJSON(w, r, 64<<10, &in); err != nil {
		return err
	}
	d, err := h.svc.Update(r.Context(), p, id, in.Asset())
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusOK, d)
}

func (h *Handler) apiAssetTickets(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	id, err := web.PathID(r, "id", "Équipement")
	if err != nil {
		return err
	}
	items, err := h.svc.AssetTickets(r.Context(), p, id)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusOK, map[string]any{"items": items})
}

// apiForecastExport downloads the forecast as CSV (default) or XLSX.
func (h *Handler) apiForecastExport(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	format := r.URL.Query().Get("format")
	if format != "" && format != "csv" && format != "xlsx" {
		return problem.Invalid("invalid_parameter", "Format inconnu : csv ou xlsx.").Field("format", "csv ou xlsx.")
	}
	years, err := intParam(r, "years", 1, 15)
	if err != nil {
		return err
	}
	res, err := h.svc.Forecast(r.Context(), p, ForecastOptions{Years: years, UAI: strings.ToUpper(strings.TrimSpace(r.URL.Query().Get("establishment")))})
	if err != nil {
		return err
	}
	if format == "xlsx" {
		w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
		w.Header().Set("Content-Disposition", `attachment; filename="renouvellement.xlsx"`)
		return writeForecastXLSX(w, res)
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="renouvellement.csv"`)
	return writeForecastCSV(w, res)
}
