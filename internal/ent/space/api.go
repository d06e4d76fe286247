package space

import (
	"net/http"

	"socle/internal/platform/web"
)

func (h *Handler) apiRoutes(r *web.Router) {
	r.Handle("GET /api/v1/space", h.apiList)
	r.Handle("GET /api/v1/space/trash", h.apiTrash)
	r.Handle("POST /api/v1/space/trash/{id}/restore", h.apiRestore)
	r.Handle("GET /api/v1/space/nodes/{id}/versions", h.apiVersions)
}

type nodeList struct {
	Space *Space `json:"space,omitempty"`
	// Spaces are all the spaces the caller may open (personal first), given
	// with the listing of a root folder.
	Spaces []Space `json:"spaces,omitempty"`
	Items  []Node  `json:"items"`
}

func (h *Handler) apiList(w http.ResponseWriter, r *http.Request) error {
	sp, err := h.space(r)
	if err != nil {
		return err
	}
	fid, err := folderParam(r.URL.Query().Get("folder"))
	if err != nil {
		return err
	}
	items, err := h.svc.List(r.Context(), sp, fid)
	if err != nil {
		return err
	}
	out := nodeList{Space: &sp, Items: nonNil(items)}
	if fid == 0 {
		if out.Spaces, err = h.svc.Spaces(r.Context(), web.PrincipalFrom(r.Context())); err != nil {
			return err
		}
	}
	return web.JSON(w, http.StatusOK, out)
}

func (h *Handler) apiTrash(w http.ResponseWriter, r *http.Request) error {
	sp, err := h.space(r)
	if err != nil {
		return err
	}
	items, err := h.svc.ListTrash(r.Context(), sp)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusOK, nodeList{Items: nonNil(items)})
}

func (h *Handler) apiRestore(w http.ResponseWriter, r *http.Request) error {
	sp, err := h.space(r)
	if err != nil {
		return err
	}
	id, err := web.PathID(r, "id", "Document")
	if err != nil {
		return err
	}
	n, err := h.svc.Restore(r.Context(), sp, id)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusOK, n)
}

func (h *Handler) apiVersions(w http.ResponseWriter, r *http.Request) error {
	sp, err := h.space(r)
	if err != nil {
		return err
	}
	id, err := web.PathID(r, "id", "Document")
	if err != nil {
		return err
	}
	vs, err := h.svc.Versions(r.Context(), sp, id)
	if err != nil {
		return err
	}
	if vs == nil {
		vs = []Version{}
	}
	return web.JSON(w, http.StatusOK, map[string]any{"items": vs})
}

func nonNil(n []Node) []Node {
	if n == nil {
		return []Node{}
	}
	return n
}
