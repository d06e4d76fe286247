// Package problem is the error a user may see: an HTTP status, a stable code
// for API clients, a French message safe to show, and apart from them the
// internal cause, which only the log sees.
package problem

import (
	"errors"
	"fmt"
	"net/http"
)

// Error is an error meant for a user.
type Error struct {
	Status  int
	Code    string
	Message string
	// Fields holds per-field messages for forms (field name → message).
	Fields map[string]string
	Err    error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return e.Code + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// As returns the *Error in err's chain, if any.
func As(err error) (*Error, bool) {
	var p *Error
	ok := errors.As(err, &p)
	return p, ok
}

// New builds an error with a status, code and French message.
func New(status int, code, message string) *Error {
	return &Error{Status: status, Code: code, Message: message}
}

// Wrap attaches an internal cause.
func (e *Error) Wrap(err error) *Error {
	c := *e
	c.Err = err
	return &c
}

// Field adds a per-field message.
func (e *Error) Field(name, message string) *Error {
	c := *e
	c.Fields = map[string]string{}
	for k, v := range e.Fields {
		c.Fields[k] = v
	}
	c.Fields[name] = message
	return &c
}

// NotFound is also the answer for what lies outside the caller's scope, so
// that nobody learns what exists elsewhere.
func NotFound(what string) *Error {
	return New(http.StatusNotFound, "not_found", what+" introuvable.")
}

// Forbidden is for an action the caller's roles never allow.
func Forbidden() *Error {
	return New(http.StatusForbidden, "forbidden", "Vous n'avez pas les droits nécessaires pour cette action.")
}

// Unauthenticated asks the caller to log in.
func Unauthenticated() *Error {
	return New(http.StatusUnauthorized, "unauthenticated", "Veuillez vous connecter.")
}

// Invalid is bad input.
func Invalid(code, message string) *Error {
	return New(http.StatusBadRequest, code, message)
}

// Conflict is a clash with existing data.
func Conflict(code, message string) *Error {
	return New(http.StatusConflict, code, message)
}
