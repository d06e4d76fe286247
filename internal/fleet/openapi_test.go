package fleet

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"
)

// The OpenAPI fragment the lead merges must describe every API route this
// package mounts, with every schema it references.
func TestOpenAPIFragmentCoversRoutes(t *testing.T) {
	raw, err := os.ReadFile("openapi_fragment.json")
	if err != nil {
		t.Fatal(err)
	}
	var spec struct {
		Paths      map[string]map[string]json.RawMessage `json:"paths"`
		Components struct {
			Schemas map[string]json.RawMessage `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(raw, &spec); err != nil {
		t.Fatalf("fragment is not JSON: %v", err)
	}
	src, err := os.ReadFile("api.go")
	if err != nil {
		t.Fatal(err)
	}
	routes := regexp.MustCompile(`r\.Handle\("(\w+) (/api/[^"]+)"`).FindAllStringSubmatch(string(src), -1)
	if len(routes) < 7 {
		t.Fatalf("found %d routes in api.go, the pattern is broken", len(routes))
	}
	for _, m := range routes {
		if _, ok := spec.Paths[m[2]][strings.ToLower(m[1])]; !ok {
			t.Errorf("%s %s is not in openapi_fragment.json", m[1], m[2])
		}
	}
	for _, m := range regexp.MustCompile(`"#/components/schemas/(\w+)"`).FindAllStringSubmatch(string(raw), -1) {
		if _, ok := spec.Components.Schemas[m[1]]; !ok {
			t.Errorf("schema %s is referenced but not defined", m[1])
		}
	}
}
