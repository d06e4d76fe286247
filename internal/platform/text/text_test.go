package text

import "testing"

func TestSearchKey(t *testing.T) {
	for in, want := range map[string]string{
		"Collège Émile-Zola":       "college emile zola",
		"  L'ŒUVRE  d'Ève (1789) ": "l œuvre d eve 1789",
		"ÉCOLE PRIMAIRE":           "ecole primaire",
		"":                         "",
	} {
		if got := SearchKey(in); got != want {
			t.Errorf("SearchKey(%q) = %q, want %q", in, got, want)
		}
	}
	if got := SearchKey("Rennes", "35000"); got != "rennes 35000" {
		t.Errorf("parts: %q", got)
	}
}
