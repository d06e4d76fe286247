package notify

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// Nobody reads or changes another person's timeline: their notification
// answers 404 as if it did not exist, lists never carry it, and anonymous
// callers get 401.
func TestScope(t *testing.T) {
	f := newFx(t)
	srv := f.server()
	f.notify(Notification{Type: "share", Title: "Secret d'Alice", Link: "/documents/fichiers/7"}, f.alice)
	f.notify(Notification{Type: "share", Title: "Pour Bruno"}, f.bruno)
	status, body := call(t, srv, f.alice, "GET", "/api/v1/notifications", "")
	var pg Page
	if status != 200 || json.Unmarshal([]byte(body), &pg) != nil || len(pg.Items) != 1 || pg.Unread != 1 {
		t.Fatalf("Alice's list: %d %s", status, body)
	}
	id := strconv.FormatInt(pg.Items[0].ID, 10)
	for _, c := range []struct {
		method, path, body string
		want               int
	}{
		{"GET", "/api/v1/notifications/" + id, "", 404},
		{"POST", "/api/v1/notifications/" + id + "/read", "", 404},
		{"POST", "/notifications/" + id + "/lu", "", 404},
	} {
		if st, b := call(t, srv, f.bruno, c.method, c.path, c.body); st != c.want {
			t.Errorf("%s %s as Bruno: %d, want %d: %s", c.method, c.path, st, c.want, b)
		}
	}
	for _, path := range []string{"/api/v1/notifications", "/api/v1/notifications?limit=100", "/notifications"} {
		st, b := call(t, srv, f.bruno, "GET", path, "")
		if st != 200 || strings.Contains(b, "Secret d") || !strings.Contains(b, "Pour Bruno") {
			t.Errorf("GET %s as Bruno: %d, leaks or misses: %s", path, st, b)
		}
	}
	// Bruno marking all read does not touch Alice's.
	if st, b := call(t, srv, f.bruno, "POST", "/api/v1/notifications/read-all", ""); st != 200 || !strings.Contains(b, `"marked":1`) {
		t.Errorf("Bruno read-all: %d %s", st, b)
	}
	if st, b := call(t, srv, f.alice, "GET", "/api/v1/notifications/unread-count", ""); st != 200 || !strings.Contains(b, `"unread":1`) {
		t.Errorf("Alice's unread count: %d %s", st, b)
	}
	// Alice herself reads it.
	if st, b := call(t, srv, f.alice, "GET", "/api/v1/notifications/"+id, ""); st != 200 || !strings.Contains(b, "Secret d") {
		t.Errorf("Alice's own notification: %d %s", st, b)
	}
	if st, b := call(t, srv, f.alice, "POST", "/api/v1/notifications/"+id+"/read", ""); st != 200 || !strings.Contains(b, `"read_at"`) {
		t.Errorf("Alice marks read: %d %s", st, b)
	}
	for _, path := range []string{"/api/v1/notifications", "/api/v1/notifications/" + id, "/api/v1/notifications/unread-count",
		"/api/v1/notifications/preferences"} {
		if st, _ := call(t, srv, person{}, "GET", path, ""); st != http.StatusUnauthorized {
			t.Errorf("GET %s anonymous: %d, want 401", path, st)
		}
	}
}

func TestAPI(t *testing.T) {
	f := newFx(t)
	srv := f.server()
	for i := 0; i < 5; i++ {
		f.notify(Notification{Type: "comment", Title: "Commentaire " + strconv.Itoa(i)}, f.alice)
	}
	st, body := call(t, srv, f.alice, "GET", "/api/v1/notifications?limit=2", "")
	var pg Page
	if st != 200 || json.Unmarshal([]byte(body), &pg) != nil || len(pg.Items) != 2 || pg.NextCursor == "" || pg.Unread != 5 {
		t.Fatalf("page 1: %d %s", st, body)
	}
	st, body = call(t, srv, f.alice, "GET", "/api/v1/notifications?limit=2&cursor="+pg.NextCursor, "")
	var pg2 Page
	if st != 200 || json.Unmarshal([]byte(body), &pg2) != nil || len(pg2.Items) != 2 || pg2.Items[0].ID >= pg.Items[1].ID {
		t.Fatalf("page 2: %d %s", st, body)
	}
	for _, q := range []string{"limit=0", "limit=101", "cursor=x"} {
		if st, b := call(t, srv, f.alice, "GET", "/api/v1/notifications?"+q, ""); st != 400 || !strings.Contains(b, "invalid_parameter") {
			t.Errorf("%s: %d %s", q, st, b)
		}
	}
	st, body = call(t, srv, f.alice, "PUT", "/api/v1/notifications/preferences", `{"quiet_hours":false,"types":{"comment":"weekly"}}`)
	if st != 200 || !strings.Contains(body, `"quiet_hours":false`) || !strings.Contains(body, `"type":"comment","label":"Nouveau commentaire","frequency":"weekly","default":"daily"`) {
		t.Errorf("put preferences: %d %s", st, body)
	}
	if st, b := call(t, srv, f.alice, "PUT", "/api/v1/notifications/preferences", `{"types":{"comment":"often"}}`); st != 400 || !strings.Contains(b, "invalid_frequency") {
		t.Errorf("bad frequency: %d %s", st, b)
	}
	// The page.
	st, body = call(t, srv, f.alice, "GET", "/notifications", "")
	if st != 200 || !strings.Contains(body, "<h1>Notifications</h1>") || !strings.Contains(body, "5 notification(s) non lue(s)") {
		t.Errorf("page: %d %s", st, body)
	}
	if st, b := call(t, srv, f.alice, "GET", "/notifications/preferences", ""); st != 200 || !strings.Contains(b, `<option value="weekly" selected>`) {
		t.Errorf("preferences page: %d %s", st, b)
	}
}
