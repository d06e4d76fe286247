package csvimport

import "strings"

// MaxListed bounds each list of a report (rejected rows, notes): a file
// where every one of a million rows is wrong must not turn its report into
// a second copy of the file. Entries past the bound are only counted.
const MaxListed = 10_000

// Report is what an import did, for the command line (text or JSON), the
// web report page and the import history.
type Report struct {
	// RunID is the id under which the import was recorded, when it was.
	RunID     int64  `json:"run_id,omitempty"`
	Kind      string `json:"kind"`
	File      string `json:"file"`
	Read      int    `json:"read"`
	Created   int    `json:"created"`
	Updated   int    `json:"updated"`
	Unchanged int    `json:"unchanged"`
	// Deleted counts rows removed because a complete newer file no longer
	// lists them (only data sets published as full snapshots do this).
	Deleted  int         `json:"deleted,omitempty"`
	Rejected []Rejection `json:"rejected"`
	// RejectedOmitted counts rejected rows beyond MaxListed.
	RejectedOmitted int `json:"rejected_omitted,omitempty"`
	// Notes are facts worth a look that did not stop a row, such as an
	// enrolment row for an establishment absent from the directory.
	Notes        []Note `json:"notes"`
	NotesOmitted int    `json:"notes_omitted,omitempty"`
	// Error is the French message of an import that failed as a whole (not
	// this data set, not a text file); rows were not examined.
	Error string `json:"error,omitempty"`
}

// Rejection is a row that was not imported, and why (in French).
type Rejection struct {
	Line   int    `json:"line"`
	Column string `json:"column,omitempty"`
	Reason string `json:"reason"`
}

// Note is a remark on a row that was imported.
type Note struct {
	Line   int    `json:"line"`
	UAI    string `json:"uai,omitempty"`
	Reason string `json:"reason"`
}

// NewReport starts an empty report. The lists are empty rather than nil so
// that the JSON form always carries them.
func NewReport(kind, file string) *Report {
	return &Report{Kind: kind, File: file, Rejected: []Rejection{}, Notes: []Note{}}
}

// Reject records a rejected row.
func (r *Report) Reject(line int, column, reason string) {
	if len(r.Rejected) >= MaxListed {
		r.RejectedOmitted++
		return
	}
	// Copies: a row's fields share memory with the whole line, which the
	// report would otherwise keep alive.
	r.Rejected = append(r.Rejected, Rejection{Line: line, Column: strings.Clone(column), Reason: strings.Clone(reason)})
}

// Note records a remark on a row.
func (r *Report) Note(line int, uai, reason string) {
	if len(r.Notes) >= MaxListed {
		r.NotesOmitted++
		return
	}
	r.Notes = append(r.Notes, Note{Line: line, UAI: strings.Clone(uai), Reason: strings.Clone(reason)})
}

// RejectedCount is the number of rejected rows, listed or not.
func (r *Report) RejectedCount() int { return len(r.Rejected) + r.RejectedOmitted }

// DiscardWrites is for an import rolled back as a whole: nothing it would
// have created, updated or deleted was kept.
func (r *Report) DiscardWrites() {
	r.Created, r.Updated, r.Deleted = 0, 0, 0
}
