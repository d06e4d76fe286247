package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"

	"socle/internal/app"
	"socle/internal/platform/auth"
)

const userUsage = `Usage : socle user create --email E --password P --role ROLE [--org UAI-ou-id] [--recursive] [--name NOM]

Rôles : platform-admin, authority-agent, technician, academy-observer,
        establishment-head, teacher, pupil, parent.
--org désigne l'organisation du rôle par son UAI (établissement) ou son
identifiant ; --recursive étend le rôle à tout son périmètre.
`

func userCmd(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] != "create" {
		fmt.Fprint(os.Stderr, userUsage)
		return exitError{2}
	}
	var cfg app.Config
	fs := flag.NewFlagSet("user create", flag.ContinueOnError)
	cfg.BindCommon(fs)
	email := fs.String("email", "", "adresse électronique (identifiant de connexion)")
	password := fs.String("password", "", "mot de passe (8 caractères au moins)")
	role := fs.String("role", "", "rôle")
	org := fs.String("org", "", "UAI ou identifiant de l'organisation")
	recursive := fs.Bool("recursive", false, "étendre le rôle au périmètre de l'organisation")
	name := fs.String("name", "", "nom affiché")
	fs.Usage = func() { fmt.Fprint(os.Stderr, userUsage) }
	if err := fs.Parse(args[1:]); err != nil {
		return exitError{2}
	}
	if *email == "" || *password == "" || *role == "" {
		fmt.Fprint(os.Stderr, "--email, --password et --role sont obligatoires.\n\n"+userUsage)
		return exitError{2}
	}
	r := auth.Role(strings.TrimSpace(*role))
	if !r.Valid() {
		return fmt.Errorf("rôle inconnu %q (voir socle user create -h)", *role)
	}
	a, err := app.Open(ctx, cfg, cfg.Logger())
	if err != nil {
		return err
	}
	defer a.Close()
	g := auth.Grant{Role: r, Recursive: *recursive}
	scope := "toute la plateforme"
	if *org != "" {
		o, err := a.Territory.ResolveOrg(ctx, *org)
		if err != nil {
			return err
		}
		g.OrgID = o.ID
		scope = o.Name
		if *recursive {
			scope += " et son périmètre"
		}
	}
	id, err := a.Auth.CreateUser(ctx, auth.NewUser{Email: *email, Password: *password, DisplayName: *name, Grants: []auth.Grant{g}})
	if err != nil {
		return err
	}
	fmt.Printf("Compte %d créé : %s, %s sur %s.\n", id, strings.ToLower(strings.TrimSpace(*email)), r.Label(), scope)
	return nil
}
