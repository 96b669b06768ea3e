package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/client"
)

func (cc clientCommands) deliveryCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "delivery",
		Aliases: []string{"deliveries"},
		Short:   "Inspect the delivery log and retry deliveries",
	}
	cmd.AddCommand(cc.deliveryListCmd(), cc.deliveryGetCmd(), cc.deliveryRetryCmd())
	return cmd
}

func (cc clientCommands) deliveryListCmd() *cobra.Command {
	var (
		f            client.DeliveryFilter
		state        string
		since, until string
		all          bool
	)
	cmd := &cobra.Command{
		Use:     "list [flags]",
		Aliases: []string{"ls"},
		Short:   "List deliveries, newest first",
		Example: `  herald delivery list --webhook wh_123 --state failed --since 24h
  herald delivery list --event-type 'image.pushed' --all`,
		Args: noArgs,
	}
	cmd.RunE = cc.run(func(s *session, _ []string) error {
		filter := f
		filter.State = herald.State(state)
		if state != "" && !herald.ValidState(filter.State) {
			return s.usage("--state %q: use pending, retrying, succeeded, failed, cancelled or held", state)
		}
		var err error
		if since != "" {
			if filter.Since, err = parseTimeArg("since", since, cc.now()); err != nil {
				return s.usage("%v", err)
			}
		}
		if until != "" {
			if filter.Until, err = parseTimeArg("until", until, cc.now()); err != nil {
				return s.usage("%v", err)
			}
		}
		if filter.Limit < 0 {
			return s.usage("--limit must be positive")
		}
		var list []herald.Delivery
		next := ""
		if all {
			list, err = s.api.AllDeliveries(s.ctx, filter, 0)
		} else {
			var page *client.DeliveryPage
			if page, err = s.api.ListDeliveries(s.ctx, filter); err == nil {
				list, next = page.Data, page.NextCursor
			}
		}
		if err != nil {
			return err
		}
		if s.json {
			return printJSON(s.out, listJSON(list, next))
		}
		if len(list) == 0 {
			fmt.Fprintln(s.out, "No deliveries match.")
			return nil
		}
		t := newTable(s.out, "ID", "WEBHOOK", "EVENT TYPE", "STATE", "ATTEMPTS", "LAST RESULT", "NEXT ATTEMPT", "CREATED")
		for _, d := range list {
			t.row(d.ID, d.WebhookID, d.EventType, stateText(&d), fmt.Sprint(d.Attempts),
				lastResult(d.LastStatus, d.LastError), nextAttempt(&d), fmtTime(d.CreatedAt))
		}
		if err := t.flush(); err != nil {
			return err
		}
		if next != "" {
			fmt.Fprintf(s.errOut, "More deliveries: add --cursor %s (or --all).\n", next)
		}
		return nil
	})
	fs := cmd.Flags()
	fs.StringVar(&f.WebhookID, "webhook", "", "only this webhook's deliveries")
	fs.StringVar(&state, "state", "", "pending, retrying, succeeded, failed, cancelled or held")
	fs.StringVar(&f.EventType, "event-type", "", "only this event type")
	fs.StringVar(&f.EventID, "event", "", "only this event's deliveries")
	fs.StringVar(&since, "since", "", "created at or after: RFC 3339 time, date or duration ago (24h)")
	fs.StringVar(&until, "until", "", "created before: RFC 3339 time, date or duration ago")
	fs.IntVar(&f.Limit, "limit", 0, "page size (default: the server's, 50)")
	fs.StringVar(&f.Cursor, "cursor", "", "continue after a previous page")
	fs.BoolVar(&all, "all", false, "fetch every page")
	return cmd
}

func stateText(d *herald.Delivery) string {
	if d.Test {
		return string(d.State) + " (test)"
	}
	return string(d.State)
}

func lastResult(status int, errText string) string {
	switch {
	case status != 0 && errText != "":
		return fmt.Sprintf("%d %s", status, truncate(errText, 40))
	case status != 0:
		return fmt.Sprint(status)
	case errText != "":
		return truncate(errText, 40)
	}
	return "-"
}

func nextAttempt(d *herald.Delivery) string {
	if d.State != herald.StatePending && d.State != herald.StateRetrying {
		return "-"
	}
	return fmtTime(d.NextAttemptAt)
}

func (cc clientCommands) deliveryGetCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "get ID",
		Short: "Show a delivery and its attempts",
		Args:  exactArgs("ID"),
	}
	cmd.RunE = cc.run(func(s *session, args []string) error {
		d, err := s.api.GetDelivery(s.ctx, args[0])
		if err != nil {
			return withNotFoundHint(err, "herald delivery list")
		}
		if s.json {
			return printJSON(s.out, d)
		}
		f := newFields(s.out)
		f.add("ID", d.ID)
		f.add("Webhook", d.WebhookID)
		f.add("Event", d.EventID)
		f.add("Event type", d.EventType)
		f.add("Project", projectName(d.Project))
		f.add("State", stateText(&d.Delivery))
		f.add("Attempts", fmt.Sprint(d.Attempts))
		f.add("Last result", lastResult(d.LastStatus, d.LastError))
		f.add("Next attempt", nextAttempt(&d.Delivery))
		f.add("Created", fmtTime(d.CreatedAt))
		f.add("Updated", fmtTime(d.UpdatedAt))
		if err := f.flush(); err != nil {
			return err
		}
		if len(d.AttemptList) == 0 {
			fmt.Fprintln(s.out, "\nNo attempts yet.")
			return nil
		}
		fmt.Fprintln(s.out, "\nAttempts:")
		t := newTable(s.out, "#", "STARTED", "STATUS", "LATENCY", "ERROR / RESPONSE")
		for _, a := range d.AttemptList {
			detail := a.Error
			if detail == "" {
				detail = a.ResponseBody
			}
			t.row(fmt.Sprint(a.Number), fmtTime(a.StartedAt), fmtStatus(a.StatusCode),
				fmtMillis(a.Latency.Std()), orDash(truncate(strings.TrimSpace(detail), 80)))
		}
		return t.flush()
	})
	return cmd
}

func (cc clientCommands) deliveryRetryCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "retry ID",
		Short: "Queue a finished delivery again, due now",
		Args:  exactArgs("ID"),
	}
	cmd.RunE = cc.run(func(s *session, args []string) error {
		d, err := s.api.RetryDelivery(s.ctx, args[0])
		if err != nil {
			return withNotFoundHint(err, "herald delivery list")
		}
		if s.json {
			return printJSON(s.out, d)
		}
		fmt.Fprintf(s.out, "Delivery %s is queued again (state %s, due %s).\n", d.ID, d.State, fmtTime(d.NextAttemptAt))
		return nil
	})
	return cmd
}
