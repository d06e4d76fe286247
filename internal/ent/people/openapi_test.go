package people

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"io"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"socle/internal/platform/csvimport"
)

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

// The fragment's schemas list exactly the fields the Go types send or
// read, so that the documentation cannot fall behind the code.
func TestOpenAPISchemasMatchGoTypes(t *testing.T) {
	var doc struct {
		Components struct {
			Schemas map[string]map[string]any `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(OpenAPI(), &doc); err != nil {
		t.Fatal(err)
	}
	var props func(s map[string]any) []string
	props = func(s map[string]any) []string {
		var out []string
		if all, ok := s["allOf"].([]any); ok {
			for _, part := range all {
				m := part.(map[string]any)
				if ref, ok := m["$ref"].(string); ok {
					out = append(out, props(doc.Components.Schemas[strings.TrimPrefix(ref, "#/components/schemas/")])...)
					continue
				}
				for k := range m["properties"].(map[string]any) {
					out = append(out, k)
				}
			}
		}
		for k := range asMap(s["properties"]) {
			out = append(out, k)
		}
		sort.Strings(out)
		return out
	}
	item := func(s map[string]any, field string) map[string]any {
		return asMap(asMap(asMap(s["properties"])[field])["items"])
	}
	sc := doc.Components.Schemas
	for _, c := range []struct {
		name   string
		schema map[string]any
		v      any
	}{
		{"DirectoryPerson", sc["DirectoryPerson"], Person{}},
		{"DirectoryPersonDetail", sc["DirectoryPersonDetail"], PersonDetail{}},
		{"DirectoryMembership", sc["DirectoryMembership"], Membership{}},
		{"DirectoryGroup", sc["DirectoryGroup"], Group{}},
		{"DirectoryGroupDetail", sc["DirectoryGroupDetail"], GroupDetail{}},
		{"DirectoryGroupMember", sc["DirectoryGroupMember"], Member{}},
		{"DirectoryNewPerson", sc["DirectoryNewPerson"], NewPerson{}},
		{"DirectoryNewGroup", sc["DirectoryNewGroup"], NewGroup{}},
		{"DirectoryMembersInput", sc["DirectoryMembersInput"], MembersInput{}},
		{"ParentLinkInput", sc["ParentLinkInput"], ParentLinkInput{}},
		{"RolloverInput", sc["RolloverInput"], RolloverInput{}},
		{"DecisionInput", sc["DecisionInput"], DecisionInput{}},
		{"RulesInput", sc["RulesInput"], RulesInput{}},
		{"FeedReport", sc["FeedReport"], csvimport.Report{}},
		{"FeedReport.rejected", item(sc["FeedReport"], "rejected"), csvimport.Rejection{}},
		{"FeedReport.notes", item(sc["FeedReport"], "notes"), csvimport.Note{}},
		{"RolloverPlan", sc["RolloverPlan"], RolloverPlan{}},
		{"RolloverPlan.archive", item(sc["RolloverPlan"], "archive"), RolloverGroup{}},
		{"RolloverPlan.leaving", item(sc["RolloverPlan"], "leaving"), Leaver{}},
		{"Leaver.expected_colleges", item(item(sc["RolloverPlan"], "leaving"), "expected_colleges"), School{}},
		{"PendingMatch", sc["PendingMatch"], PendingMatch{}},
		{"CommunicationRule", sc["CommunicationRule"], RuleSetting{}},
	} {
		if c.schema == nil {
			t.Errorf("schema %s is missing", c.name)
			continue
		}
		if got, want := props(c.schema), jsonFields(reflect.TypeOf(c.v)); !slices.Equal(got, want) {
			t.Errorf("schema %s has %v; the Go type has %v", c.name, got, want)
		}
	}
}

func asMap(v any) map[string]any { m, _ := v.(map[string]any); return m }

// The directory's part of a person's data export, and its erasure.
func TestExportAndErasePerson(t *testing.T) {
	f := newFx(t)
	f.feed(uaiEcole, "2025-2026", ecoleFeed, false)
	lea := f.userByINE("1234567890A")
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	if err := f.svc.ExportPerson(f.ctx, lea, zw); err != nil {
		t.Fatal(err)
	}
	zw.Close()
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil || len(zr.File) != 1 || zr.File[0].Name != "annuaire.json" {
		t.Fatalf("export %v %v", zr, err)
	}
	rc, _ := zr.File[0].Open()
	body, _ := io.ReadAll(rc)
	for _, want := range []string{"1234567890A", "CM2 A", "Gwenaëlle", "École des Tilleuls"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("export lacks %q: %s", want, body)
		}
	}
	if err := f.svc.ErasePerson(f.ctx, lea); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`SELECT COUNT(*) FROM people WHERE user_id = ?`, `SELECT COUNT(*) FROM group_members WHERE user_id = ?`,
		`SELECT COUNT(*) FROM parent_links WHERE child_id = ?`, `SELECT COUNT(*) FROM grants WHERE user_id = ?`,
		`SELECT COUNT(*) FROM establishment_members WHERE user_id = ?`} {
		if n := f.count(q, lea); n != 0 {
			t.Errorf("%s = %d after erasure", q, n)
		}
	}
	if f.svc.Name() != "people" {
		t.Errorf("contributor name %q", f.svc.Name())
	}
}
