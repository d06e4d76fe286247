package portal

import (
	"context"
	"net/http/httptest"
	"slices"
	"testing"

	"socle/internal/platform/auth"
)

// askedTimeline and askedDirectory record whom the home page asked about.
type askedTimeline struct{ asked []int64 }

func (t *askedTimeline) Latest(_ context.Context, p *auth.Principal, n int) (TimelineSummary, error) {
	t.asked = append(t.asked, p.User.ID)
	return TimelineSummary{Items: []Notice{{ID: 1, Title: "à moi", Unread: true}}, Unread: 1}, nil
}

type askedDirectory struct{ groups, children []int64 }

func (d *askedDirectory) GroupsOf(_ context.Context, p *auth.Principal) ([]GroupLink, error) {
	d.groups = append(d.groups, p.User.ID)
	return []GroupLink{{ID: 3, Name: "6e B", Class: true, EstablishmentID: 10}, {ID: 4, Name: "Club échecs"}}, nil
}

func (d *askedDirectory) ChildrenOf(_ context.Context, p *auth.Principal) ([]ChildLink, error) {
	d.children = append(d.children, p.User.ID)
	return []ChildLink{{Name: "Tom"}}, nil
}

func pathsOf(apps []App) []string {
	var out []string
	for _, a := range apps {
		out = append(out, a.Path)
	}
	return out
}

func TestAppsFollowRolesAndRoutes(t *testing.T) {
	mounted := []string{"GET /documents", "GET /notifications", "GET /personnes", "GET /tickets", "POST /productions", "GET /mes-donnees"}
	h := NewHandler(nil, nil, nil, nil, WithRoutes(func() []string { return mounted }))
	pupil := &auth.Principal{User: auth.User{ID: 7}, Grants: []auth.Grant{{Role: auth.RolePupil, OrgID: 10}}}
	teacher := &auth.Principal{User: auth.User{ID: 8}, Grants: []auth.Grant{{Role: auth.RoleTeacher, OrgID: 10}}}
	agent := &auth.Principal{User: auth.User{ID: 9}, Grants: []auth.Grant{{Role: auth.RoleAuthorityAgent, OrgID: 2}}}
	cases := []struct {
		name string
		p    *auth.Principal
		want []string
	}{
		// No GET /productions nor /travaux mounted: no link to them.
		{"pupil", pupil, []string{"/documents", "/notifications", "/personnes", "/mes-donnees"}},
		{"teacher", teacher, []string{"/documents", "/notifications", "/personnes", "/tickets", "/mes-donnees"}},
		{"collectivité agent", agent, []string{"/notifications", "/tickets", "/mes-donnees"}},
	}
	for _, c := range cases {
		if got := pathsOf(h.apps(c.p)); !slices.Equal(got, c.want) {
			t.Errorf("%s: apps %v, want %v", c.name, got, c.want)
		}
	}
	mounted = append(mounted, "GET /productions")
	h = NewHandler(nil, nil, nil, nil, WithRoutes(func() []string { return mounted }))
	if got := pathsOf(h.apps(pupil)); !slices.Contains(got, "/productions") {
		t.Errorf("productions mounted, apps %v", got)
	}
}

func TestENTHomeAsksOnlyAboutTheCaller(t *testing.T) {
	tl, dir := &askedTimeline{}, &askedDirectory{}
	h := NewHandler(nil, nil, nil, nil, WithTimeline(tl), WithDirectory(dir))
	r := httptest.NewRequest("GET", "/", nil)
	parent := &auth.Principal{User: auth.User{ID: 42}, Grants: []auth.Grant{{Role: auth.RoleParent, OrgID: 10}}}
	var d homeData
	if err := h.entHome(r, parent, &d); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(tl.asked, []int64{42}) || !slices.Equal(dir.groups, []int64{42}) || !slices.Equal(dir.children, []int64{42}) {
		t.Fatalf("asked timeline %v, groups %v, children %v: want only 42", tl.asked, dir.groups, dir.children)
	}
	if d.Timeline == nil || d.Timeline.Unread != 1 || len(d.Classes) != 1 || d.Classes[0].Name != "6e B" ||
		len(d.Groups) != 1 || len(d.Children) != 1 || d.Children[0].Name != "Tom" {
		t.Fatalf("home data: %+v", d)
	}
	// Someone who is no parent: the children are not even asked for.
	pupil := &auth.Principal{User: auth.User{ID: 43}, Grants: []auth.Grant{{Role: auth.RolePupil, OrgID: 10}}}
	d = homeData{}
	if err := h.entHome(r, pupil, &d); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(dir.children, []int64{42}) || d.Children != nil {
		t.Fatalf("children asked for a pupil: %v %+v", dir.children, d.Children)
	}
}
