package territory

import "testing"

func TestValidUAI(t *testing.T) {
	for uai, want := range map[string]bool{
		"0350122T": true, "0350165P": true, "0352072M": true,
		"0350122A": false, "035012T": false, "A350122T": false, "0350122t": false, "": false, "03501222T": false,
	} {
		if got := ValidUAI(uai); got != want {
			t.Errorf("ValidUAI(%q) = %v, want %v", uai, got, want)
		}
	}
	if l := UAICheckLetter(350122); l != 'T' {
		t.Errorf("check letter of 0350122 = %c", l)
	}
}

func TestNormalizeZone(t *testing.T) {
	for in, want := range map[string]string{"B": "Zone B", "zone a": "Zone A", "Zone C": "Zone C", "Corse": "Corse", " b ": "Zone B"} {
		if got := NormalizeZone(in); got != want {
			t.Errorf("NormalizeZone(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSearchKey(t *testing.T) {
	for in, want := range map[string]string{
		"Collège Émile-Zola":       "college emile zola",
		"  Lycée  d'Enseignement ": "lycee d enseignement",
		"ÉCOLE":                    "ecole",
	} {
		if got := SearchKey(in); got != want {
			t.Errorf("SearchKey(%q) = %q, want %q", in, got, want)
		}
	}
	if got := SearchKey("Baulon", "0350122T"); got != "baulon 0350122t" {
		t.Errorf("SearchKey parts = %q", got)
	}
}

func TestMaintainingKind(t *testing.T) {
	for ty, want := range map[Type]Kind{TypeEcole: KindCommune, TypeCollege: KindDepartement, TypeLycee: KindRegion, TypeEREA: KindRegion, TypeOther: "", TypeUnknown: ""} {
		if got := MaintainingKind(ty); got != want {
			t.Errorf("MaintainingKind(%q) = %q, want %q", ty, got, want)
		}
	}
}
