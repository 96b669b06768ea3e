package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/client"
)

func (cc clientCommands) tokenCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "token",
		Aliases: []string{"tokens"},
		Short:   "Manage API tokens (platform admins)",
	}
	cmd.AddCommand(cc.tokenCreateCmd(), cc.tokenListCmd(), cc.tokenDeleteCmd())
	return cmd
}

var roles = []string{herald.RolePlatformAdmin, herald.RoleProjectAdmin, herald.RoleViewer, herald.RolePublisher}

func (cc clientCommands) tokenCreateCmd() *cobra.Command {
	var in client.TokenInput
	cmd := &cobra.Command{
		Use:   "create --name NAME --role ROLE [--project P]...",
		Short: "Create an API token and print it (shown once)",
		Example: `  herald token create --name ci --role publisher --project p1
  herald token create --name ops --role project-admin --project p1 --project p2`,
		Args: noArgs,
	}
	cmd.RunE = cc.run(func(s *session, _ []string) error {
		if !herald.ValidRole(in.Role) {
			return s.usage("--role %q: use one of %s", in.Role, strings.Join(roles, ", "))
		}
		t, err := s.api.CreateToken(s.ctx, in)
		if err != nil {
			return err
		}
		note := "Keep the token now: it will not be shown again. Use it as HERALD_TOKEN or in an Authorization: Bearer header."
		if s.json {
			fmt.Fprintln(s.errOut, note)
			return printJSON(s.out, t)
		}
		fmt.Fprintf(s.out, "Created token %s (%s, role %s, projects %s).\n\nToken: %s\n%s\n",
			t.ID, t.Name, t.Role, joinList(t.Projects, 1<<20), t.Secret, note)
		return nil
	})
	fs := cmd.Flags()
	fs.StringVar(&in.Name, "name", "", "what the token is for")
	fs.StringVar(&in.Role, "role", "", strings.Join(roles, ", "))
	fs.StringSliceVar(&in.Projects, "project", nil, "project the token may act on (repeatable; not for platform-admin)")
	_ = cmd.MarkFlagRequired("name")
	_ = cmd.MarkFlagRequired("role")
	return cmd
}

func (cc clientCommands) tokenListCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List API tokens (never their values)",
		Args:    noArgs,
	}
	cmd.RunE = cc.run(func(s *session, _ []string) error {
		list, err := s.api.ListTokens(s.ctx)
		if err != nil {
			return err
		}
		if s.json {
			return printJSON(s.out, listJSON(list, ""))
		}
		t := newTable(s.out, "ID", "NAME", "ROLE", "PROJECTS", "CREATED")
		for _, tok := range list {
			t.row(tok.ID, tok.Name, tok.Role, joinList(tok.Projects, 40), fmtTime(tok.CreatedAt))
		}
		return t.flush()
	})
	return cmd
}

func (cc clientCommands) tokenDeleteCmd() *cobra.Command {
	var yes bool
	cmd := &cobra.Command{
		Use:     "delete ID",
		Aliases: []string{"rm", "revoke"},
		Short:   "Revoke an API token (asks first unless --yes)",
		Args:    exactArgs("ID"),
	}
	cmd.RunE = cc.run(func(s *session, args []string) error {
		if err := s.confirm(yes, fmt.Sprintf("Revoke token %s? Clients using it will get 401.", args[0])); err != nil {
			return err
		}
		if err := s.api.DeleteToken(s.ctx, args[0]); err != nil {
			return withNotFoundHint(err, "herald token list")
		}
		if s.json {
			return printJSON(s.out, map[string]any{"id": args[0], "deleted": true})
		}
		fmt.Fprintf(s.out, "Revoked token %s.\n", args[0])
		return nil
	})
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation")
	return cmd
}
