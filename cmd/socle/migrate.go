package main

import (
	"context"
	"flag"
	"fmt"

	"socle/internal/app"
)

func migrateCmd(ctx context.Context, args []string) error {
	var cfg app.Config
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	cfg.BindCommon(fs)
	if err := fs.Parse(args); err != nil {
		return exitError{2}
	}
	log := cfg.Logger()
	a, err := app.Open(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	fmt.Printf("Base de données à jour (%s).\n", cfg.Engine())
	return nil
}
