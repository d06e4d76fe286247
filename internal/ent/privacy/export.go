package privacy

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"socle/internal/platform/auth"
	"socle/internal/platform/web"
)

// An export is built in a temporary file before anything is sent: a
// contributor failing half-way gives an error, never half a zip that looks
// complete. Each contributor writes its own zip first, so that its entries
// can be listed in the summary and kept inside its folder, then the
// entries are copied raw (without recompressing) into the final archive.

// Archive is a finished export, in a temporary file removed by Close.
type Archive struct {
	*os.File
	// Name is the download name, without the person's name (it travels
	// in URLs and logs).
	Name string
	Size int64
}

// Close closes and removes the temporary file.
func (a *Archive) Close() error {
	err := a.File.Close()
	if rmErr := os.Remove(a.File.Name()); rmErr != nil && err == nil {
		err = rmErr
	}
	return err
}

// Export builds the export of a person's data for someone allowed to see
// it; a third party's export is written in the person's access log.
func (s *Service) Export(ctx context.Context, p *auth.Principal, subjectID int64) (*Archive, error) {
	rel, err := s.relate(ctx, p, subjectID)
	if err != nil {
		return nil, err
	}
	a, err := s.build(ctx, subjectID, "")
	if err != nil {
		return nil, err
	}
	s.logThirdParty(ctx, p, subjectID, rel, "export des données")
	return a, nil
}

// archive keeps a person's export in the archive directory before their
// data is erased; it returns the file's path.
func (s *Service) archive(ctx context.Context, userID int64) (string, error) {
	dir := s.opts.ArchiveDir
	if dir == "" {
		return "", fmt.Errorf("no archive directory configured")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("create archive directory: %w", err)
	}
	a, err := s.build(ctx, userID, dir)
	if err != nil {
		return "", err
	}
	if err := a.File.Sync(); err != nil {
		a.Close()
		return "", err
	}
	tmp := a.File.Name()
	if err := a.File.Close(); err != nil {
		os.Remove(tmp)
		return "", err
	}
	final := filepath.Join(dir, fmt.Sprintf("personne-%d-%s.zip", userID, s.now().UTC().Format("20060102T150405Z")))
	if err := os.Rename(tmp, final); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("keep archive: %w", err)
	}
	return final, nil
}

// entry is one file of the export as the summary lists it.
type entry struct {
	Name string
	Size uint64
	// JSON is the indented content of a small JSON file, shown in the
	// summary so that it reads without tools.
	JSON string
}

type section struct {
	Name    string
	Label   string
	Entries []entry
}

// label is the French title of a contributor's folder.
func label(name string) string {
	switch name {
	case "compte":
		return "Compte et connexions"
	case "acces":
		return "Qui a consulté vos données"
	case "notifications":
		return "Notifications"
	case "people", "personnes":
		return "Profil, classes, groupes et liens familiaux"
	case "espace documentaire", "espace":
		return "Espace documentaire (vos fichiers)"
	case "productions":
		return "Productions collaboratives"
	case "assistance":
		return "Demandes d'assistance"
	}
	return name
}

const maxInlineJSON = 64 << 10

// build writes the export into a new temporary file in dir (the system's
// when empty), positioned at its start.
func (s *Service) build(ctx context.Context, userID int64, dir string) (*Archive, error) {
	who, err := s.store.person(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("read person: %w", err)
	}
	var parts []*os.File
	defer func() {
		for _, f := range parts {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	var sections []section
	// The account first: the summary opens on who the person is.
	cs := s.ordered()
	if _, ok := cs[len(cs)-1].(*AccountContributor); ok {
		cs = append([]Contributor{cs[len(cs)-1]}, cs[:len(cs)-1]...)
	}
	for _, c := range cs {
		f, err := os.CreateTemp(dir, "export-part-*.zip")
		if err != nil {
			return nil, fmt.Errorf("export: %w", err)
		}
		parts = append(parts, f)
		zw := zip.NewWriter(f)
		if err := c.ExportPerson(ctx, userID, zw); err != nil {
			return nil, fmt.Errorf("export %s: %w", c.Name(), err)
		}
		if err := zw.Close(); err != nil {
			return nil, fmt.Errorf("export %s: %w", c.Name(), err)
		}
		sec, err := listPart(f, c.Name())
		if err != nil {
			return nil, err
		}
		sections = append(sections, sec)
	}
	out, err := os.CreateTemp(dir, "export-*.zip")
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			out.Close()
			os.Remove(out.Name())
		}
	}()
	now := s.now().UTC()
	zw := zip.NewWriter(out)
	if err := writeSummary(zw, who, sections, now); err != nil {
		return nil, err
	}
	for i, f := range parts {
		if err := copyPart(zw, f, sections[i].Name); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	size, err := out.Seek(0, io.SeekCurrent)
	if err != nil {
		return nil, err
	}
	if _, err := out.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	ok = true
	return &Archive{File: out, Name: fmt.Sprintf("donnees-personnelles-%d-%s.zip", userID, now.Format("2006-01-02")), Size: size}, nil
}

// entryName keeps a contributor's entry inside its folder, whatever name
// it chose: no absolute path, no "..", no other contributor's folder.
func entryName(folder, name string) string {
	clean := path.Clean("/" + strings.ReplaceAll(name, "\\", "/"))
	clean = strings.TrimPrefix(clean, "/")
	if rest, ok := strings.CutPrefix(clean, folder+"/"); ok {
		clean = rest
	}
	return folder + "/" + clean
}

func listPart(f *os.File, folder string) (section, error) {
	sec := section{Name: folder, Label: label(folder)}
	st, err := f.Stat()
	if err != nil {
		return sec, err
	}
	zr, err := zip.NewReader(f, st.Size())
	if err != nil {
		return sec, fmt.Errorf("export %s: %w", folder, err)
	}
	for _, zf := range zr.File {
		if strings.HasSuffix(zf.Name, "/") {
			continue
		}
		e := entry{Name: entryName(folder, zf.Name), Size: zf.UncompressedSize64}
		if strings.HasSuffix(zf.Name, ".json") && zf.UncompressedSize64 <= maxInlineJSON {
			rc, err := zf.Open()
			if err != nil {
				return sec, err
			}
			raw, err := io.ReadAll(io.LimitReader(rc, maxInlineJSON+1))
			rc.Close()
			if err != nil {
				return sec, err
			}
			var buf bytes.Buffer
			if json.Indent(&buf, raw, "", "  ") == nil {
				e.JSON = buf.String()
			}
		}
		sec.Entries = append(sec.Entries, e)
	}
	return sec, nil
}

func copyPart(zw *zip.Writer, f *os.File, folder string) error {
	st, err := f.Stat()
	if err != nil {
		return err
	}
	zr, err := zip.NewReader(f, st.Size())
	if err != nil {
		return err
	}
	for _, zf := range zr.File {
		if strings.HasSuffix(zf.Name, "/") {
			continue
		}
		h := zf.FileHeader
		h.Name = entryName(folder, zf.Name)
		w, err := zw.CreateRaw(&h)
		if err != nil {
			return fmt.Errorf("export %s: %w", folder, err)
		}
		r, err := zf.OpenRaw()
		if err != nil {
			return err
		}
		if _, err := io.Copy(w, r); err != nil {
			return fmt.Errorf("export %s: %w", folder, err)
		}
	}
	return nil
}

func sizeLabel(n uint64) string {
	switch {
	case n < 1024:
		return strconv.FormatUint(n, 10) + " octets"
	case n < 1<<20:
		return strconv.FormatUint((n+512)/1024, 10) + " Ko"
	}
	return strconv.FormatFloat(float64(n)/float64(1<<20), 'f', 1, 64) + " Mo"
}

var summaryHTML = template.Must(template.New("summary").Funcs(template.FuncMap{"size": sizeLabel}).Parse(`<!doctype html>
<html lang="fr">
<head><meta charset="utf-8"><title>Données personnelles — {{.Who.DisplayName}}</title></head>
<body>
<h1>Données personnelles de {{.Who.DisplayName}}</h1>
<p>Export du {{.Date}} (heure de Paris), compte n° {{.Who.ID}} ({{.Who.Email}}).</p>
<p>Cette archive contient toutes les données que Socle, l'espace numérique de travail, conserve sur cette personne :
un dossier par partie du service, avec les données en JSON (lisibles ci-dessous) et les fichiers déposés.
Vous pouvez demander leur rectification ou leur effacement à l'établissement (chef d'établissement ou directeur d'école)
ou depuis la page « Mes données » de Socle.</p>
{{range .Sections}}
<h2>{{.Label}}</h2>
{{if .Entries}}<ul>
{{range .Entries}}<li><a href="{{.Name}}">{{.Name}}</a> — {{size .Size}}
{{if .JSON}}<details><summary>Contenu de {{.Name}}</summary><pre>{{.JSON}}</pre></details>{{end}}</li>
{{end}}</ul>{{else}}<p>Aucune donnée.</p>{{end}}
{{end}}
</body>
</html>
`))

func writeSummary(zw *zip.Writer, who person, sections []section, now time.Time) error {
	date := now.In(web.Paris()).Format("02/01/2006 à 15:04")
	w, err := zw.CreateHeader(&zip.FileHeader{Name: "LISEZMOI.html", Method: zip.Deflate, Modified: now})
	if err != nil {
		return err
	}
	if err := summaryHTML.Execute(w, map[string]any{"Who": who, "Date": date, "Sections": sections}); err != nil {
		return fmt.Errorf("export summary: %w", err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "DONNÉES PERSONNELLES DE %s\n\nExport du %s (heure de Paris), compte n° %d (%s).\n\n", strings.ToUpper(who.DisplayName), date, who.ID, who.Email)
	b.WriteString("Cette archive contient toutes les données que Socle conserve sur cette personne : un dossier par partie\n" +
		"du service, avec les données en JSON et les fichiers déposés. LISEZMOI.html les présente de façon lisible.\n")
	for _, sec := range sections {
		fmt.Fprintf(&b, "\n%s\n", sec.Label)
		if len(sec.Entries) == 0 {
			b.WriteString("  Aucune donnée.\n")
		}
		for _, e := range sec.Entries {
			fmt.Fprintf(&b, "  - %s (%s)\n", e.Name, sizeLabel(e.Size))
		}
	}
	w, err = zw.CreateHeader(&zip.FileHeader{Name: "LISEZMOI.txt", Method: zip.Deflate, Modified: now})
	if err != nil {
		return err
	}
	_, err = io.WriteString(w, strings.ReplaceAll(b.String(), "\n", "\r\n"))
	return err
}
