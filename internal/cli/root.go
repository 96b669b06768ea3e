// Package cli is Herald's command line: `herald serve`, `herald bench`, and
// client commands that talk to a running server over its API.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/herald-hq/herald"
)

// Main runs the command line with args and returns the process exit code.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := newRoot()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.msg != "" {
			fmt.Fprintln(stderr, "error:", ee.msg)
		}
		return ee.code
	}
	printError(stderr, err)
	return 1
}

// exitError ends the command with a given exit code.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

func newRoot() *cobra.Command { return newRootWithEnv(os.Getenv) }

// newRootWithEnv builds the command tree; client commands read HERALD_URL and
// HERALD_TOKEN through getenv (tests pass their own).
func newRootWithEnv(getenv func(string) string) *cobra.Command {
	root := &cobra.Command{
		Use:           "herald",
		Short:         "Herald: a self-hosted webhook notification server",
		Long:          "Herald receives events and delivers them to webhooks: durably, signed, retried and logged.\n\nRun the server with `herald serve`; manage it with the client commands (HERALD_URL, HERALD_TOKEN).",
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       herald.Version,
	}
	root.AddCommand(newServeCmd(), newBenchCmd(), newListenCmd())
	root.AddCommand(newSecretKeyCmd(getenv))
	clientCommands{getenv: getenv, isTerminal: isTerminal, now: time.Now}.add(root)
	return root
}
