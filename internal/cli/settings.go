package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/herald-hq/herald/internal/client"
)

func (cc clientCommands) settingsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "settings",
		Short: "Show or change the global switches (platform admins)",
	}
	cmd.AddCommand(cc.settingsGetCmd(), cc.settingsSetCmd())
	return cmd
}

func (cc clientCommands) settingsGetCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "get",
		Short: "Show the global settings",
		Args:  noArgs,
	}
	cmd.RunE = cc.run(func(s *session, _ []string) error {
		st, err := s.api.GetSettings(s.ctx)
		if err != nil {
			return err
		}
		return printSettings(s, st)
	})
	return cmd
}

func (cc clientCommands) settingsSetCmd() *cobra.Command {
	var webhooksEnabled, httpsOnly bool
	cmd := &cobra.Command{
		Use:   "set [--webhooks-enabled=true|false] [--https-only=true|false]",
		Short: "Change global settings: only the flags given change",
		Long: `Change global settings: only the flags given change.

--webhooks-enabled=false holds every delivery (state held) until it is switched
on again; nothing is lost. --https-only=true refuses webhook URLs that are not
https when they are saved, and disables the existing webhooks whose URL is
http (reason "https_only is on"; they are listed): give them an https URL to
enable them again.`,
		Args: noArgs,
	}
	cmd.RunE = cc.run(func(s *session, _ []string) error {
		var p client.SettingsPatch
		if changed(cmd.Flags(), "webhooks-enabled") {
			p.WebhooksEnabled = &webhooksEnabled
		}
		if changed(cmd.Flags(), "https-only") {
			p.HTTPSOnly = &httpsOnly
		}
		if p == (client.SettingsPatch{}) {
			return s.usage("nothing to change: give --webhooks-enabled or --https-only")
		}
		st, err := s.api.UpdateSettings(s.ctx, p)
		if err != nil {
			return err
		}
		return printSettings(s, st)
	})
	cmd.Flags().BoolVar(&webhooksEnabled, "webhooks-enabled", true, "deliver webhooks (false holds every delivery)")
	cmd.Flags().BoolVar(&httpsOnly, "https-only", false, "refuse webhook URLs that are not https")
	return cmd
}

func printSettings(s *session, st *client.Settings) error {
	if s.json {
		return printJSON(s.out, st)
	}
	f := newFields(s.out)
	f.add("Webhooks enabled", yesNo(st.WebhooksEnabled))
	f.add("HTTPS only", yesNo(st.HTTPSOnly))
	f.add("Held deliveries", fmt.Sprint(st.Held))
	if err := f.flush(); err != nil {
		return err
	}
	if n := len(st.DisabledWebhooks); n > 0 {
		fmt.Fprintf(s.errOut, "note: https_only is on: %d http webhooks were disabled; give them an https URL to enable them again (`herald webhook update ID --url https://... --disabled=false`):\n", n)
		for _, w := range st.DisabledWebhooks {
			fmt.Fprintf(s.errOut, "  %s  %s  %s\n", w.ID, orDash(w.Name), w.URL)
		}
	}
	if !st.WebhooksEnabled {
		fmt.Fprintln(s.errOut, "note: deliveries are held until `herald settings set --webhooks-enabled=true`")
	}
	return nil
}
