package governance

import (
	"bytes"
	"compress/zlib"
	"encoding/csv"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/charmap"

	"socle/internal/platform/auth"
	"socle/internal/platform/ical"
	"socle/internal/platform/web"
)

// pdfText returns the page content of a PDF, its compressed streams
// inflated, decoded from cp1252 (the encoding of the core fonts).
func pdfText(t *testing.T, pdf []byte) string {
	t.Helper()
	var out bytes.Buffer
	rest := pdf
	for {
		i := bytes.Index(rest, []byte("stream\n"))
		if i < 0 {
			break
		}
		rest = rest[i+len("stream\n"):]
		j := bytes.Index(rest, []byte("endstream"))
		if j < 0 {
			break
		}
		if zr, err := zlib.NewReader(bytes.NewReader(rest[:j])); err == nil {
			b, _ := io.ReadAll(zr)
			out.Write(b)
		} else {
			out.Write(rest[:j])
		}
		rest = rest[j:]
	}
	s, err := charmap.Windows1252.NewDecoder().Bytes(out.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	return string(s)
}

// The committee file gathers indicators with their trend and target,
// projects to examine and decisions awaited, and the plan's "no data";
// its PDF is French, accents included.
func TestCommitteeFile(t *testing.T) {
	f := newFx(t)
	coord, strat := f.cycle()
	f.indicator("test.sla", Monthly, 90)
	f.indicator(SourceDeclared, Yearly, 40)
	waiting, err := f.svc.Propose(f.ctx, f.head1, Project{OrgID: f.academy, ProposerOrgID: f.school1, ProposerKind: ProposerSchool, Title: "Robots de téléprésence", CostCents: 90_000})
	f.must(err)
	mc := f.heldMeeting(coord, "Coordination")
	_, err = f.svc.RecordDecision(f.ctx, f.dane, mc.ID, Decision{Kind: DecisionProjectExamined, ProjectID: waiting.ID, Summary: "Avis favorable"})
	f.must(err)
	_, err = f.svc.Propose(f.ctx, f.head1, Project{OrgID: f.academy, ProposerOrgID: f.school1, ProposerKind: ProposerSchool, Title: "Imprimante 3D"})
	f.must(err)
	next, err := f.svc.CreateMeeting(f.ctx, f.dane, Meeting{BodyID: strat.ID, Title: "Comité stratégique de décembre", StartsAt: f.now.AddDate(0, 0, 20), Agenda: "Arbitrages"})
	f.must(err)
	d, err := f.svc.CommitteeFile(f.ctx, f.dane, next.ID)
	f.must(err)
	if len(d.Indicators) != 2 || len(d.Awaiting) != 1 || d.Awaiting[0].Title != "Robots de téléprésence" || len(d.ToExamine) != 1 {
		t.Fatalf("file: %d indicators, awaiting %+v, to examine %+v", len(d.Indicators), d.Awaiting, d.ToExamine)
	}
	var sla IndicatorView
	for _, v := range d.Indicators {
		if v.Source == "test.sla" {
			sla = v
		}
	}
	// Assembling the file measured the computed indicator.
	if sla.Latest == nil || sla.Latest.Value == nil || *sla.Latest.Value != 87.5 || sla.TargetMet == nil || *sla.TargetMet {
		t.Fatalf("sla in the file: %+v", sla.Latest)
	}
	if !strings.Contains(d.PlanUnavailable, "pas de données") {
		t.Fatalf("plan: %q", d.PlanUnavailable)
	}
	if _, err := f.svc.CommitteeFile(f.ctx, f.agent2, next.ID); problemCode(err) != "not_found" {
		t.Fatalf("file of another académie: %v", err)
	}
	svg := string(TrendSVG(sla))
	if !strings.Contains(svg, `role="img"`) || !strings.Contains(svg, "cible : 90 %") || !strings.Contains(svg, "2026-10 : 87,5 %") {
		t.Fatalf("trend chart: %s", svg)
	}
	var buf bytes.Buffer
	start := time.Now()
	f.must(WritePDF(&buf, d))
	if el := time.Since(start); el > 3*time.Second {
		t.Logf("PDF took %v", el) // the figure is a benchmark's; logged only
	}
	if !bytes.HasPrefix(buf.Bytes(), []byte("%PDF-")) {
		t.Fatal("not a PDF")
	}
	text := pdfText(t, buf.Bytes())
	for _, want := range []string{"Décisions attendues", "Robots de téléprésence", "Qualité de service par commune", "Délais tenus", "Le plan de déploiement n'est pas encore raccordé"} {
		if !strings.Contains(text, want) {
			t.Errorf("PDF text lacks %q", want)
		}
	}
	// The same file as a page, for the reader of the académie.
	rec := do(t, f.server(f.dane), "GET", "/gouvernance/seances/"+strconv.FormatInt(next.ID, 10)+"/dossier", "")
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "Robots de téléprésence") || !strings.Contains(rec.Body.String(), "<svg") {
		t.Fatalf("file page: %d %.300s", rec.Code, rec.Body)
	}
	rec = do(t, f.server(f.dane), "GET", "/gouvernance/seances/"+strconv.FormatInt(next.ID, 10)+"/dossier.pdf", "")
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "application/pdf" {
		t.Fatalf("file pdf: %d %s", rec.Code, rec.Header())
	}
}

// The calendar is RFC 5545: CRLF lines of at most 75 octets, escaped text,
// UTC times; an accented long summary is folded without splitting a
// character.
func TestICal(t *testing.T) {
	m := Meeting{ID: 7, BodyName: "Comité de coordination avec les collectivités", Title: "Séance d'automne ; arbitrages, budget et élèves",
		StartsAt: time.Date(2026, 10, 15, 8, 0, 0, 0, time.UTC), EndsAt: time.Date(2026, 10, 15, 10, 0, 0, 0, time.UTC),
		Place: "Rectorat", Agenda: "Point 1\nPoint 2"}
	var buf bytes.Buffer
	if err := ical.Write(&buf, meetingsCalendar(time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)), meetingEvents("socle", []Meeting{m})); err != nil {
		t.Fatal(err)
	}
	s := buf.String()
	for _, want := range []string{"BEGIN:VCALENDAR\r\n", "VERSION:2.0\r\n", "UID:meeting-7@socle\r\n", "DTSTART:20261015T080000Z\r\n",
		"DTEND:20261015T100000Z\r\n", "LOCATION:Rectorat\r\n", "END:VCALENDAR\r\n"} {
		if !strings.Contains(s, want) {
			t.Errorf("calendar lacks %q:\n%s", want, s)
		}
	}
	for _, line := range strings.Split(strings.TrimSuffix(s, "\r\n"), "\r\n") {
		if len(line) > 75 {
			t.Errorf("line of %d octets: %q", len(line), line)
		}
		if !utf8Valid(line) {
			t.Errorf("line splits a character: %q", line)
		}
	}
	unfolded := strings.ReplaceAll(s, "\r\n ", "")
	if !strings.Contains(unfolded, `SUMMARY:Comité de coordination avec les collectivités — Séance d'automne \; arbitrages\, budget et élèves`) ||
		!strings.Contains(unfolded, `DESCRIPTION:Ordre du jour :\nPoint 1\nPoint 2`) {
		t.Errorf("escaped text:\n%s", unfolded)
	}
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "\uFFFD") == s }

// The audience keeps no identifier: visitors are counted through a keyed
// hash of the day, then only counts remain; the open data masks small
// counts and needs no login.
func TestAudienceIsPseudonymous(t *testing.T) {
	f := newFx(t)
	rc := f.svc.Recorder()
	day1 := time.Date(2026, 10, 14, 9, 0, 0, 0, time.UTC)
	for _, h := range []Hit{
		{Service: "accueil", Profile: "eleve", UAI: "0350001A", UserID: 501, At: day1},
		{Service: "accueil", Profile: "eleve", UAI: "0350001A", UserID: 501, At: day1.Add(time.Hour)},
		{Service: "accueil", Profile: "eleve", UAI: "0350001A", UserID: 502, At: day1},
		{Service: "accueil", Profile: "eleve", UAI: "0350001A", UserID: 503, At: day1},
		{Service: "accueil", Profile: "enseignant", UAI: "0350001A", UserID: 601, At: day1},
	} {
		f.must(rc.Record(f.ctx, h))
	}
	// Counted in memory: nothing is written before a flush.
	var n int
	f.must(f.db.QueryRowContext(f.ctx, `SELECT COUNT(*) FROM gov_audience_today`).Scan(&n))
	if n != 0 {
		t.Fatalf("%d rows written before the flush", n)
	}
	f.must(rc.Flush(f.ctx))
	var visitor string
	f.must(f.db.QueryRowContext(f.ctx, `SELECT visitor FROM gov_audience_today WHERE profile = 'enseignant'`).Scan(&visitor))
	if _, err := hex.DecodeString(visitor); err != nil || len(visitor) != 24 || visitor == "601" {
		t.Fatalf("visitor is not a keyed hash: %q", visitor)
	}
	// The next day rolls the first up: counts stay, hashes and key go.
	f.must(rc.Record(f.ctx, Hit{Service: "accueil", Profile: "eleve", UAI: "0350001A", UserID: 501, At: day1.AddDate(0, 0, 1)}))
	var visits, visitors, leftover, keys int
	f.must(f.db.QueryRowContext(f.ctx, `SELECT visits, visitors FROM gov_audience_daily WHERE day = '2026-10-14' AND profile = 'eleve'`).Scan(&visits, &visitors))
	f.must(f.db.QueryRowContext(f.ctx, `SELECT COUNT(*) FROM gov_audience_today WHERE day = '2026-10-14'`).Scan(&leftover))
	f.must(f.db.QueryRowContext(f.ctx, `SELECT COUNT(*) FROM gov_audience_keys WHERE day = '2026-10-14'`).Scan(&keys))
	if visits != 4 || visitors != 3 || leftover != 0 || keys != 0 {
		t.Fatalf("rollup: %d visits %d visitors, %d rows and %d keys left", visits, visitors, leftover, keys)
	}
	f.must(rc.Flush(f.ctx))
	var other string
	f.must(f.db.QueryRowContext(f.ctx, `SELECT visitor FROM gov_audience_today WHERE day = '2026-10-15'`).Scan(&other))
	rc2 := f.svc.Recorder()
	f.must(rc2.Record(f.ctx, Hit{Service: "accueil", Profile: "enseignant", UAI: "0350001A", UserID: 601, At: day1.AddDate(0, 0, 1)}))
	rc2.Close()
	f.must(f.db.QueryRowContext(f.ctx, `SELECT COUNT(*) FROM gov_audience_today WHERE visitor = ?`, visitor).Scan(&n))
	if n != 0 {
		t.Fatal("the same person has the same pseudonym on another day")
	}
	// Open data: anonymous, small counts masked.
	rec := do(t, f.server(nil), "GET", "/donnees-ouvertes/audience.csv?debut=2026-10-01&fin=2026-10-31", "")
	if rec.Code != 200 {
		t.Fatalf("open data: %d %s", rec.Code, rec.Body)
	}
	r := csv.NewReader(strings.NewReader(rec.Body.String()))
	r.Comma = ';'
	rows, err := r.ReadAll()
	f.must(err)
	want := [][]string{{"jour", "uai", "service", "profil", "visites", "visiteurs_uniques"},
		{"2026-10-14", "0350001A", "accueil", "eleve", "4", "3"},
		{"2026-10-14", "0350001A", "accueil", "enseignant", "<3", "<3"}}
	if len(rows) != len(want) {
		t.Fatalf("open data rows: %v", rows)
	}
	for i := range want {
		if strings.Join(rows[i], "|") != strings.Join(want[i], "|") {
			t.Errorf("row %d: %v, want %v", i, rows[i], want[i])
		}
	}
	// The audience feeds the ENT indicators of the territory.
	v, err := f.svc.measureActive(f.ctx, f.academy, PeriodOf(Monthly, day1))
	f.must(err)
	if !v.OK || v.V != 50 {
		t.Fatalf("active establishments: %+v", v)
	}
	v, err = f.svc.measureVisits(f.ctx, f.academy2, PeriodOf(Monthly, day1))
	f.must(err)
	if v.OK || v.Reason == "" {
		t.Fatalf("visits of an académie without audience: %+v", v)
	}
}

// A transparency page is private until the collectivité publishes it; then
// anyone reads it without login.
func TestTransparency(t *testing.T) {
	f := newFx(t)
	path := "/transparence/" + strconv.FormatInt(f.commune, 10)
	if rec := do(t, f.server(nil), "GET", path, ""); rec.Code != 404 {
		t.Fatalf("private page anonymous: %d", rec.Code)
	}
	if err := f.svc.SetTransparency(f.ctx, f.agent2, f.commune, true); problemCode(err) != "not_found" {
		t.Fatalf("publish by another authority: %v", err)
	}
	f.must(f.svc.SetTransparency(f.ctx, f.communeAgent, f.commune, true))
	rec := do(t, f.server(nil), "GET", path, "")
	body := rec.Body.String()
	if rec.Code != 200 || !strings.Contains(body, "Transparence — Rennes") || !strings.Contains(body, "87,5 %") ||
		!strings.Contains(body, "Pas de données : aucune demande") {
		t.Fatalf("public page: %d %s", rec.Code, body)
	}
	// The measures are those of the commune's schools.
	if last := f.src.orgs[len(f.src.orgs)-1]; last != f.commune {
		t.Fatalf("measured on %d, want the commune", last)
	}
	if rec := do(t, f.server(nil), "GET", "/transparence/"+strconv.FormatInt(f.academy, 10), ""); rec.Code != 404 {
		t.Fatalf("an académie has no transparency page: %d", rec.Code)
	}
}

// The recorder counts the pages logged-in people see, at the school of
// their grant and under their profile; anonymous visits, API calls and
// errors are not audience.
func TestRecorderMiddleware(t *testing.T) {
	f := newFx(t)
	rc := f.svc.Recorder()
	page := rc.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/tickets/absent" {
			http.NotFound(w, r)
			return
		}
		_, _ = io.WriteString(w, "ok")
	}))
	for _, c := range []struct {
		p    *auth.Principal
		path string
	}{
		{f.teacher, "/tickets"}, {f.teacher, "/tickets"}, {f.head1, "/"}, {nil, "/"}, {f.teacher, "/api/v1/tickets"},
		{f.teacher, "/tickets/absent"}, {f.teacher, "/static/socle.css"},
	} {
		req := httptest.NewRequest("GET", c.path, nil)
		req = req.WithContext(web.WithPrincipal(req.Context(), c.p))
		page.ServeHTTP(httptest.NewRecorder(), req)
	}
	f.must(rc.Flush(f.ctx))
	rows, err := f.db.QueryContext(f.ctx, `SELECT service, profile, uai, hits FROM gov_audience_today ORDER BY service`)
	f.must(err)
	defer rows.Close()
	var got []string
	for rows.Next() {
		var svc, prof, uai string
		var hits int
		f.must(rows.Scan(&svc, &prof, &uai, &hits))
		got = append(got, svc+"/"+prof+"/"+uai+"/"+strconv.Itoa(hits))
	}
	want := []string{"accueil/direction/0350001A/1", "assistance/enseignant/0350001A/2"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("audience rows %v, want %v", got, want)
	}
}
