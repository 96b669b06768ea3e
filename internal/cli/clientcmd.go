package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/herald-hq/herald/internal/client"
)

// clientCommands builds the client commands; its fields are what tests
// replace.
type clientCommands struct {
	getenv     func(string) string
	isTerminal func(io.Reader) bool
	now        func() time.Time
}

func (cc clientCommands) add(root *cobra.Command) {
	pf := root.PersistentFlags()
	pf.String("server", "", "Herald server URL (default $HERALD_URL, else "+client.DefaultURL+")")
	pf.String("token", "", "API bearer token (default $HERALD_TOKEN)")
	pf.Bool("json", false, "print the API's JSON instead of tables")
	for _, c := range []*cobra.Command{
		cc.webhookCmd(), cc.eventCmd(), cc.eventTypesCmd(), cc.deliveryCmd(), cc.tokenCmd(), cc.settingsCmd(),
	} {
		c.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
			return usagef(cmd.CommandPath(), "%v", err)
		})
		root.AddCommand(c)
	}
}

// newAPIClient returns a client for the server and token chosen by the
// --server and --token flags, else HERALD_URL and HERALD_TOKEN.
func newAPIClient(cmd *cobra.Command, getenv func(string) string) (*client.Client, error) {
	server, _ := cmd.Flags().GetString("server")
	if server == "" {
		server = getenv("HERALD_URL")
	}
	token, _ := cmd.Flags().GetString("token")
	if token == "" {
		token = getenv("HERALD_TOKEN")
	}
	c, err := client.New(server, token)
	if err != nil {
		return nil, usagef(cmd.CommandPath(), "%v; set HERALD_URL or --server", err)
	}
	return c, nil
}

// session is what a client command runs with.
type session struct {
	ctx    context.Context
	cmd    *cobra.Command
	api    *client.Client
	out    io.Writer
	errOut io.Writer
	json   bool
	cc     clientCommands
}

// run adapts a client command body to cobra's RunE.
func (cc clientCommands) run(fn func(s *session, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		api, err := newAPIClient(cmd, cc.getenv)
		if err != nil {
			return err
		}
		asJSON, _ := cmd.Flags().GetBool("json")
		return fn(&session{
			ctx: cmd.Context(), cmd: cmd, api: api,
			out: cmd.OutOrStdout(), errOut: cmd.ErrOrStderr(), json: asJSON, cc: cc,
		}, args)
	}
}

func (s *session) usage(format string, args ...any) error {
	return usagef(s.cmd.CommandPath(), format, args...)
}

func (s *session) warn(warnings []string) {
	for _, w := range warnings {
		fmt.Fprintln(s.errOut, "warning:", w)
	}
}

// confirm asks before a destructive action: --yes skips the question, and
// without a terminal to ask on the command refuses rather than guess.
func (s *session) confirm(yes bool, question string) error {
	if yes {
		return nil
	}
	in := s.cmd.InOrStdin()
	if !s.cc.isTerminal(in) {
		return s.usage("%s needs confirmation: pass --yes", s.cmd.CommandPath())
	}
	fmt.Fprintf(s.errOut, "%s [y/N] ", question)
	line, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return nil
	}
	return errors.New("cancelled: nothing was changed")
}

func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// exactArgs requires the command's one ID argument, naming it when missing.
func exactArgs(names ...string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < len(names) {
			return usagef(cmd.CommandPath(), "missing %s: %s %s", names[len(args)], cmd.CommandPath(), strings.Join(names, " "))
		}
		if len(args) > len(names) {
			return usagef(cmd.CommandPath(), "unexpected argument %q: %s takes %s", args[len(names)], cmd.CommandPath(), strings.Join(names, " "))
		}
		return nil
	}
}

func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usagef(cmd.CommandPath(), "unexpected argument %q", args[0])
	}
	return nil
}

// readInput reads a file, or standard input for "-".
func readInput(cmd *cobra.Command, path string) ([]byte, error) {
	if path == "-" {
		return io.ReadAll(cmd.InOrStdin())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, usagef(cmd.CommandPath(), "%v", err)
	}
	return b, nil
}

// parseKV parses "key=value" flag values; flag names the flag in errors.
func parseKV(flag, v string) (string, string, error) {
	k, val, ok := strings.Cut(v, "=")
	k = strings.TrimSpace(k)
	if !ok || k == "" {
		return "", "", fmt.Errorf("--%s %q: use key=value", flag, v)
	}
	return k, val, nil
}

// parseTimeArg reads a time flag: an RFC 3339 time, a date (UTC midnight), or
// a duration meaning that long ago ("24h", "30m").
func parseTimeArg(flag, v string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	if t, err := time.Parse("2006-01-02", v); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(v); err == nil && d > 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("--%s %q: use an RFC 3339 time (2025-01-02T15:04:05Z), a date (2025-01-02) or a duration ago (24h)", flag, v)
}

// changed reports whether the flag was given on the command line.
func changed(fs *pflag.FlagSet, name string) bool {
	f := fs.Lookup(name)
	return f != nil && f.Changed
}
