package cli

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"
)

func (cc clientCommands) webhookVerifyCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "verify ID",
		Short: "Run a webhook's ownership challenge now (GET url?crc_token=...)",
		Long:  "Run a webhook's ownership challenge now: Herald sends GET url?crc_token=<random> and expects\n{\"response_token\": \"sha256=...\"} made with the challenge secret within 5 s.\nExits with status 1 when the endpoint did not pass.",
		Args:  exactArgs("ID"),
	}
	cmd.RunE = cc.run(func(s *session, args []string) error {
		res, err := s.api.VerifyWebhook(s.ctx, args[0])
		if err != nil {
			return withNotFoundHint(err, "herald webhook list")
		}
		if s.json {
			if err := printJSON(s.out, res); err != nil {
				return err
			}
		} else {
			outcome := "passed"
			if !res.OK {
				outcome = "FAILED (" + res.Reason + ")"
			}
			fmt.Fprintf(s.out, "Ownership challenge %s\n", outcome)
			f := newFields(s.out)
			f.add("Status code", fmtStatus(res.StatusCode))
			f.add("Latency", fmtMillis(time.Duration(res.LatencyMS*float64(time.Millisecond))))
			if res.Error != "" {
				f.add("Error", res.Error)
			}
			if err := f.flush(); err != nil {
				return err
			}
		}
		if !res.OK {
			return &exitError{code: 1, msg: "the endpoint did not pass the ownership challenge: check its challenge secret and that it answers GET ?crc_token= within 5 s"}
		}
		return nil
	})
	return cmd
}

func (cc clientCommands) webhookRotateSecretCmd() *cobra.Command {
	var grace time.Duration
	cmd := &cobra.Command{
		Use:   "rotate-secret ID",
		Short: "Give a webhook a new signing secret (the old one keeps signing for --grace)",
		Long: `Give a webhook a new signing secret. It is shown once. During the grace period every
request carries two signatures (old and new secret), so the receiver can switch at its pace.`,
		Example: `  herald webhook rotate-secret wh_123
  herald webhook rotate-secret wh_123 --grace 1h
  herald webhook rotate-secret wh_123 --grace 0s   # stop signing with the old secret at once`,
		Args: exactArgs("ID"),
	}
	cmd.Flags().DurationVar(&grace, "grace", 24*time.Hour, "how long the previous secret keeps signing")
	cmd.RunE = cc.run(func(s *session, args []string) error {
		res, err := s.api.RotateSecret(s.ctx, args[0], &grace)
		if err != nil {
			return withNotFoundHint(err, "herald webhook list")
		}
		if s.json {
			return printJSON(s.out, res)
		}
		fmt.Fprintf(s.out, "New signing secret of %s (shown only now; store it in the receiver):\n\n  %s\n\n", res.WebhookID, res.SigningSecret)
		if res.PreviousSecretValidUntil != nil {
			fmt.Fprintf(s.out, "The previous secret keeps signing until %s.\n", fmtTime(*res.PreviousSecretValidUntil))
		} else {
			fmt.Fprintln(s.out, "The previous secret no longer signs.")
		}
		return nil
	})
	return cmd
}

func (cc clientCommands) webhookSecretCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "secret ID",
		Short: "Show a webhook's signing secret (recorded in the audit log)",
		Args:  exactArgs("ID"),
	}
	cmd.RunE = cc.run(func(s *session, args []string) error {
		res, err := s.api.SigningSecret(s.ctx, args[0])
		if err != nil {
			return withNotFoundHint(err, "herald webhook list")
		}
		if s.json {
			return printJSON(s.out, res)
		}
		fmt.Fprintln(s.out, res.SigningSecret)
		if res.PreviousSecretValidUntil != nil {
			fmt.Fprintf(s.errOut, "(a previous secret also signs until %s)\n", fmtTime(*res.PreviousSecretValidUntil))
		}
		return nil
	})
	return cmd
}
