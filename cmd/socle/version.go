package main

import (
	"fmt"
	"runtime"

	"socle/internal/app"
)

func versionCmd() error {
	fmt.Printf("socle %s (%s, %s/%s)\n", app.Version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return nil
}
