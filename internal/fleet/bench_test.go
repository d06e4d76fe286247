package fleet

import (
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
)

// benchPayload is a full agent inventory: 750 software entries and the
// other sections, about 200 KB of XML like a real Windows workstation.
func benchPayload(serial string, version int) []byte {
	m := machine{tag: uaiA, name: "PC-" + serial, serial: serial, os: "Microsoft Windows 11 Éducation",
		macs: []string{"02:00:00:00:00:01"}}
	for i := range 750 {
		m.software = append(m.software, [3]string{fmt.Sprintf("Logiciel éducatif %04d", i),
			fmt.Sprintf("%d.%d.%d", 1+i%7, version*(i%20/19), i%13), fmt.Sprintf("Éditeur %03d SAS", i%97)})
	}
	x := m.xml()
	// The sections the server skips, as real agents send them.
	var pad strings.Builder
	for pad.Len()+len(x) < 200_000 {
		pad.WriteString("<PROCESSES><CMD>C:\\Windows\\System32\\svchost.exe -k netsvcs -p</CMD><PID>1234</PID><USER>SYSTEM</USER></PROCESSES>")
	}
	return []byte(strings.Replace(x, "</CONTENT>", pad.String()+"</CONTENT>", 1))
}

func reportRate(b *testing.B) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "inventories/s")
}

// BenchmarkIngestNewMachine: every inventory is a new machine (a school's
// first inventory day), its 750 software rows all inserted.
func BenchmarkIngestNewMachine(b *testing.B) {
	f := newFx(b)
	h := NewAgentHandler(f.svc, AgentOptions{})
	b.SetBytes(int64(len(benchPayload("N0000000", 0))))
	i := 0
	for b.Loop() {
		b.StopTimer()
		body := zlibBytes(benchPayload(fmt.Sprintf("N%07d", i), 0))
		i++
		b.StartTimer()
		if rec := post(b, h, "/ocsinventory", "application/x-compress-zlib", body); rec.Code != 200 {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
	reportRate(b)
}

// BenchmarkIngestKnownMachine: the daily case, the same machine again with
// a few dozen packages updated each time.
func BenchmarkIngestKnownMachine(b *testing.B) {
	f := newFx(b)
	h := NewAgentHandler(f.svc, AgentOptions{})
	bodies := [][]byte{zlibBytes(benchPayload("K1", 0)), zlibBytes(benchPayload("K1", 1))}
	b.SetBytes(int64(len(benchPayload("K1", 0))))
	post(b, h, "/ocsinventory", "application/x-compress-zlib", bodies[0])
	i := 0
	for b.Loop() {
		i++
		if rec := post(b, h, "/ocsinventory", "application/x-compress-zlib", bodies[i%2]); rec.Code != 200 {
			b.Fatalf("status %d", rec.Code)
		}
	}
	reportRate(b)
}

// BenchmarkParseXML is the parser alone, without database.
func BenchmarkParseXML(b *testing.B) {
	body := benchPayload("P1", 0)
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if msg, err := parseXML(body); err != nil || len(msg.Inventory.Software) != 750 {
			b.Fatal(err)
		}
	}
}

// BenchmarkIngestParallel is the sustained load: agents of 64 machines
// posting at once (GOMAXPROCS goroutines, -cpu 2 for the 2-core target),
// each inventory with packages changed since the machine's previous one.
// Parsing runs side by side; SQLite serializes the writes.
func BenchmarkIngestParallel(b *testing.B) {
	f := newFx(b)
	h := NewAgentHandler(f.svc, AgentOptions{})
	const machines = 64
	var bodies [machines][2][]byte
	for m := range machines {
		for v := range 2 {
			bodies[m][v] = zlibBytes(benchPayload(fmt.Sprintf("P%04d", m), v))
		}
		if rec := post(b, h, "/ocsinventory", "application/x-compress-zlib", bodies[m][0]); rec.Code != 200 {
			b.Fatalf("status %d", rec.Code)
		}
	}
	b.SetBytes(int64(len(benchPayload("P0000", 0))))
	var next atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := next.Add(1)
			body := bodies[i%machines][1-(i/machines)%2]
			if rec := post(b, h, "/ocsinventory", "application/x-compress-zlib", body); rec.Code != 200 {
				b.Errorf("status %d: %s", rec.Code, rec.Body)
				return
			}
		}
	})
	reportRate(b)
}
