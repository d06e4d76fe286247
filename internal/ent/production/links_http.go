package production

import (
	"net/http"

	"socle/internal/platform/web"
)

// The share links' pages and API (links.go).

func (h *Handler) followLinkPage(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	pr, err := h.svc.FollowLink(r.Context(), p, r.PathValue("token"))
	if err != nil {
		return err
	}
	return redirect(w, r, "/productions/"+docID(pr.ID), "Vous avez maintenant accès à cette production ("+pr.Role.Label()+").")
}

func (h *Handler) createLinkForm(w http.ResponseWriter, r *http.Request) error {
	p, id, err := userAndID(r)
	if err != nil {
		return err
	}
	if _, err := h.svc.CreateLink(r.Context(), p, id, Role(r.PostFormValue("role"))); err != nil {
		return err
	}
	return redirect(w, r, "/productions/"+docID(id), "Lien de partage créé : copiez-le pour le donner.")
}

func (h *Handler) revokeLinkForm(w http.ResponseWriter, r *http.Request) error {
	p, id, err := userAndID(r)
	if err != nil {
		return err
	}
	lid, err := web.PathID(r, "link", "Lien de partage")
	if err != nil {
		return err
	}
	if err := h.svc.RevokeLink(r.Context(), p, id, lid); err != nil {
		return err
	}
	return redirect(w, r, "/productions/"+docID(id), "Lien retiré : il ne donne plus accès, et ceux qui l'avaient suivi le perdent.")
}

func (h *Handler) apiLinks(w http.ResponseWriter, r *http.Request) error {
	p, id, err := userAndID(r)
	if err != nil {
		return err
	}
	ls, err := h.svc.Links(r.Context(), p, id)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusOK, ls)
}

func (h *Handler) apiCreateLink(w http.ResponseWriter, r *http.Request) error {
	p, id, err := userAndID(r)
	if err != nil {
		return err
	}
	var in struct {
		Role Role `json:"role"`
	}
	if err := web.DecodeJSON(w, r, 4<<10, &in); err != nil {
		return err
	}
	l, err := h.svc.CreateLink(r.Context(), p, id, in.Role)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusCreated, l)
}

func (h *Handler) apiRevokeLink(w http.ResponseWriter, r *http.Request) error {
	p, id, err := userAndID(r)
	if err != nil {
		return err
	}
	lid, err := web.PathID(r, "link", "Lien de partage")
	if err != nil {
		return err
	}
	if err := h.svc.RevokeLink(r.Context(), p, id, lid); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handler) apiFollowLink(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	pr, err := h.svc.FollowLink(r.Context(), p, r.PathValue("token"))
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusOK, pr)
}
