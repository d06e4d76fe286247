package app

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"slices"

	"socle/internal/catalog"
	"socle/internal/ent/notify"
	"socle/internal/ent/people"
	"socle/internal/ent/privacy"
	"socle/internal/ent/production"
	"socle/internal/ent/space"
	"socle/internal/ent/sso"
	"socle/internal/fleet"
	"socle/internal/governance"
	"socle/internal/helpdesk"
	"socle/internal/planning"
	assets "socle/web"
)

// apiFragment is one domain's part of the API description.
type apiFragment struct {
	name string
	doc  []byte
}

// apiFragments lists the domains that document their own routes, so that
// a domain's routes and their description change together.
func apiFragments() []apiFragment {
	return []apiFragment{
		{"catalog", catalog.OpenAPI()},
		{"helpdesk", helpdesk.OpenAPI()},
		{"sso", sso.OpenAPI()},
		{"space", space.OpenAPI()},
		{"fleet", fleet.OpenAPI()},
		{"helpdesk-imac", helpdesk.IMACOpenAPI()},
		{"people", people.OpenAPI()},
		// wire:people openapi
		{"notify", notify.OpenAPI()},
		{"privacy", privacy.OpenAPI()},
		// wire:notify openapi
		{"production", production.OpenAPI()},
		// wire:production openapi
		{"planning", planning.OpenAPI()},
		// wire:planning openapi
		{"governance", governance.OpenAPI()},
		// wire:governance openapi
	}
}

// OpenAPIDocument assembles /api/v1/openapi.json: the platform's document
// (authentication, territory, shared schemas and tags) and every domain's
// fragment. A path documented twice, or two different schemas under one
// name, is an error: the tests build the document, so it never reaches a
// client.
func OpenAPIDocument() ([]byte, error) {
	raw, err := fs.ReadFile(assets.Static(), "openapi.json")
	if err != nil {
		return nil, err
	}
	var doc map[string]any
	if err := decodeJSON(raw, &doc); err != nil {
		return nil, fmt.Errorf("openapi.json: %w", err)
	}
	paths, _ := doc["paths"].(map[string]any)
	components, _ := doc["components"].(map[string]any)
	schemas, _ := components["schemas"].(map[string]any)
	if paths == nil || schemas == nil {
		return nil, fmt.Errorf("openapi.json: no paths or schemas")
	}
	for _, f := range apiFragments() {
		var frag struct {
			Tags       []map[string]any `json:"tags"`
			Paths      map[string]any   `json:"paths"`
			Components struct {
				Schemas map[string]any `json:"schemas"`
			} `json:"components"`
		}
		if err := decodeJSON(f.doc, &frag); err != nil {
			return nil, fmt.Errorf("openapi fragment of %s: %w", f.name, err)
		}
		// A domain declares the tags its operations use; a tag declared
		// twice (by the base or another domain) is kept once.
		tags, _ := doc["tags"].([]any)
		for _, tg := range frag.Tags {
			if !slices.ContainsFunc(tags, func(x any) bool { m, _ := x.(map[string]any); return m["name"] == tg["name"] }) {
				tags = append(tags, tg)
			}
		}
		doc["tags"] = tags
		for p, item := range frag.Paths {
			if _, dup := paths[p]; dup {
				return nil, fmt.Errorf("openapi fragment of %s: path %s is documented twice", f.name, p)
			}
			paths[p] = item
		}
		for name, s := range frag.Components.Schemas {
			if old, dup := schemas[name]; dup {
				// A fragment may repeat a shared schema (Error) to stay
				// checkable on its own; the first definition wins, and
				// the two must describe the same fields.
				if !sameProperties(old, s) {
					return nil, fmt.Errorf("openapi fragment of %s: schema %s has other fields than the one already defined", f.name, name)
				}
				continue
			}
			schemas[name] = s
		}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// sameProperties reports whether two object schemas name the same fields.
func sameProperties(a, b any) bool {
	keys := func(s any) []string {
		m, _ := s.(map[string]any)
		props, _ := m["properties"].(map[string]any)
		out := make([]string, 0, len(props))
		for k := range props {
			out = append(out, k)
		}
		slices.Sort(out)
		return out
	}
	return slices.Equal(keys(a), keys(b))
}

func decodeJSON(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	return dec.Decode(v)
}
