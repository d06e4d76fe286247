// Package text folds French text for search: accents and case removed,
// punctuation turned into single spaces, so that "Collège Émile-Zola" and
// "college emile zola" find each other.
package text

import (
	"strings"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// SearchKey folds text for accent- and case-insensitive search: "Collège
// Émile-Zola" → "college emile zola". Parts are joined by one space.
func SearchKey(parts ...string) string { return NewFolder().Key(parts...) }

// Folder folds many strings with one transformer: building the transformer
// chain costs more than folding a short name, and an import folds tens of
// thousands. Not safe for concurrent use.
type Folder struct {
	t transform.Transformer
	b strings.Builder
}

// NewFolder returns a Folder.
func NewFolder() *Folder {
	return &Folder{t: transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)}
}

// Key is SearchKey with this folder's transformer.
func (f *Folder) Key(parts ...string) string {
	f.b.Reset()
	space := false // a separator is pending
	for _, p := range parts {
		s, _, err := transform.String(f.t, p)
		if err != nil {
			s = p
		}
		for _, r := range strings.ToLower(s) {
			if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
				space = true
				continue
			}
			if space && f.b.Len() > 0 {
				f.b.WriteByte(' ')
			}
			space = false
			f.b.WriteRune(r)
		}
		space = true
	}
	return f.b.String()
}
