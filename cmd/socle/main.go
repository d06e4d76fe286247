// Command socle is the whole platform in one binary: the server, the
// migrations, the imports of national data and account administration.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	_ "time/tzdata" // Europe/Paris even on a machine without zoneinfo

	"socle/internal/platform/problem"
)

const usage = `Socle — le service numérique des écoles d'un territoire.

Usage : socle <commande> [options]

Commandes :
  serve      démarrer le serveur web (--demo pour un territoire de démonstration)
  migrate    appliquer les migrations de la base de données
  import     importer des données nationales (annuaire, effectifs, calendrier, carte-scolaire)
  user       gérer les comptes (user create ...)
  version    afficher la version

Chaque commande lit --data / SOCLE_DATA et --database / SOCLE_DATABASE_URL.
« socle <commande> -h » détaille ses options.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}

// run dispatches a subcommand and returns the exit status.
func run(ctx context.Context, args []string) int {
	if len(args) == 0 {
		fmt.Fprint(os.Stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "serve":
		err = serveCmd(ctx, args[1:])
	case "migrate":
		err = migrateCmd(ctx, args[1:])
	case "import":
		err = importCmd(ctx, args[1:])
	case "user":
		err = userCmd(ctx, args[1:])
	case "version", "--version", "-v":
		err = versionCmd()
	case "help", "-h", "--help":
		fmt.Print(usage)
		return 0
	default:
		fmt.Fprintf(os.Stderr, "commande inconnue : %q\n\n%s", args[0], usage)
		return 2
	}
	if err == nil {
		return 0
	}
	var exit exitError
	if errors.As(err, &exit) {
		return exit.code
	}
	if p, ok := problem.As(err); ok {
		fmt.Fprintln(os.Stderr, "erreur :", p.Message)
		return 1
	}
	fmt.Fprintln(os.Stderr, "erreur :", err)
	return 1
}

// exitError ends a command with a status and no further message (the
// command already said what happened).
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }
