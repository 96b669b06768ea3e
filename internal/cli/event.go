package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/client"
)

func (cc clientCommands) eventCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "event",
		Aliases: []string{"events"},
		Short:   "Send events to Herald and look them up",
	}
	cmd.AddCommand(cc.eventSendCmd(), cc.eventGetCmd())
	return cmd
}

type eventFlags struct {
	id, typ, project, source, subject, severity, data, dataFile, idempotencyKey, occurredAt string
	labels                                                                                  []string
}

// event builds the event from the flags.
func (f *eventFlags) event(cmd *cobra.Command) (client.EventInput, error) {
	ev := client.EventInput{ID: f.id, Type: f.typ, Project: f.project, Source: f.source, Subject: f.subject, Severity: f.severity}
	bad := func(format string, args ...any) error { return usagef(cmd.CommandPath(), format, args...) }
	if !herald.ValidSeverity(f.severity) {
		return ev, bad("--severity %q: use info, warning, critical or clear", f.severity)
	}
	for _, l := range f.labels {
		k, v, err := parseKV("label", l)
		if err != nil {
			return ev, bad("%v", err)
		}
		if ev.Labels == nil {
			ev.Labels = map[string]string{}
		}
		ev.Labels[k] = v
	}
	data := []byte(f.data)
	if f.dataFile != "" {
		b, err := readInput(cmd, f.dataFile)
		if err != nil {
			return ev, err
		}
		data = b
	}
	if data = bytes.TrimSpace(data); len(data) > 0 {
		if !json.Valid(data) || data[0] != '{' {
			return ev, bad("--data must be a JSON object, like '{\"tag\":\"v1\"}'")
		}
		ev.Data = json.RawMessage(data)
	}
	if f.occurredAt != "" {
		t, err := time.Parse(time.RFC3339, f.occurredAt)
		if err != nil {
			return ev, bad("--occurred-at %q: use an RFC 3339 time like 2025-01-02T15:04:05Z", f.occurredAt)
		}
		ev.OccurredAt = &t
	}
	return ev, nil
}

func (cc clientCommands) eventSendCmd() *cobra.Command {
	var f eventFlags
	cmd := &cobra.Command{
		Use:   "send --type TYPE [flags]",
		Short: "Send one event; prints its ID and how many deliveries it made",
		Example: `  herald event send --type image.pushed --project p1 --label env=prod --data '{"tag":"v1.2"}'
  herald event send --type alert.firing --severity critical --data-file alert.json`,
		Args: noArgs,
	}
	cmd.RunE = cc.run(func(s *session, _ []string) error {
		ev, err := f.event(cmd)
		if err != nil {
			return err
		}
		var opts []client.SendOption
		if f.idempotencyKey != "" {
			opts = append(opts, client.IdempotencyKey(f.idempotencyKey))
		}
		res, err := s.api.SendEvents(s.ctx, []client.EventInput{ev}, opts...)
		if err != nil {
			return err
		}
		if s.json {
			return printJSON(s.out, listJSON(res, ""))
		}
		t := newTable(s.out, "ID", "PROJECT", "DELIVERIES", "DUPLICATE")
		for _, r := range res {
			t.row(r.ID, projectName(r.Project), fmt.Sprint(r.Deliveries), yesNo(r.Duplicate))
		}
		if err := t.flush(); err != nil {
			return err
		}
		for _, r := range res {
			if r.Duplicate {
				fmt.Fprintf(s.errOut, "note: event %s was already stored; nothing new was delivered\n", r.ID)
			}
		}
		return nil
	})
	fs := cmd.Flags()
	fs.StringVar(&f.typ, "type", "", "event type, e.g. image.pushed")
	fs.StringVar(&f.project, "project", "", "project the event belongs to")
	fs.StringVar(&f.severity, "severity", "", "info, warning, critical or clear (default info)")
	fs.StringArrayVar(&f.labels, "label", nil, "label KEY=VALUE (repeatable)")
	fs.StringVar(&f.data, "data", "", "event data as a JSON object")
	fs.StringVar(&f.dataFile, "data-file", "", "read the event data from this file (\"-\" for stdin)")
	fs.StringVar(&f.id, "id", "", "event ID (default: Herald assigns one); the same ID in a project is stored once")
	fs.StringVar(&f.source, "source", "", "what sent the event, e.g. harbor")
	fs.StringVar(&f.subject, "subject", "", "what the event is about, e.g. library/nginx:1.27")
	fs.StringVar(&f.idempotencyKey, "idempotency-key", "", "send the Idempotency-Key header (like --id)")
	fs.StringVar(&f.occurredAt, "occurred-at", "", "when it happened, RFC 3339 (default: when Herald receives it)")
	_ = cmd.MarkFlagRequired("type")
	cmd.MarkFlagsMutuallyExclusive("data", "data-file")
	return cmd
}

func (cc clientCommands) eventGetCmd() *cobra.Command {
	var project string
	cmd := &cobra.Command{
		Use:   "get ID [--project P]",
		Short: "Show a stored event",
		Args:  exactArgs("ID"),
	}
	cmd.RunE = cc.run(func(s *session, args []string) error {
		ev, err := s.api.GetEvent(s.ctx, args[0], project)
		if err != nil {
			return withNotFoundHint(err, "herald delivery list --event "+args[0])
		}
		if s.json {
			return printJSON(s.out, ev)
		}
		f := newFields(s.out)
		f.add("ID", ev.ID)
		f.add("Type", ev.Type)
		f.add("Project", projectName(ev.Project))
		f.add("Source", orDash(ev.Source))
		f.add("Subject", orDash(ev.Subject))
		f.add("Severity", orDash(ev.Severity))
		labels := make([]string, 0, len(ev.Labels))
		for _, k := range slices.Sorted(maps.Keys(ev.Labels)) {
			labels = append(labels, k+"="+ev.Labels[k])
		}
		f.add("Labels", orDash(strings.Join(labels, ", ")))
		if ev.Message != "" {
			f.add("Message", ev.Message)
		}
		f.add("Occurred", fmtTime(ev.OccurredAt))
		f.add("Received", fmtTime(ev.ReceivedAt))
		if err := f.flush(); err != nil {
			return err
		}
		if len(ev.Data) > 0 {
			var buf bytes.Buffer
			if json.Indent(&buf, ev.Data, "", "  ") != nil {
				buf.Reset()
				buf.Write(ev.Data)
			}
			fmt.Fprintf(s.out, "Data:\n%s\n", buf.String())
		}
		return nil
	})
	cmd.Flags().StringVar(&project, "project", "", "the event's project (event IDs are unique per project)")
	return cmd
}

func (cc clientCommands) eventTypesCmd() *cobra.Command {
	var language string
	cmd := &cobra.Command{
		Use:   "event-types",
		Short: "List the event types webhooks can subscribe to",
		Args:  noArgs,
	}
	cmd.RunE = cc.run(func(s *session, _ []string) error {
		types, err := s.api.EventTypes(s.ctx)
		if err != nil {
			return err
		}
		if s.json {
			return printJSON(s.out, listJSON(types, ""))
		}
		t := newTable(s.out, "NAME", "CATEGORY", "SOURCE", "DESCRIPTION")
		for _, et := range types {
			desc := et.Description[language]
			if desc == "" {
				desc = et.Description["en"]
			}
			t.row(et.Name, orDash(et.Category), orDash(et.Source), orDash(desc))
		}
		return t.flush()
	})
	cmd.Flags().StringVar(&language, "language", "en", "language of the descriptions: en or zh-CN")
	return cmd
}
