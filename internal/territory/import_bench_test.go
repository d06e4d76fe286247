package territory

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"testing"
	"time"

	"socle/internal/platform/auth"
	"socle/internal/platform/opendata"
)

// BenchmarkImportAnnuaireIlleEtVilaine imports the real directory of
// Ille-et-Vilaine (996 rows) into a fresh database per iteration. Target:
// under 0.5 s on SQLite.
func BenchmarkImportAnnuaireIlleEtVilaine(b *testing.B) {
	path := opendata.Path(b, fileAnnuaire)
	benchmarkImport(b, path, 996)
}

// BenchmarkImportAnnuaireNational imports a generated national directory
// (70,000 rows in the annuaire's own layout, valid UAIs, ~100
// départements, ~35,000 communes), streamed from a file, into a fresh
// database per iteration. Target: under 10 s on SQLite, with memory
// bounded (the peak heap is reported).
func BenchmarkImportAnnuaireNational(b *testing.B) {
	path := filepath.Join(b.TempDir(), "annuaire-national.csv")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	if err := writeNationalAnnuaire(f, 70_000); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	benchmarkImport(b, path, 70_000)
}

func benchmarkImport(b *testing.B, path string, rows int) {
	ctx := context.Background()
	st, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(st.Size())
	b.ReportAllocs()
	var peak uint64
	var elapsed, cpu time.Duration
	cpuKnown := true
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		s, _ := newImportService(b)
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		base := heapBytes()
		sample := func(int64) {
			if h := heapBytes(); h > base && h-base > peak {
				peak = h - base
			}
		}
		start := time.Now()
		cpu0, ok0 := processCPU()
		b.StartTimer()
		rep, err := s.Import(ctx, auth.System(), ImportAnnuaire, f, ImportOptions{Filename: filepath.Base(path), Progress: sample})
		b.StopTimer()
		elapsed += time.Since(start)
		cpu1, ok1 := processCPU()
		cpu += cpu1 - cpu0
		cpuKnown = cpuKnown && ok0 && ok1
		f.Close()
		if err != nil {
			b.Fatal(err)
		}
		if rep.Read != rows || rep.Created != rows || rep.RejectedCount() != 0 {
			b.Fatalf("report: read %d created %d rejected %d (%+v)", rep.Read, rep.Created, rep.RejectedCount(), firstN(rep.Rejected, 3))
		}
	}
	b.ReportMetric(float64(rows)*float64(b.N)/elapsed.Seconds(), "rows/s")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
	if cpuKnown {
		// CPU time is the figure to compare on a shared machine, where
		// the wall time also counts the waits for a processor.
		b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
	}
}

// processCPU is the CPU time (user and system, all threads) the process
// has used, read from /proc on Linux; ok is false elsewhere.
func processCPU() (time.Duration, bool) {
	raw, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return 0, false
	}
	// The command name, in parentheses, may hold spaces: count fields
	// from the closing parenthesis (utime and stime are fields 14 and 15).
	i := strings.LastIndexByte(string(raw), ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(string(raw[i+1:]))
	if len(f) < 13 {
		return 0, false
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	// Linux reports clock ticks of 1/100 s (USER_HZ) on every platform Go
	// supports.
	return time.Duration(utime+stime) * 10 * time.Millisecond, true
}

// heapBytes reads the live heap without stopping the world, so that it can
// be sampled from the progress callback.
func heapBytes() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

const annuaireHeader = "Identifiant_de_l_etablissement;Nom_etablissement;Type_etablissement;Statut_public_prive;Adresse_1;Adresse_2;Adresse_3;" +
	"Code postal;Code_commune;Nom_commune;Code_departement;Code_academie;Code_region;Ecole_maternelle;Ecole_elementaire;Voie_generale;" +
	"Voie_technologique;Voie_professionnelle;Telephone;Fax;Web;Mail;Restauration;Hebergement;ULIS;Apprentissage;Segpa;Section_arts;" +
	"Section_cinema;Section_theatre;Section_sport;Section_internationale;Section_europeenne;Lycee_Agricole;Lycee_militaire;Lycee_des_metiers;" +
	"Post_BAC;Appartenance_Education_Prioritaire;GRETA;SIREN_SIRET;Nombre_d_eleves;Fiche_onisep;position;Type_contrat_prive;Libelle_departement;" +
	"Libelle_academie;Libelle_region;coordonnee_X;coordonnee_Y;epsg;nom_circonscription;latitude;longitude;precision_localisation;date_ouverture;" +
	"date_maj_ligne;etat;ministere_tutelle;etablissement_multi_lignes;rpi_concentre;rpi_disperse;code_nature;libelle_nature;Code_type_contrat_prive;" +
	"PIAL;etablissement_mere;type_rattachement_etablissement_mere;code_bassin_formation;libelle_bassin_formation"

// writeNationalAnnuaire writes n rows of a plausible national directory:
// the published header and CRLF, a realistic mix of types, sectors and
// priority labels, coordinates, and one establishment in 500 published on
// two lines, as in the real file.
func writeNationalAnnuaire(w io.Writer, n int) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	cols := strings.Split(annuaireHeader, ";")
	idx := map[string]int{}
	for i, c := range cols {
		idx[c] = i
	}
	bw.WriteString("\ufeff" + annuaireHeader + "\r\n")
	type kind struct{ typ, nature, label, name string }
	kinds := []kind{
		{"Ecole", "151", "ECOLE DE NIVEAU ELEMENTAIRE", "Ecole élémentaire"},
		{"Ecole", "101", "ECOLE MATERNELLE", "Ecole maternelle"},
		{"Collège", "340", "COLLEGE", "Collège"},
		{"Lycée", "300", "LYCEE ENSEIGNT GENERAL ET TECHNOLOGIQUE", "Lycée général et technologique"},
		{"Lycée", "320", "LYCEE PROFESSIONNEL", "Lycée professionnel"},
		{"Médico-social", "240", "INSTITUT MEDICO-EDUCATIF", "IME"},
		{"", "400", "ECOLES COMPOSEES UNIQT DE STS ET OU CPGE", "Ecole supérieure"},
	}
	// Weights out of 100, close to the real directory's.
	weights := []int{48, 21, 12, 5, 5, 7, 2}
	pick := func(i int) kind {
		r := (i * 37) % 100
		for k, wgt := range weights {
			if r < wgt {
				return kinds[k]
			}
			r -= wgt
		}
		return kinds[0]
	}
	row := make([]string, len(cols))
	set := func(col, v string) { row[idx[col]] = v }
	const perDept = 740
	written := 0
	for i := 0; written < n; i++ {
		dept := 1 + (i/perDept)%95
		seq := i % perDept
		num := dept*10000 + seq
		uai := fmt.Sprintf("%07d%c", num, UAICheckLetter(num))
		commune := fmt.Sprintf("%02d%03d", dept, 1+seq%370)
		academy := strconv.Itoa(1 + dept%30)
		k := pick(i)
		for j := range row {
			row[j] = ""
		}
		sector := "Public"
		switch r := (i * 13) % 100; {
		case r < 42:
			sector = "Privé"
		case r < 44:
			sector = ""
		}
		set("Identifiant_de_l_etablissement", uai)
		set("Nom_etablissement", fmt.Sprintf("%s %s n°%d", k.name, strings.ToLower(sector), seq))
		set("Type_etablissement", k.typ)
		set("Statut_public_prive", sector)
		set("Adresse_1", fmt.Sprintf("%d rue de l'École", 1+seq%120))
		set("Adresse_3", fmt.Sprintf("%02d%03d COMMUNE %d", dept, seq%1000, seq%370))
		set("Code postal", fmt.Sprintf("%02d%03d", dept, seq%1000))
		set("Code_commune", commune)
		set("Nom_commune", "Commune "+commune)
		set("Code_departement", fmt.Sprintf("%03d", dept))
		set("Code_academie", academy)
		set("Code_region", strconv.Itoa(11+dept%18))
		set("Telephone", fmt.Sprintf("02%08d", num))
		set("Mail", "ce."+uai+"@ac-exemple.fr")
		set("Web", "https://"+strings.ToLower(uai)+".ac-exemple.fr")
		set("Restauration", "1")
		set("Hebergement", "0")
		if r := (i * 7) % 100; r < 6 {
			set("Appartenance_Education_Prioritaire", "REP")
		} else if r < 7 {
			set("Appartenance_Education_Prioritaire", "REP+")
		}
		set("SIREN_SIRET", fmt.Sprintf("213%06d00025", num%1000000))
		set("Nombre_d_eleves", strconv.Itoa(50+seq%700))
		lat, lon := 42.5+float64(dept%50)/10+float64(seq)/10000, -4.5+float64(dept%40)/4+float64(seq)/20000
		set("position", fmt.Sprintf("%v, %v", lat, lon))
		set("Type_contrat_prive", "SANS OBJET")
		set("Libelle_departement", "Département "+strconv.Itoa(dept))
		set("Libelle_academie", "Académie-"+academy)
		set("Libelle_region", "Région "+strconv.Itoa(11+dept%18))
		set("epsg", "EPSG:2154")
		set("nom_circonscription", "Circonscription "+strconv.Itoa(dept))
		set("latitude", strconv.FormatFloat(lat, 'f', -1, 64))
		set("longitude", strconv.FormatFloat(lon, 'f', -1, 64))
		set("precision_localisation", "Numéro de rue")
		set("date_ouverture", "1965-10-01")
		set("date_maj_ligne", "2023-06-08")
		set("etat", "OUVERT")
		set("ministere_tutelle", "MINISTERE DE L'EDUCATION NATIONALE")
		set("etablissement_multi_lignes", "0")
		set("code_nature", k.nature)
		set("libelle_nature", k.label)
		set("Code_type_contrat_prive", "99")
		multi := i%500 == 499 && written+2 <= n
		if multi {
			set("etablissement_multi_lignes", "1")
		}
		bw.WriteString(strings.Join(row, ";"))
		bw.WriteString("\r\n")
		written++
		if multi {
			set("Nom_etablissement", row[idx["Nom_etablissement"]]+" - site annexe")
			set("Adresse_1", "2 place de l'Annexe")
			bw.WriteString(strings.Join(row, ";"))
			bw.WriteString("\r\n")
			written++
		}
	}
	return bw.Flush()
}

// TestNationalGeneratorIsValid keeps the benchmark honest: the generated
// file imports without a rejected row, multi-line establishments included.
func TestNationalGeneratorIsValid(t *testing.T) {
	var sb strings.Builder
	if err := writeNationalAnnuaire(&sb, 1500); err != nil {
		t.Fatal(err)
	}
	s, d := newImportService(t)
	rep, err := importText(s, ImportAnnuaire, sb.String(), ImportOptions{})
	if err != nil || rep.RejectedCount() != 0 || rep.Created != 1500 {
		t.Fatalf("generated file: %+v %v", rep, err)
	}
	// Establishments 500 and 1000 are published on two lines.
	if n := queryInt(t, d, `SELECT COUNT(*) FROM establishment_sites`); n != 2 {
		t.Errorf("%d sites, want 2", n)
	}
}
