package fleet

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
)

// AgentOptions configures the inventory endpoint.
type AgentOptions struct {
	// BasicUser and BasicPassword, when set, make agents authenticate
	// with HTTP Basic (agent options --user and --password).
	BasicUser     string
	BasicPassword string
	// MaxBody caps the decompressed size of a request (default 20 MB):
	// a real inventory is a few hundred kilobytes, a bomb is refused.
	MaxBody int64
}

// DefaultMaxBody is the decompressed size cap when none is configured.
const DefaultMaxBody = 20 << 20

// prologFreq is the delay, in hours, the server asks agents to wait
// between two inventories.
const prologFreq = 24

// AgentHandler speaks the two agent dialogues on one endpoint: the OCS XML
// one of FusionInventory (PROLOG, then INVENTORY) and the JSON one of GLPI
// Agent (contact, then inventory). Mount it on /ocsinventory and /inventory.
type AgentHandler struct {
	svc  *Service
	opts AgentOptions
	log  *slog.Logger
	// compressed holds the constant replies already compressed, built
	// once: a compressor costs more to set up than the whole reply, and
	// every inventory gets one of these.
	compressed map[replyKey][]byte
}

type replyKey struct {
	comp compression
	body string
}

// NewAgentHandler returns the inventory endpoint.
func NewAgentHandler(svc *Service, opts AgentOptions) *AgentHandler {
	if opts.MaxBody <= 0 {
		opts.MaxBody = DefaultMaxBody
	}
	h := &AgentHandler{svc: svc, opts: opts, log: svc.log, compressed: map[replyKey][]byte{}}
	for _, body := range []string{xmlReplySend, xmlReplyAccount, jsonContactReply, jsonInventoryReply} {
		for _, c := range []compression{compZlib, compGzip, compDeflate} {
			h.compressed[replyKey{c, body}] = compress(c, []byte(body))
		}
	}
	return h
}

// The GLPI Agent replies: only the inventory task is offered; the agent
// then sends an "inventory" action within the expiration delay (hours).
const (
	jsonContactReply   = `{"expiration":24,"status":"ok","tasks":{"inventory":{"server":"glpi","version":"10.0"}}}`
	jsonInventoryReply = `{"expiration":24,"status":"ok"}`
)

// compress encodes body as comp (deflate is answered zlib-wrapped).
func compress(comp compression, body []byte) []byte {
	var buf bytes.Buffer
	switch comp {
	case compZlib, compDeflate:
		zw := zlib.NewWriter(&buf)
		_, _ = zw.Write(body)
		_ = zw.Close()
	case compGzip:
		gw := gzip.NewWriter(&buf)
		_, _ = gw.Write(body)
		_ = gw.Close()
	default:
		return body
	}
	return buf.Bytes()
}

// compression is how a body is (to be) encoded.
type compression int

const (
	compNone compression = iota
	compZlib
	compGzip
	compDeflate
)

// agentError is a refusal with its HTTP status and French message.
type agentError struct {
	status int
	msg    string
	err    error
}

func (e *agentError) Error() string { return fmt.Sprintf("%d %s: %v", e.status, e.msg, e.err) }
func (e *agentError) Unwrap() error { return e.err }

func refuse(status int, msg string, err error) *agentError {
	return &agentError{status: status, msg: msg, err: err}
}

func (h *AgentHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h.opts.BasicUser != "" && !h.authorized(r) {
		// The agents answer this challenge by retrying with --user and
		// --password; without it they never send credentials.
		w.Header().Set("WWW-Authenticate", `Basic realm="Socle inventaire"`)
		http.Error(w, "Authentification requise.", http.StatusUnauthorized)
		return
	}
	if r.Method == http.MethodGet {
		// GLPI Agent and browsers probe the URL; say what lives here.
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "Socle : point de réception des inventaires (FusionInventory, GLPI Agent).\n")
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "Méthode non autorisée.", http.StatusMethodNotAllowed)
		return
	}
	body, comp, err := h.readBody(w, r)
	if err != nil {
		h.fail(w, r, compNone, false, err)
		return
	}
	trimmed := bytes.TrimLeft(body, " \t\r\n\xef\xbb\xbf")
	switch {
	case len(trimmed) > 0 && trimmed[0] == '<':
		h.serveXML(w, r, body, comp)
	case len(trimmed) > 0 && trimmed[0] == '{':
		h.serveJSON(w, r, body, comp)
	default:
		h.fail(w, r, comp, false, refuse(http.StatusBadRequest, "Message d'agent non reconnu : ni XML ni JSON.", nil))
	}
}

func (h *AgentHandler) authorized(r *http.Request) bool {
	u, p, ok := r.BasicAuth()
	// Both comparisons always run, so timing does not tell which failed.
	uOK := subtle.ConstantTimeCompare([]byte(u), []byte(h.opts.BasicUser))
	pOK := subtle.ConstantTimeCompare([]byte(p), []byte(h.opts.BasicPassword))
	return ok && uOK&pOK == 1
}

// readBody returns the decompressed body. The compression is what the
// Content-Type announces, checked against the magic bytes; without an
// announcement the magic bytes decide. Both the compressed and the
// decompressed sizes are capped.
func (h *AgentHandler) readBody(w http.ResponseWriter, r *http.Request) ([]byte, compression, error) {
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.opts.MaxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, compNone, refuse(http.StatusRequestEntityTooLarge, fmt.Sprintf("Inventaire trop volumineux (plus de %d Mo).", h.opts.MaxBody>>20), err)
		}
		return nil, compNone, refuse(http.StatusBadRequest, "Lecture du corps de la requête impossible.", err)
	}
	if len(raw) == 0 {
		return nil, compNone, refuse(http.StatusBadRequest, "Corps de requête vide.", nil)
	}
	ct := strings.ToLower(r.Header.Get("Content-Type"))
	enc := strings.ToLower(r.Header.Get("Content-Encoding"))
	magic := sniffCompression(raw)
	announced := compNone
	switch {
	case strings.Contains(ct, "zlib"):
		announced = compZlib
	case strings.Contains(ct, "gzip") || enc == "gzip":
		announced = compGzip
	case strings.Contains(ct, "deflate") || enc == "deflate":
		announced = compDeflate
	}
	comp := magic
	switch announced {
	case compZlib, compGzip:
		if magic != announced {
			return nil, compNone, refuse(http.StatusBadRequest, "Le corps n'est pas compressé comme l'annonce l'en-tête Content-Type ("+ct+").", nil)
		}
	case compDeflate:
		// "deflate" is zlib-wrapped in HTTP, raw in some clients: accept
		// both, refuse plain text announced as compressed.
		if magic == compGzip || looksPlain(raw) {
			return nil, compNone, refuse(http.StatusBadRequest, "Le corps n'est pas compressé comme l'annonce l'en-tête ("+ct+enc+").", nil)
		}
		if magic != compZlib {
			comp = compDeflate
		}
	}
	var rd io.Reader
	switch comp {
	case compNone:
		return raw, compNone, nil
	case compZlib:
		zr, err := zlib.NewReader(bytes.NewReader(raw))
		if err != nil {
			return nil, comp, refuse(http.StatusBadRequest, "Corps zlib illisible.", err)
		}
		defer zr.Close()
		rd = zr
	case compGzip:
		gr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			return nil, comp, refuse(http.StatusBadRequest, "Corps gzip illisible.", err)
		}
		defer gr.Close()
		rd = gr
	case compDeflate:
		fr := flate.NewReader(bytes.NewReader(raw))
		defer fr.Close()
		rd = fr
	}
	out, err := io.ReadAll(io.LimitReader(rd, h.opts.MaxBody+1))
	if err != nil {
		return nil, comp, refuse(http.StatusBadRequest, "Décompression impossible : corps tronqué ou corrompu.", err)
	}
	if int64(len(out)) > h.opts.MaxBody {
		return nil, comp, refuse(http.StatusRequestEntityTooLarge,
			fmt.Sprintf("Inventaire trop volumineux une fois décompressé (plus de %d Mo) : refusé.", h.opts.MaxBody>>20), nil)
	}
	return out, comp, nil
}

func sniffCompression(b []byte) compression {
	switch {
	case len(b) >= 2 && b[0] == 0x1f && b[1] == 0x8b:
		return compGzip
	case len(b) >= 2 && b[0]&0x0f == 8 && (uint16(b[0])<<8|uint16(b[1]))%31 == 0:
		return compZlib
	}
	return compNone
}

func looksPlain(b []byte) bool {
	t := bytes.TrimLeft(b, " \t\r\n\xef\xbb\xbf")
	return len(t) > 0 && (t[0] == '<' || t[0] == '{')
}

// reply writes body in the compression the agent used, as the OCS
// protocol expects (the agent detects zlib and gzip by their magic bytes).
func (h *AgentHandler) reply(w http.ResponseWriter, status int, comp compression, isJSON bool, body []byte) {
	out, ok := h.compressed[replyKey{comp, string(body)}]
	if !ok {
		out = compress(comp, body)
	}
	switch comp {
	case compZlib, compDeflate:
		w.Header().Set("Content-Type", "application/x-compress-zlib")
	case compGzip:
		w.Header().Set("Content-Type", "application/x-compress-gzip")
	default:
		if isJSON {
			w.Header().Set("Content-Type", "application/json")
		} else {
			w.Header().Set("Content-Type", "application/xml; charset=utf-8")
		}
	}
	w.WriteHeader(status)
	_, _ = w.Write(out)
}

// fail answers a refused request; the message is French plain text, which
// the agents print in their log.
func (h *AgentHandler) fail(w http.ResponseWriter, r *http.Request, comp compression, isJSON bool, err error) {
	var ae *agentError
	if !errors.As(err, &ae) {
		h.log.ErrorContext(r.Context(), "inventory failed", "path", r.URL.Path, "err", err)
		ae = refuse(http.StatusInternalServerError, "Erreur interne lors de l'enregistrement de l'inventaire.", err)
	} else {
		h.log.WarnContext(r.Context(), "inventory refused", "path", r.URL.Path, "status", ae.status, "err", err)
	}
	if isJSON {
		b, _ := json.Marshal(map[string]string{"status": "error", "message": ae.msg})
		h.reply(w, ae.status, comp, true, b)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(ae.status)
	_, _ = io.WriteString(w, ae.msg+"\n")
}

const xmlReplySend = `<?xml version="1.0" encoding="UTF-8" ?>` + "\n" +
	`<REPLY><PROLOG_FREQ>24</PROLOG_FREQ><RESPONSE>SEND</RESPONSE></REPLY>` + "\n"

const xmlReplyAccount = `<?xml version="1.0" encoding="UTF-8" ?>` + "\n" +
	`<REPLY><RESPONSE>ACCOUNT_UPDATE</RESPONSE></REPLY>` + "\n"

func (h *AgentHandler) serveXML(w http.ResponseWriter, r *http.Request, body []byte, comp compression) {
	msg, err := parseXML(body)
	if err != nil {
		h.fail(w, r, comp, false, refuse(http.StatusBadRequest, "XML d'inventaire invalide ou tronqué : rien n'a été enregistré.", err))
		return
	}
	switch msg.Query {
	case "PROLOG":
		h.reply(w, http.StatusOK, comp, false, []byte(xmlReplySend))
	case "INVENTORY":
		if err := h.ingest(r.Context(), msg.Inventory); err != nil {
			h.fail(w, r, comp, false, err)
			return
		}
		h.reply(w, http.StatusOK, comp, false, []byte(xmlReplyAccount))
	default:
		h.fail(w, r, comp, false, refuse(http.StatusBadRequest, "Requête OCS non prise en charge : "+msg.Query+".", nil))
	}
}

func (h *AgentHandler) serveJSON(w http.ResponseWriter, r *http.Request, body []byte, comp compression) {
	msg, inv, err := parseJSON(body)
	if err != nil {
		h.fail(w, r, comp, true, refuse(http.StatusBadRequest, "JSON d'inventaire invalide ou tronqué : rien n'a été enregistré.", err))
		return
	}
	if inv.DeviceID == "" {
		inv.DeviceID = r.Header.Get("GLPI-Agent-ID")
	}
	var resp string
	switch msg.Action {
	case "contact":
		resp = jsonContactReply
	case "inventory":
		if err := h.ingest(r.Context(), inv); err != nil {
			h.fail(w, r, comp, true, err)
			return
		}
		resp = jsonInventoryReply
	default:
		h.fail(w, r, comp, true, refuse(http.StatusBadRequest, "Action d'agent non prise en charge : "+msg.Action+".", nil))
		return
	}
	h.reply(w, http.StatusOK, comp, true, []byte(resp))
}

func (h *AgentHandler) ingest(ctx context.Context, inv Inventory) error {
	res, err := h.svc.Ingest(ctx, inv)
	if err != nil {
		return err
	}
	h.log.InfoContext(ctx, "inventory received", "device", inv.DeviceID, "tag", inv.Tag, "asset", res.AssetID,
		"created", res.Created, "quarantined", res.Quarantined, "software_added", res.Added, "software_removed", res.Removed)
	return nil
}
