// Package web holds the templates and static assets of the user interface,
// embedded in the binary.
package web

import (
	"embed"
	"io/fs"
)

//go:embed templates static
var files embed.FS

// Templates returns the template tree (layout/, pages/).
func Templates() fs.FS {
	sub, _ := fs.Sub(files, "templates")
	return sub
}

// Static returns the static assets (CSS, scripts, images).
func Static() fs.FS {
	sub, _ := fs.Sub(files, "static")
	return sub
}
