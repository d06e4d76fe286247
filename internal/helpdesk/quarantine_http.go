package helpdesk

import (
	"net/http"
	"net/url"
	"strconv"

	"socle/internal/platform/auth"
	"socle/internal/platform/problem"
	"socle/internal/platform/web"
)

// quarantineView is the quarantine page; Error and Fields belong to the
// message FormID whose form was just refused.
type quarantineView struct {
	Rows   []quarantineRow
	Total  int
	Pager  pager
	Done   string
	Error  string
	FormID int64
	Fields map[string]string
	Form   url.Values
}

// quarantinePage lists the incoming messages kept aside, for platform
// administrators, each with its raw message to download and the forms to
// release or discard it.
func (h *Handler) quarantinePage(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	v, err := h.quarantineView(r, p)
	if err != nil {
		return err
	}
	switch q := r.URL.Query(); {
	case q.Get("ticket") != "":
		v.Done = "Le message a été ajouté au ticket " + q.Get("ticket") + "."
	case q.Get("ecarte") != "":
		v.Done = "Le message a été écarté."
	}
	return h.render.Render(w, r, http.StatusOK, "helpdesk/quarantine", "Courriels en quarantaine", v)
}

func (h *Handler) quarantineView(r *http.Request, p *auth.Principal) (quarantineView, error) {
	q := r.URL.Query()
	offset, err := web.IntParam(q, "offset", 0, 1<<31)
	if err != nil {
		return quarantineView{}, err
	}
	items, total, err := h.svc.Quarantine(r.Context(), p, 50, int(offset))
	if err != nil {
		return quarantineView{}, err
	}
	rows := make([]quarantineRow, 0, len(items))
	for _, it := range items {
		rows = append(rows, quarantineRow{QuarantinedMail: it, When: frDateTime(it.ReceivedAt), ReasonLabel: quarantineReason(it.Reason)})
	}
	return quarantineView{Rows: rows, Total: total, Fields: map[string]string{},
		Pager: pager{Total: total, Offset: int(offset), Limit: 50, Path: "/courriels-en-quarantaine", Query: q}}, nil
}

// quarantineDownload sends the message as received, as an .eml file.
func (h *Handler) quarantineDownload(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	id, err := web.PathID(r, "id", "Message")
	if err != nil {
		return err
	}
	_, raw, err := h.svc.QuarantinedMessage(r.Context(), p, id)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "message/rfc822")
	w.Header().Set("Content-Disposition", `attachment; filename="quarantaine-`+strconv.FormatInt(id, 10)+`.eml"`)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, err = w.Write(raw)
	return err
}

// quarantineForm releases a message (to a ticket, or as a new ticket for a
// requester) or discards it, as the form's action says.
func (h *Handler) quarantineForm(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	id, err := web.PathID(r, "id", "Message")
	if err != nil {
		return err
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		return problem.Invalid("invalid_form", "Formulaire invalide.").Wrap(err)
	}
	f := r.PostForm
	var ref string
	switch f.Get("action") {
	case "discard":
		err = h.svc.DiscardQuarantine(r.Context(), p, id)
	case "followup":
		if f.Get("ticket_reference") == "" {
			err = problem.Invalid("release_target_required", "Indiquez le ticket.").Field("ticket_reference", "Référence requise.")
			break
		}
		ref, err = h.svc.ReleaseQuarantine(r.Context(), p, id, QuarantineRelease{TicketRef: f.Get("ticket_reference")})
	case "ticket":
		if f.Get("requester_email") == "" {
			err = problem.Invalid("release_target_required", "Indiquez le demandeur.").Field("requester_email", "Adresse requise.")
			break
		}
		ref, err = h.svc.ReleaseQuarantine(r.Context(), p, id, QuarantineRelease{RequesterEmail: f.Get("requester_email"), UAI: f.Get("uai")})
	default:
		err = problem.Invalid("invalid_action", "Action inconnue.")
	}
	if pe, ok := problem.As(err); ok && pe.Status < 500 && pe.Status != http.StatusNotFound {
		v, verr := h.quarantineView(r, p)
		if verr != nil {
			return verr
		}
		v.Error, v.FormID, v.Form = pe.Message, id, f
		for k, m := range pe.Fields {
			v.Fields[k] = m
		}
		return h.render.Render(w, r, pe.Status, "helpdesk/quarantine", "Courriels en quarantaine", v)
	}
	if err != nil {
		return err
	}
	if ref != "" {
		http.Redirect(w, r, "/courriels-en-quarantaine?ticket="+url.QueryEscape(ref), http.StatusSeeOther)
		return nil
	}
	http.Redirect(w, r, "/courriels-en-quarantaine?ecarte=1", http.StatusSeeOther)
	return nil
}

type outboxRow struct {
	OutboxMessage
	Created, Next, Sent string
}

// outboxPage shows the outgoing notifications, failed ones first when
// asked, so an administrator sees a mail server that refuses.
func (h *Handler) outboxPage(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	offset, err := web.IntParam(q, "offset", 0, 1<<31)
	if err != nil {
		return err
	}
	problems := q.Get("echecs") != ""
	items, total, err := h.svc.Outbox(r.Context(), p, problems, 50, int(offset))
	if err != nil {
		return err
	}
	rows := make([]outboxRow, 0, len(items))
	for _, m := range items {
		row := outboxRow{OutboxMessage: m, Created: frDateTime(m.CreatedAt), Next: frDateTime(m.NextAttemptAt)}
		if !m.SentAt.IsZero() {
			row.Sent = frDateTime(m.SentAt)
		}
		rows = append(rows, row)
	}
	return h.render.Render(w, r, http.StatusOK, "helpdesk/outbox", "Notifications sortantes", map[string]any{
		"Rows": rows, "Total": total, "Problems": problems,
		"Pager": pager{Total: total, Offset: int(offset), Limit: 50, Path: "/notifications-sortantes", Query: q}})
}
