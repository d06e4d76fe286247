package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/term"

	"socle/internal/app"
	"socle/internal/ent/people"
	"socle/internal/platform/auth"
	"socle/internal/platform/csvimport"
	"socle/internal/territory"
)

const importUsage = `Usage : socle import <jeu> FICHIER [--skip-invalid] [--json]

Jeux de données (fichiers CSV de data.education.gouv.fr) :
  annuaire        annuaire de l'éducation (établissements)
  effectifs       effectifs des écoles, des collèges ou du second degré
  calendrier      calendrier scolaire national
  carte-scolaire  carte scolaire des collèges publics
  feed            alimentation de l'ENT d'un établissement : --uai UAI [--year 2025-2026]
                  (élèves, parents, enseignants, personnels ; format dans internal/ent/people)

Par défaut l'import est tout ou rien : une seule ligne invalide et rien n'est
écrit. --skip-invalid écrit les lignes valides et signale les autres.
Code de sortie 0 seulement si aucune ligne n'a été rejetée.
`

func importCmd(ctx context.Context, args []string) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fmt.Fprint(os.Stderr, importUsage)
		return exitError{2}
	}
	if args[0] == "feed" {
		return feedImport(ctx, args[1:])
	}
	kind := territory.ImportKind(args[0])
	var cfg app.Config
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	cfg.BindCommon(fs)
	skip := fs.Bool("skip-invalid", false, "écrire les lignes valides malgré les lignes rejetées")
	asJSON := fs.Bool("json", false, "afficher le rapport en JSON")
	fs.Usage = func() { fmt.Fprint(os.Stderr, importUsage) }
	// Accept options before or after the file name.
	var files []string
	rest := args[1:]
	for {
		if err := fs.Parse(rest); err != nil {
			return exitError{2}
		}
		if fs.NArg() == 0 {
			break
		}
		files = append(files, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	if len(files) != 1 {
		fmt.Fprint(os.Stderr, importUsage)
		return exitError{2}
	}
	f, err := os.Open(files[0])
	if err != nil {
		return fmt.Errorf("ouvrir %s : %w", files[0], err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	a, err := app.Open(ctx, cfg, cfg.Logger())
	if err != nil {
		return err
	}
	defer a.Close()

	opts := territory.ImportOptions{SkipInvalid: *skip, Filename: filepath.Base(files[0])}
	var bar *progressBar
	if term.IsTerminal(int(os.Stderr.Fd())) && !*asJSON {
		bar = &progressBar{w: os.Stderr, total: st.Size(), label: string(kind)}
		opts.Progress = bar.set
	}
	report, err := a.Territory.Import(ctx, auth.System(), kind, f, opts)
	if bar != nil {
		bar.done()
	}
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(report); err != nil {
			return err
		}
	} else {
		printReport(os.Stdout, report)
	}
	if len(report.Rejected) > 0 {
		return exitError{1}
	}
	return nil
}

func printReport(w io.Writer, r *csvimport.Report) {
	fmt.Fprintf(w, "%s : %d lignes lues, %d créées, %d mises à jour, %d inchangées, %d rejetées.\n",
		r.File, r.Read, r.Created, r.Updated, r.Unchanged, len(r.Rejected))
	for _, rej := range r.Rejected {
		col := ""
		if rej.Column != "" {
			col = " [" + rej.Column + "]"
		}
		fmt.Fprintf(w, "  ligne %d%s : %s\n", rej.Line, col, rej.Reason)
	}
	if len(r.Rejected) > 0 && r.Created+r.Updated == 0 {
		fmt.Fprintln(w, "Rien n'a été écrit (import tout ou rien ; --skip-invalid pour écrire les lignes valides).")
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "  note, ligne %d (%s) : %s\n", n.Line, n.UAI, n.Reason)
	}
}

// progressBar draws the share of the file read, on a terminal only.
type progressBar struct {
	w     io.Writer
	total int64
	label string
	last  time.Time
}

func (p *progressBar) set(read int64) {
	if time.Since(p.last) < 100*time.Millisecond || p.total <= 0 {
		return
	}
	p.last = time.Now()
	frac := min(float64(read)/float64(p.total), 1)
	const width = 30
	n := int(frac * width)
	fmt.Fprintf(p.w, "\r%s [%s%s] %3.0f %%", p.label, strings.Repeat("=", n), strings.Repeat(" ", width-n), frac*100)
}

func (p *progressBar) done() {
	if !p.last.IsZero() {
		fmt.Fprint(p.w, "\r\033[K")
	}
}

// feedImport runs the ENT feed of one establishment: the file is the whole
// establishment for the school year (see internal/ent/people).
func feedImport(ctx context.Context, args []string) error {
	var cfg app.Config
	fs := flag.NewFlagSet("import feed", flag.ContinueOnError)
	cfg.BindCommon(fs)
	uai := fs.String("uai", "", "UAI de l'établissement alimenté")
	year := fs.String("year", "", "année scolaire des classes (l'année en cours par défaut)")
	skip := fs.Bool("skip-invalid", false, "écrire les lignes valides malgré les lignes rejetées")
	asJSON := fs.Bool("json", false, "afficher le rapport en JSON")
	fs.Usage = func() { fmt.Fprint(os.Stderr, importUsage) }
	var files []string
	rest := args
	for {
		if err := fs.Parse(rest); err != nil {
			return exitError{2}
		}
		if fs.NArg() == 0 {
			break
		}
		files = append(files, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	if len(files) != 1 || *uai == "" {
		fmt.Fprint(os.Stderr, importUsage)
		return exitError{2}
	}
	f, err := os.Open(files[0])
	if err != nil {
		return fmt.Errorf("ouvrir %s : %w", files[0], err)
	}
	defer f.Close()
	a, err := app.Open(ctx, cfg, cfg.Logger())
	if err != nil {
		return err
	}
	defer a.Close()
	report, err := a.People.Feed(ctx, auth.System(), *uai, f, people.FeedOptions{SchoolYear: *year, SkipInvalid: *skip, Filename: filepath.Base(files[0])})
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(report); err != nil {
			return err
		}
	} else {
		printReport(os.Stdout, report)
		if report.Deleted > 0 {
			fmt.Fprintf(os.Stdout, "%d personne(s) retirée(s) de l'établissement.\n", report.Deleted)
		}
	}
	if len(report.Rejected) > 0 {
		return exitError{1}
	}
	return nil
}
