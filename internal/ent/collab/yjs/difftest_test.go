package yjs

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf16"
)

// The differential tests run the real yjs (pinned in difftest/package.json)
// through difftest/session.mjs and check that this package reads, merges,
// diffs and produces updates exactly as yjs does.

const difftestDir = "difftest"

// nodePeer is one long-lived `node session.mjs` process.
type nodePeer struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Reader
}

func startNode(t testing.TB) *nodePeer {
	t.Helper()
	msg := "yjs differential tests need the node dependencies: run `npm ci` in internal/ent/collab/yjs/difftest"
	if _, err := os.Stat(filepath.Join(difftestDir, "node_modules", "yjs", "package.json")); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	if _, err := exec.LookPath("node"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("node is not installed: " + msg)
		}
		t.Skip("node is not installed")
	}
	cmd := exec.Command("node", "session.mjs")
	cmd.Dir = difftestDir
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &nodePeer{cmd: cmd, in: in, out: bufio.NewReaderSize(out, 1<<20)}
	t.Cleanup(func() {
		in.Close()
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
		}
	})
	return p
}

func (p *nodePeer) call(t testing.TB, req any, resp any) {
	t.Helper()
	b, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.in.Write(append(b, '\n')); err != nil {
		t.Fatalf("write to node: %v", err)
	}
	line, err := p.out.ReadBytes('\n')
	if err != nil {
		t.Fatalf("read from node: %v", err)
	}
	var e struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(line, &e) == nil && e.Error != "" {
		t.Fatalf("node: %s", e.Error)
	}
	if err := json.Unmarshal(line, resp); err != nil {
		t.Fatalf("decode node answer: %v", err)
	}
}

type nodeSession struct {
	Seed          int               `json:"seed"`
	Clients       []uint64          `json:"clients"`
	Updates       []string          `json:"updates"`
	Order         []int             `json:"order"`
	Content       json.RawMessage   `json:"content"`
	SV            map[string]uint64 `json:"sv"`
	StateAsUpdate string            `json:"stateAsUpdate"`
	Merged        string            `json:"merged"`
	MidState      string            `json:"midState"`
	MidSV         string            `json:"midSV"`
	Diff          string            `json:"diff"`
}

type nodeApply struct {
	Content       json.RawMessage   `json:"content"`
	SV            map[string]uint64 `json:"sv"`
	Pending       bool              `json:"pending"`
	StateAsUpdate string            `json:"stateAsUpdate"`
}

func (p *nodePeer) apply(t testing.TB, updates ...[]byte) nodeApply {
	t.Helper()
	enc := make([]string, len(updates))
	for i, u := range updates {
		enc[i] = base64.StdEncoding.EncodeToString(u)
	}
	var res nodeApply
	p.call(t, map[string]any{"op": "apply", "updates": enc}, &res)
	return res
}

func unb64(t testing.TB, s string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// ---------- canonical dump, mirroring dumpDoc in session.mjs ----------

func dumpDocJSON(d *Doc) any {
	dump := map[string]any{
		"text":  dumpValue(d.GetText("text")),
		"map":   dumpValue(d.GetMap("map")),
		"array": dumpValue(d.GetArray("array")),
		"xml":   dumpValue(d.GetXMLFragment("xml")),
		"strings": map[string]any{
			"text": d.GetText("text").String(),
			"xml":  d.GetXMLFragment("xml").String(),
		},
	}
	return normalizeJSON(dump)
}

func normalizeJSON(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		panic(err)
	}
	return out
}

func dumpAttrs(m map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		out[k] = dumpValue(v)
	}
	return out
}

func dumpDelta(ds []Delta) []any {
	out := []any{}
	for _, d := range ds {
		attrs := d.Attributes
		if attrs == nil {
			attrs = map[string]any{}
		}
		if s, ok := d.Insert.(string); ok {
			out = append(out, map[string]any{"insert": s, "attributes": attrs})
		} else {
			out = append(out, map[string]any{"insert": dumpValue(d.Insert), "attributes": attrs})
		}
	}
	return out
}

func dumpList(vals []any) []any {
	out := make([]any, len(vals))
	for i, v := range vals {
		out[i] = dumpValue(v)
	}
	return out
}

func dumpValue(v any) any {
	switch x := v.(type) {
	case *Text:
		return map[string]any{"text": dumpDelta(x.Delta()), "attrs": dumpAttrs(x.Attributes())}
	case *XMLText:
		return map[string]any{"xmltext": dumpDelta(x.Delta()), "attrs": dumpAttrs(x.Attributes())}
	case *XMLElement:
		return map[string]any{"element": x.NodeName(), "attrs": dumpAttrs(x.Attributes()), "children": dumpList(x.Children())}
	case *XMLFragment:
		return map[string]any{"fragment": dumpList(x.Children())}
	case *XMLHook:
		return map[string]any{"hook": x.Name(), "entries": dumpAttrs(x.Entries())}
	case *Map:
		return map[string]any{"map": dumpAttrs(x.Entries())}
	case *Array:
		return map[string]any{"array": dumpList(x.ToSlice())}
	case []byte:
		return map[string]any{"bin": base64.StdEncoding.EncodeToString(x)}
	case SubDoc:
		return map[string]any{"subdoc": x.GUID}
	case Undefined:
		return map[string]any{"undef": true}
	}
	return map[string]any{"v": v}
}

func svStrings(sv StateVector) map[string]uint64 {
	out := map[string]uint64{}
	for c, clock := range sv {
		out[strconv.FormatUint(c, 10)] = clock
	}
	return out
}

func rawToAny(t testing.TB, raw json.RawMessage) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func sameContent(t testing.TB, what string, want json.RawMessage, got any) bool {
	t.Helper()
	w := rawToAny(t, want)
	if reflect.DeepEqual(w, got) {
		return true
	}
	path, wv, gv := firstDiff("", w, got)
	wb, _ := json.Marshal(wv)
	gb, _ := json.Marshal(gv)
	t.Errorf("%s: content differs at %s\nyjs: %s\ngo:  %s", what, path, truncate(string(wb)), truncate(string(gb)))
	return false
}

// firstDiff locates the first difference between two decoded JSON values.
func firstDiff(path string, a, b any) (string, any, any) {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok {
			return path, a, b
		}
		for k, v := range x {
			if !reflect.DeepEqual(v, y[k]) {
				return firstDiff(path+"."+k, v, y[k])
			}
		}
		for k := range y {
			if _, ok := x[k]; !ok {
				return path + "." + k, nil, y[k]
			}
		}
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return path, a, b
		}
		for i := range x {
			if !reflect.DeepEqual(x[i], y[i]) {
				return firstDiff(fmt.Sprintf("%s[%d]", path, i), x[i], y[i])
			}
		}
	}
	return path, a, b
}

func truncate(s string) string {
	if len(s) > 3000 {
		return s[:3000] + "…"
	}
	return s
}

func difftestSessions(t *testing.T) int {
	if s := os.Getenv("YJS_DIFFTEST_SESSIONS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if testing.Short() {
		return 20
	}
	return 200
}

// goClient is a client id no yjs session uses (they draw 31-bit ids).
const goClient = 1 << 40

func TestDifferentialAgainstYjs(t *testing.T) {
	node := startNode(t)
	n := difftestSessions(t)
	var stats struct{ mergeBytesEqual, diffBytesEqual, stateBytesEqual, passed int }
	for seed := 1; seed <= n; seed++ {
		var s nodeSession
		node.call(t, map[string]any{"op": "session", "seed": seed}, &s)
		ok := t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			runSession(t, node, &s, &stats.mergeBytesEqual, &stats.diffBytesEqual, &stats.stateBytesEqual)
		})
		if ok {
			stats.passed++
		}
	}
	t.Logf("%d/%d sessions passed; byte-identical to yjs: MergeUpdates %d, DiffUpdate %d, EncodeStateAsUpdate %d",
		stats.passed, n, stats.mergeBytesEqual, stats.diffBytesEqual, stats.stateBytesEqual)
}

func runSession(t *testing.T, node *nodePeer, s *nodeSession, mergeEq, diffEq, stateEq *int) {
	updates := make([][]byte, len(s.Updates))
	for i, u := range s.Updates {
		updates[i] = unb64(t, u)
	}

	// 1. Same updates, shuffled and duplicated: same content and state.
	doc := NewDoc(WithClientID(goClient))
	for _, i := range s.Order {
		if err := doc.ApplyUpdate(updates[i]); err != nil {
			t.Fatalf("apply update %d: %v", i, err)
		}
	}
	if doc.HasPending() {
		t.Errorf("pending content left after all updates: missing %v", doc.PendingMissing())
	}
	if !sameContent(t, "shuffled apply", s.Content, dumpDocJSON(doc)) {
		return
	}
	if got := svStrings(doc.StateVector()); !reflect.DeepEqual(got, s.SV) {
		t.Errorf("state vector: yjs %v, go %v", s.SV, got)
	}

	// 2. Go's full state as update, applied by yjs.
	full, err := doc.EncodeStateAsUpdate(nil)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(full, unb64(t, s.StateAsUpdate)) {
		// Not asserted: struct boundaries depend on the order in which
		// updates were integrated, which differs from the yjs client's.
		*stateEq++
	}
	res := node.apply(t, full)
	sameContent(t, "yjs applying Go EncodeStateAsUpdate", s.Content, rawToAny(t, res.Content))
	if !reflect.DeepEqual(res.SV, s.SV) {
		t.Errorf("yjs applying Go state: sv %v, want %v", res.SV, s.SV)
	}

	// 3. yjs's state as update, applied by Go in one go.
	d2 := NewDoc(WithClientID(goClient))
	if err := d2.ApplyUpdate(unb64(t, s.StateAsUpdate)); err != nil {
		t.Fatal(err)
	}
	sameContent(t, "Go applying yjs encodeStateAsUpdate", s.Content, dumpDocJSON(d2))

	// 4. MergeUpdates: Go's merge applied by yjs and by Go; yjs's merge by Go.
	merged, err := MergeUpdates(updates...)
	if err != nil {
		t.Fatal(err)
	}
	nodeMerged := unb64(t, s.Merged)
	if bytes.Equal(merged, nodeMerged) {
		*mergeEq++
	} else {
		t.Errorf("MergeUpdates differs from Y.mergeUpdates:\nyjs %x\ngo  %x", nodeMerged, merged)
	}
	res = node.apply(t, merged)
	sameContent(t, "yjs applying Go MergeUpdates", s.Content, rawToAny(t, res.Content))
	d3 := NewDoc(WithClientID(goClient))
	if err := d3.ApplyUpdate(nodeMerged); err != nil {
		t.Fatal(err)
	}
	sameContent(t, "Go applying Y.mergeUpdates", s.Content, dumpDocJSON(d3))

	// 5. DiffUpdate against an intermediate state vector.
	midState, midSV := unb64(t, s.MidState), unb64(t, s.MidSV)
	diff, err := DiffUpdate(nodeMerged, midSV)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(diff, unb64(t, s.Diff)) {
		*diffEq++
	} else {
		t.Errorf("DiffUpdate differs from Y.diffUpdate:\nyjs %x\ngo  %x", unb64(t, s.Diff), diff)
	}
	res = node.apply(t, midState, diff)
	sameContent(t, "yjs applying mid state + Go DiffUpdate", s.Content, rawToAny(t, res.Content))
	d4 := NewDoc(WithClientID(goClient))
	if err := d4.ApplyUpdate(midState); err != nil {
		t.Fatal(err)
	}
	if err := d4.ApplyUpdate(diff); err != nil {
		t.Fatal(err)
	}
	sameContent(t, "Go applying mid state + Go DiffUpdate", s.Content, dumpDocJSON(d4))

	// 6. EncodeStateAsUpdate against a target state vector is a true diff.
	sv, err := DecodeStateVector(midSV)
	if err != nil {
		t.Fatal(err)
	}
	partial, err := doc.EncodeStateAsUpdate(sv)
	if err != nil {
		t.Fatal(err)
	}
	if len(partial) > len(full) {
		t.Errorf("diff against mid state (%d bytes) larger than full state (%d)", len(partial), len(full))
	}
	res = node.apply(t, midState, partial)
	sameContent(t, "yjs applying mid state + Go EncodeStateAsUpdate(midSV)", s.Content, rawToAny(t, res.Content))

	// 7. A subset of the updates, in delivery order: yjs and Go keep the same
	// content pending and show the same partial document.
	rng := rand.New(rand.NewPCG(uint64(s.Seed), 99))
	var subset [][]byte
	for _, i := range s.Order {
		if rng.IntN(10) < 6 {
			subset = append(subset, updates[i])
		}
	}
	d5 := NewDoc(WithClientID(goClient))
	for _, u := range subset {
		if err := d5.ApplyUpdate(u); err != nil {
			t.Fatal(err)
		}
	}
	res = node.apply(t, subset...)
	sameContent(t, "partial delivery", res.Content, dumpDocJSON(d5))
	if got := svStrings(d5.StateVector()); !reflect.DeepEqual(got, res.SV) {
		t.Errorf("partial delivery: sv yjs %v, go %v", res.SV, got)
	}
	if d5.HasPending() != res.Pending {
		t.Errorf("partial delivery: pending yjs %v, go %v", res.Pending, d5.HasPending())
	}
	// Go's state of a doc with pending content carries the pending parts.
	partialState, err := d5.EncodeStateAsUpdate(nil)
	if err != nil {
		t.Fatal(err)
	}
	// Re-integrating pending content in one update can leave more of it
	// pending than incremental delivery did (yjs sets a whole client aside
	// when one of its structs waits), so the reference is yjs applying its
	// own state of the same partial document.
	ownState := node.apply(t, unb64(t, res.StateAsUpdate))
	res2 := node.apply(t, partialState)
	sameContent(t, "yjs applying Go state with pending content", ownState.Content, rawToAny(t, res2.Content))
	if !reflect.DeepEqual(ownState.SV, res2.SV) {
		t.Errorf("yjs applying Go state with pending content: sv %v, want %v", res2.SV, ownState.SV)
	}
	d6 := NewDoc(WithClientID(goClient))
	if err := d6.ApplyUpdate(partialState); err != nil {
		t.Fatal(err)
	}
	sameContent(t, "Go applying Go state with pending content", ownState.Content, dumpDocJSON(d6))

	// 8. Server-side edits produced by Go apply in yjs.
	edits := randomServerEdits(t, doc, rand.New(rand.NewPCG(uint64(s.Seed), 7)), 15)
	res = node.apply(t, append([][]byte{full}, edits...)...)
	sameContent(t, "yjs applying Go server-side edits", res.Content, dumpDocJSON(doc))
	if got := svStrings(doc.StateVector()); !reflect.DeepEqual(got, res.SV) {
		t.Errorf("after Go edits: sv yjs %v, go %v", res.SV, got)
	}
}

// ---------- random server-side edits ----------

var editWords = []string{"a", "bc", "Socle ", "école", "😀", "\n", "x y", "日本"}

func randomServerEdits(t *testing.T, d *Doc, rng *rand.Rand, n int) [][]byte {
	t.Helper()
	var out [][]byte
	for i := 0; i < n; i++ {
		u, err := d.Transact(func(tx *Tx) error {
			for j, m := 0, 1+rng.IntN(2); j < m; j++ {
				if err := randomServerEdit(d, tx, rng); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatalf("server edit: %v", err)
		}
		if u != nil {
			out = append(out, u)
		}
	}
	return out
}

// textBoundary moves a UTF-16 position off the middle of a surrogate pair.
func textBoundary(ds []Delta, pos int) int {
	var units []uint16
	for _, d := range ds {
		if s, ok := d.Insert.(string); ok {
			units = append(units, utf16.Encode([]rune(s))...)
		} else {
			units = append(units, 0)
		}
	}
	if pos > 0 && pos < len(units) && utf16.IsSurrogate(rune(units[pos])) && units[pos] >= 0xDC00 {
		return pos - 1
	}
	return pos
}

func randomServerEdit(d *Doc, tx *Tx, rng *rand.Rand) error {
	attrs := []map[string]any{nil, {"bold": true}, {"italic": true, "bold": nil}, {"link": map[string]any{"href": "https://e.fr"}}, {}}
	switch rng.IntN(4) {
	case 0:
		t := d.GetText("text")
		ln := t.Len()
		switch k := rng.IntN(10); {
		case k < 5 || ln == 0:
			return t.Insert(tx, textBoundary(t.Delta(), rng.IntN(ln+1)), editWords[rng.IntN(len(editWords))], attrs[rng.IntN(len(attrs))])
		case k < 8:
			pos := textBoundary(t.Delta(), rng.IntN(ln))
			end := textBoundary(t.Delta(), min(ln, pos+1+rng.IntN(4)))
			return t.Delete(tx, pos, end-pos)
		case k < 9:
			return t.InsertEmbed(tx, textBoundary(t.Delta(), rng.IntN(ln+1)), map[string]any{"image": "go.png"}, nil)
		default:
			pos := textBoundary(t.Delta(), rng.IntN(ln))
			end := textBoundary(t.Delta(), pos+1+rng.IntN(ln-pos))
			return t.Format(tx, pos, end-pos, attrs[1+rng.IntN(len(attrs)-1)])
		}
	case 1:
		m := d.GetMap("map")
		key := []string{"a", "b", "go", "titre"}[rng.IntN(4)]
		switch rng.IntN(6) {
		case 0:
			return m.Delete(tx, key)
		case 1:
			return m.Set(tx, key, MapPrelim{"x": int64(1), "nested": ArrayPrelim{"a", TextPrelim("hé")}})
		case 2:
			return m.Set(tx, key, []byte{1, 2, 3})
		case 3:
			return m.Set(tx, key, map[string]any{"obj": []any{1.5, "s", nil, true}})
		default:
			return m.Set(tx, key, rng.IntN(100))
		}
	case 2:
		a := d.GetArray("array")
		switch k := rng.IntN(4); {
		case k == 0 && a.Len() > 0:
			pos := rng.IntN(a.Len())
			return a.Delete(tx, pos, 1+rng.IntN(min(3, a.Len()-pos)))
		case k == 1:
			return a.Insert(tx, rng.IntN(a.Len()+1), "go", int64(-5), 3.25, MapPrelim{"k": "v"}, []byte("bin"))
		default:
			return a.Push(tx, rng.IntN(1000), "pushed", ArrayPrelim{int64(1), int64(2)})
		}
	default:
		x := d.GetXMLFragment("xml")
		if x.Len() > 0 && rng.IntN(4) == 0 {
			pos := rng.IntN(x.Len())
			return x.Delete(tx, pos, 1+rng.IntN(min(2, x.Len()-pos)))
		}
		return x.Insert(tx, rng.IntN(x.Len()+1), XMLElementPrelim{
			Name:     "paragraph",
			Attrs:    map[string]any{"level": "1"},
			Children: []any{XMLTextPrelim("from Go " + strings.Repeat("!", rng.IntN(3)))},
		})
	}
}
