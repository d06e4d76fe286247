package web

import (
	"net/url"
	"strconv"

	"socle/internal/platform/problem"
)

// IntParam reads an optional integer query parameter within [lo, hi]; an
// absent one is 0. Out of range or not a number is a 400 with a French
// message naming the parameter.
func IntParam(q url.Values, name string, lo, hi int64) (int64, error) {
	s := q.Get(name)
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < lo || n > hi {
		return 0, problem.Invalid("invalid_parameter", "Paramètre "+name+" invalide : entier attendu entre "+
			strconv.FormatInt(lo, 10)+" et "+strconv.FormatInt(hi, 10)+".").Field(name, "Entier attendu.")
	}
	return n, nil
}
