package app

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"socle/internal/platform/web"
	"socle/internal/territory"
)

// apiDoc is the OpenAPI document, decoded loosely: the tests walk it as
// plain JSON rather than through a library, so they check exactly what
// clients read.
type apiDoc struct {
	raw   []byte
	root  map[string]any
	paths map[string]any
}

func loadAPIDoc(tb testing.TB) *apiDoc {
	tb.Helper()
	raw, err := OpenAPIDocument()
	if err != nil {
		tb.Fatalf("assemble openapi.json: %v", err)
	}
	d := &apiDoc{raw: raw}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&d.root); err != nil {
		tb.Fatalf("openapi.json is not valid JSON: %v", err)
	}
	d.paths, _ = d.root["paths"].(map[string]any)
	return d
}

// apiRoute is a method and a path template of the API.
type apiRoute struct{ Method, Path string }

func (r apiRoute) String() string { return r.Method + " " + r.Path }

// registeredAPIRoutes lists the /api/v1 routes the application mounts,
// from the router itself, so that a new route cannot be forgotten here.
func registeredAPIRoutes(tb testing.TB, a *App) []apiRoute {
	tb.Helper()
	if a.Router == nil {
		tb.Fatal("App.Router is nil: call Handler first")
	}
	var out []apiRoute
	for _, p := range a.Router.Patterns() {
		method, path, ok := strings.Cut(p, " ")
		if !ok {
			method, path = "", p
		}
		if !strings.HasPrefix(path, "/api/v1/") {
			continue
		}
		if method == "" {
			tb.Errorf("API route %q accepts every method: name the method, so the documentation can say it", p)
			continue
		}
		out = append(out, apiRoute{method, path})
	}
	if len(out) == 0 {
		tb.Fatal("no /api/v1 route registered: the route listing is broken")
	}
	return out
}

// documentedRoutes lists the operations of the document.
func (d *apiDoc) documentedRoutes() []apiRoute {
	var out []apiRoute
	for path, item := range d.paths {
		ops, _ := item.(map[string]any)
		for m := range ops {
			switch m {
			case "get", "put", "post", "delete", "patch", "head", "options", "trace":
				out = append(out, apiRoute{strings.ToUpper(m), path})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}

// template finds the documented path template a concrete path matches:
// "{x}" stands for one non-empty segment.
func (d *apiDoc) template(path string) (string, bool) {
	path, _, _ = strings.Cut(path, "?")
	if _, ok := d.paths[path]; ok {
		return path, true
	}
	segs := strings.Split(path, "/")
	for tpl := range d.paths {
		ts := strings.Split(tpl, "/")
		if len(ts) != len(segs) {
			continue
		}
		match := true
		for i := range ts {
			if strings.HasPrefix(ts[i], "{") && strings.HasSuffix(ts[i], "}") {
				match = match && segs[i] != ""
			} else {
				match = match && ts[i] == segs[i]
			}
		}
		if match {
			return tpl, true
		}
	}
	return "", false
}

// operation returns the document's operation for a method and a concrete
// path.
func (d *apiDoc) operation(method, path string) (map[string]any, string, bool) {
	tpl, ok := d.template(path)
	if !ok {
		return nil, "", false
	}
	item, _ := d.paths[tpl].(map[string]any)
	op, ok := item[strings.ToLower(method)].(map[string]any)
	return op, tpl, ok
}

// resolve follows a local $ref ("#/components/schemas/X").
func (d *apiDoc) resolve(node map[string]any) (map[string]any, error) {
	for range 10 {
		ref, ok := node["$ref"].(string)
		if !ok {
			return node, nil
		}
		target, ok := d.pointer(ref)
		if !ok {
			return nil, fmt.Errorf("unresolved $ref %q", ref)
		}
		node = target
	}
	return nil, fmt.Errorf("$ref chain too long at %v", node["$ref"])
}

func (d *apiDoc) pointer(ref string) (map[string]any, bool) {
	rest, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return nil, false
	}
	var cur any = d.root
	for _, part := range strings.Split(rest, "/") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		cur, ok = m[strings.ReplaceAll(strings.ReplaceAll(part, "~1", "/"), "~0", "~")]
		if !ok {
			return nil, false
		}
	}
	m, ok := cur.(map[string]any)
	return m, ok
}

// checkReply fails the test when an answer of the API is not what the
// document promises: an undocumented status, or a body that does not
// match the schema of that status.
func (d *apiDoc) checkReply(tb testing.TB, method, path string, r reply) {
	tb.Helper()
	op, tpl, ok := d.operation(method, path)
	if !ok {
		tb.Errorf("%s %s is not documented in openapi.json", method, path)
		return
	}
	responses, _ := op["responses"].(map[string]any)
	resp, ok := responses[strconv.Itoa(r.Status)].(map[string]any)
	if !ok {
		tb.Errorf("%s %s answered %d, a status openapi.json does not document for %s: %s", method, path, r.Status, tpl, r.Body)
		return
	}
	resp, err := d.resolve(resp)
	if err != nil {
		tb.Error(err)
		return
	}
	content, _ := resp["content"].(map[string]any)
	media, ok := content["application/json"].(map[string]any)
	if !ok {
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		tb.Errorf("%s %s: Content-Type %q, want application/json", method, path, ct)
	}
	schema, _ := media["schema"].(map[string]any)
	dec := json.NewDecoder(bytes.NewReader(r.Body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		tb.Errorf("%s %s: body is not JSON: %v", method, path, err)
		return
	}
	for _, problem := range d.validate(schema, v, "body") {
		tb.Errorf("%s %s (%d) does not match openapi.json: %s\nbody: %s", method, path, r.Status, problem, compactJSON(r.Body))
	}
}

// validate checks a decoded JSON value against the subset of JSON Schema
// the document uses. Objects are closed: a property the server sends but
// the document does not list is an error, so the document cannot fall
// behind the code.
func (d *apiDoc) validate(schema map[string]any, v any, at string) []string {
	schema, err := d.resolve(schema)
	if err != nil {
		return []string{at + ": " + err.Error()}
	}
	if all, ok := schema["allOf"].([]any); ok {
		merged := map[string]any{"type": "object", "properties": map[string]any{}, "required": []any{}}
		props := merged["properties"].(map[string]any)
		for _, part := range all {
			p, err := d.resolve(part.(map[string]any))
			if err != nil {
				return []string{at + ": " + err.Error()}
			}
			for k, s := range asMap(p["properties"]) {
				props[k] = s
			}
			merged["required"] = append(merged["required"].([]any), asSlice(p["required"])...)
		}
		schema = merged
	}
	var errs []string
	if enum, ok := schema["enum"].([]any); ok && !slices.ContainsFunc(enum, func(e any) bool { return e == v }) {
		errs = append(errs, fmt.Sprintf("%s: %v is not one of %v", at, v, enum))
	}
	switch schema["type"] {
	case "object":
		obj, ok := v.(map[string]any)
		if !ok {
			return append(errs, fmt.Sprintf("%s: want an object, got %T", at, v))
		}
		for _, req := range asSlice(schema["required"]) {
			if _, ok := obj[req.(string)]; !ok {
				errs = append(errs, fmt.Sprintf("%s: required property %q is missing", at, req))
			}
		}
		props := asMap(schema["properties"])
		extra, _ := schema["additionalProperties"].(map[string]any)
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			switch ps, ok := props[k].(map[string]any); {
			case ok:
				errs = append(errs, d.validate(ps, obj[k], at+"."+k)...)
			case extra != nil:
				errs = append(errs, d.validate(extra, obj[k], at+"."+k)...)
			case props != nil || schema["additionalProperties"] == false:
				errs = append(errs, fmt.Sprintf("%s: property %q is not documented", at, k))
			}
		}
	case "array":
		arr, ok := v.([]any)
		if !ok {
			return append(errs, fmt.Sprintf("%s: want an array, got %T", at, v))
		}
		items, _ := schema["items"].(map[string]any)
		for i, it := range arr {
			errs = append(errs, d.validate(items, it, fmt.Sprintf("%s[%d]", at, i))...)
		}
	case "string":
		s, ok := v.(string)
		if !ok {
			return append(errs, fmt.Sprintf("%s: want a string, got %T", at, v))
		}
		if p, ok := schema["pattern"].(string); ok && !regexp.MustCompile(p).MatchString(s) {
			errs = append(errs, fmt.Sprintf("%s: %q does not match %s", at, s, p))
		}
		if schema["format"] == "date-time" {
			if _, err := time.Parse(time.RFC3339, s); err != nil {
				errs = append(errs, fmt.Sprintf("%s: %q is not a date-time", at, s))
			}
		}
	case "integer", "number":
		n, ok := v.(json.Number)
		if !ok {
			return append(errs, fmt.Sprintf("%s: want a number, got %T", at, v))
		}
		if schema["type"] == "integer" {
			if _, err := n.Int64(); err != nil {
				errs = append(errs, fmt.Sprintf("%s: %s is not an integer", at, n))
			}
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			errs = append(errs, fmt.Sprintf("%s: want a boolean, got %T", at, v))
		}
	}
	return errs
}

// jsonFields lists the JSON names of a struct's exported fields, embedded
// structs flattened, sorted.
func jsonFields(t reflect.Type) []string {
	var out []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			out = append(out, jsonFields(f.Type)...)
			continue
		}
		if name == "" {
			name = f.Name
		}
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

func asMap(v any) map[string]any { m, _ := v.(map[string]any); return m }
func asSlice(v any) []any        { s, _ := v.([]any); return s }

// The document is OpenAPI 3, documents every /api/v1 route the application
// mounts with its method, documents nothing that does not exist, and every
// reference in it resolves.
func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	d := s.doc
	if v, _ := d.root["openapi"].(string); !strings.HasPrefix(v, "3.") {
		t.Fatalf("openapi = %q, want 3.x", v)
	}
	info := asMap(d.root["info"])
	for _, k := range []string{"title", "version", "description"} {
		if s, _ := info[k].(string); s == "" {
			t.Errorf("info.%s is empty", k)
		}
	}

	registered := registeredAPIRoutes(t, s.app)
	documented := d.documentedRoutes()
	for _, r := range registered {
		if !slices.Contains(documented, r) {
			t.Errorf("route %s is mounted but not documented (web/static/openapi.json or its domain's openapi_fragment.json)", r)
		}
	}
	for _, r := range documented {
		if !slices.Contains(registered, r) {
			t.Errorf("openapi.json documents %s, which the application does not mount", r)
		}
	}

	// Every $ref anywhere must resolve.
	var walk func(node any, at string)
	walk = func(node any, at string) {
		switch n := node.(type) {
		case map[string]any:
			if ref, ok := n["$ref"].(string); ok {
				if _, ok := d.pointer(ref); !ok {
					t.Errorf("%s: $ref %q does not resolve", at, ref)
				}
			}
			for k, v := range n {
				walk(v, at+"/"+k)
			}
		case []any:
			for i, v := range n {
				walk(v, fmt.Sprintf("%s/%d", at, i))
			}
		}
	}
	walk(d.root, "#")

	// Each operation's tags are declared, so that readers group them.
	tags := map[string]bool{}
	for _, tg := range asSlice(d.root["tags"]) {
		tags[asMap(tg)["name"].(string)] = true
	}
	for _, r := range documented {
		op, _, _ := d.operation(r.Method, r.Path)
		if len(asSlice(op["tags"])) == 0 {
			t.Errorf("%s: no tag (declare one in the domain's fragment)", r)
		}
		for _, tg := range asSlice(op["tags"]) {
			if !tags[tg.(string)] {
				t.Errorf("%s: tag %q is not declared in the document's tags", r, tg)
			}
		}
	}

	// Each operation: path parameters declared, a success, and a 401 unless
	// it is public (security: []).
	bearer := asMap(asMap(asMap(d.root["components"])["securitySchemes"])["bearer"])
	if bearer["type"] != "http" || bearer["scheme"] != "bearer" {
		t.Errorf("components.securitySchemes.bearer = %v, want an http bearer scheme", bearer)
	}
	for _, r := range documented {
		op, _, _ := d.operation(r.Method, r.Path)
		declared := map[string]bool{}
		item := asMap(d.paths[r.Path])
		for _, p := range append(asSlice(item["parameters"]), asSlice(op["parameters"])...) {
			p, err := d.resolve(p.(map[string]any))
			if err != nil {
				t.Error(err)
				continue
			}
			if p["in"] == "path" {
				declared[p["name"].(string)] = true
			}
		}
		for _, m := range regexp.MustCompile(`\{([^}]+)\}`).FindAllStringSubmatch(r.Path, -1) {
			if !declared[m[1]] {
				t.Errorf("%s: path parameter %q is not declared", r, m[1])
			}
		}
		responses := asMap(op["responses"])
		if !slices.ContainsFunc(sortedKeys(responses), func(code string) bool { return strings.HasPrefix(code, "2") }) {
			t.Errorf("%s: no success response documented", r)
		}
		sec, hasSec := op["security"].([]any)
		public := hasSec && len(sec) == 0
		if _, ok := responses["401"]; !ok && !public {
			t.Errorf("%s: needs a token but documents no 401", r)
		}
	}

	// The error codes clients are told to rely on. They are listed in
	// prose, not as an enum: every domain adds its own, and a client that
	// took the list as closed would break on the next one.
	codes, _ := asMap(asMap(asMap(asMap(asMap(d.root["components"])["schemas"])["Error"])["properties"])["code"])["description"].(string)
	for _, c := range []string{"unauthenticated", "invalid_token", "bad_credentials", "not_found", "invalid_filter",
		"invalid_parameter", "invalid_json", "too_many_attempts", "csrf", "method_not_allowed", "internal"} {
		if !strings.Contains(codes, "`"+c+"`") {
			t.Errorf("error code %q is not listed in the description of Error.code", c)
		}
	}

	// The filters documented are the ones the search reads, with their
	// values.
	search, _, _ := d.operation("GET", "/api/v1/establishments")
	params := map[string]map[string]any{}
	for _, p := range asSlice(search["parameters"]) {
		p, _ := d.resolve(p.(map[string]any))
		params[p["name"].(string)] = asMap(p["schema"])
	}
	want := map[string][]any{
		"type":   {"ecole", "college", "lycee", "erea", "autre", "inconnu"},
		"rep":    {"REP", "REP+", "any", "none"},
		"sector": {"public", "prive"},
	}
	for _, name := range []string{"q", "type", "commune", "responsible", "rep", "sector", "limit", "offset"} {
		if _, ok := params[name]; !ok {
			t.Errorf("search parameter %q is not documented", name)
		}
	}
	for name, values := range want {
		if got := asSlice(params[name]["enum"]); !slices.Equal(got, values) {
			t.Errorf("parameter %s: enum %v, want %v", name, got, values)
		}
	}
	if l := params["limit"]; fmt.Sprintf("%v %v %v", l["minimum"], l["maximum"], l["default"]) != "1 200 50" {
		t.Errorf("limit: minimum, maximum, default = %v %v %v, want 1 200 50", l["minimum"], l["maximum"], l["default"])
	}

	// The schemas list exactly the fields the Go types put in JSON, the
	// ones left out when empty included (answers alone would miss those).
	for name, v := range map[string]any{
		"Establishment": territory.Establishment{}, "Organization": territory.Organization{}, "OrgRef": territory.OrgRef{},
		"Site": territory.Site{}, "Enrolment": territory.Enrolment{}, "Error": web.APIError{},
	} {
		schema := asMap(asMap(asMap(d.root["components"])["schemas"])[name])
		var documented []string
		for k := range asMap(schema["properties"]) {
			documented = append(documented, k)
		}
		sort.Strings(documented)
		if fields := jsonFields(reflect.TypeOf(v)); !slices.Equal(documented, fields) {
			t.Errorf("schema %s has properties %v; the Go type sends %v", name, documented, fields)
		}
	}

	// The application serves this very document.
	r := s.do(t, request{Path: "/api/v1/openapi.json"})
	if r.Status != http.StatusOK || !bytes.Equal(r.Body, d.raw) {
		t.Errorf("GET /api/v1/openapi.json: %d, %d bytes; want 200 and the file (%d bytes)", r.Status, len(r.Body), len(d.raw))
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("openapi.json served as %q", ct)
	}
}

// The validator must itself catch what it is there to catch; otherwise
// every "matches the document" above would pass vacuously.
func TestOpenAPIValidatorCatchesDrift(t *testing.T) {
	t.Parallel()
	d := loadAPIDoc(t)
	ref := func(name string) map[string]any { return map[string]any{"$ref": "#/components/schemas/" + name} }
	decode := func(s string) any {
		dec := json.NewDecoder(strings.NewReader(s))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	cases := []struct {
		schema, body string
		ok           bool
	}{
		{"Error", `{"code":"not_found","message":"Établissement introuvable."}`, true},
		{"Error", `{"code":"not_found"}`, false},                                        // message missing
		{"Error", `{"code":404,"message":"x"}`, false},                                  // code is a string
		{"Error", `{"code":"not_found","message":"x","stack":"..."}`, false},            // undocumented property
		{"Error", `{"code":"invalid_filter","message":"x","fields":{"type":1}}`, false}, // fields are strings
		{"OrgRef", `{"id":1,"kind":"commune","code":"35238","name":"Rennes"}`, true},
		{"OrgRef", `{"id":1.5,"kind":"commune","code":"35238","name":"Rennes"}`, false},
		{"OrgRef", `{"id":1,"kind":"planet","code":"x","name":"y"}`, false},
		{"EstablishmentDetail", `{"id":1,"uai":"0350001A","name":"n","type":"ecole","sector":"public","priority":"","status":"open","enrolments":[]}`, true},
		{"EstablishmentDetail", `{"id":1,"uai":"0350001A","name":"n","type":"ecole","sector":"public","priority":"","status":"open"}`, false},
		{"EstablishmentDetail", `{"id":1,"uai":"350001A","name":"n","type":"ecole","sector":"public","priority":"","status":"open","enrolments":[]}`, false},
		{"LoginResponse", `{"token":"socle_x","expires_at":"2026-01-02T03:04:05Z"}`, true},
		{"LoginResponse", `{"token":"x","expires_at":"demain"}`, false},
	}
	for _, c := range cases {
		errs := d.validate(ref(c.schema), decode(c.body), "body")
		if (len(errs) == 0) != c.ok {
			t.Errorf("%s %s: valid=%v, errors %v", c.schema, c.body, len(errs) == 0, errs)
		}
	}
}
