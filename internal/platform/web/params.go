package web

import (
	"net/http"
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

// PathID reads a positive integer path value (an id in the URL). Anything
// else is the 404 of what the page would have shown: a malformed id names
// nothing, exactly like an unknown one.
func PathID(r *http.Request, name, what string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, problem.NotFound(what)
	}
	return id, nil
}
