package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/herald-hq/herald/internal/app"
	"github.com/herald-hq/herald/internal/bench"
)

func newBenchCmd() *cobra.Command {
	var o bench.Options
	var asJSON bool
	ceiling := true
	var cpuProfile string
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure Herald end to end on this machine (in-process server, loopback receiver)",
		Long: `Measure Herald end to end: an in-process Herald on a temporary database, a
loopback receiver, and clients posting events over the HTTP API.

  throughput  --events events from --clients clients, fanned out to --webhooks
              webhooks: ingest events/s and the p50/p99 response time of
              the POSTs while the deliveries run, deliveries/s end to end,
              peak RSS.
  latency     a steady --rate events/s for --duration, fan-out --fanout:
              p50/p95/p99 from POST to receipt.
  noisy       --hanging webhooks of one project point at an endpoint that
              never answers (timeout 5m), each with a backlog, while a healthy
              webhook of another project gets --rate events/s for --duration:
              the healthy webhook's p50/p99 from POST to receipt.
  backlog     --webhooks webhooks (10) point at a receiver that holds every
              request open, so the delivery workers are all busy and the
              rest waits in the store; --clients clients ingest --events
              events (100,000: 1,000,000 deliveries at 10 webhooks) as fast
              as they can. RSS and Go heap are sampled every 250 ms and
              given at 10, 25, 50, 75 and 100% of the backlog ingested, with
              the peak and RSS at 100% minus RSS at 10% (flat means small);
              then the receiver answers 204 to everything and the drain is
              reported: deliveries/s, peak RSS, and the time until every
              delivery arrived (duplicates counted).

"all" runs throughput and latency. Every event's JSON is about --payload-bytes
long (its data carries a "pad" field of filler). Before the throughput
scenario the bench measures a loopback ceiling: --clients clients posting
bodies of that size straight to a receiver like its own for
--ceiling-duration (3s), Herald out of the way. Deliveries/s are also given
as a ratio to that ceiling (--ceiling=false skips it).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.NoCeiling = !ceiling
			if o.PayloadBytes < 1 {
				return fmt.Errorf("--payload-bytes must be at least 1")
			}
			if o.Store == "postgres" && o.DatabaseURL == "" {
				o.DatabaseURL = os.Getenv("HERALD_DATABASE_URL")
				if o.DatabaseURL == "" {
					return fmt.Errorf("--store postgres needs --database-url or HERALD_DATABASE_URL")
				}
			}
			var bar *progressbar.ProgressBar
			var barLabel string
			// The bar is drawn only on a terminal: redirected, a run writes
			// its report and nothing else (no carriage-return lines).
			progress := func(done, total int64, label string) {
				if bar == nil || label != barLabel {
					if bar != nil {
						bar.Finish()
						fmt.Fprintln(cmd.ErrOrStderr())
					}
					barLabel = label
					bar = progressbar.NewOptions64(total, progressbar.OptionSetWriter(cmd.ErrOrStderr()),
						progressbar.OptionSetDescription(label), progressbar.OptionShowCount(),
						progressbar.OptionShowIts(), progressbar.OptionThrottle(100*time.Millisecond),
						progressbar.OptionSetWidth(30))
				}
				bar.Set64(done)
			}
			if writerIsTerminal(cmd.ErrOrStderr()) {
				o.Progress = progress
			}
			if cpuProfile != "" {
				f, err := os.Create(cpuProfile)
				if err != nil {
					return err
				}
				defer f.Close()
				if err := pprof.StartCPUProfile(f); err != nil {
					return err
				}
				defer pprof.StopCPUProfile()
			}
			// The same GC settings as herald serve, so the figures are the
			// server's (the load tool and receiver share them).
			app.TuneGC(os.Getenv)
			rep, err := bench.Run(cmd.Context(), o)
			if bar != nil {
				bar.Finish()
				fmt.Fprintln(cmd.ErrOrStderr())
			}
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(rep)
			}
			fmt.Fprintf(out, "machine: %s\n", rep.Machine)
			fmt.Fprintf(out, "store: %s, events of %d bytes\n", rep.Store, rep.PayloadBytes)
			if c := rep.Ceiling; c != nil {
				fmt.Fprintf(out, "loopback ceiling: %s requests/s (%d clients posting %d-byte bodies straight to the receiver, %s requests in %.1fs",
					bench.Thousands(c.RequestsPerSec), c.Clients, c.PayloadBytes, bench.Thousands(float64(c.Requests)), c.Seconds)
				if c.Before != nil && c.After != nil {
					fmt.Fprintf(out, "; the mean of %s before the run and %s after it", bench.Thousands(c.Before.RequestsPerSec), bench.Thousands(c.After.RequestsPerSec))
				}
				fmt.Fprintln(out, ")")
			}
			if t := rep.Throughput; t != nil {
				fmt.Fprintf(out, "throughput: %d events × %d webhooks = %d deliveries, %d clients, %d events/request\n",
					t.Events, t.Webhooks, t.Deliveries, t.Clients, t.Batch)
				fmt.Fprintf(out, "  sizes:       events %d bytes as posted, %d bytes as delivered\n", t.EventBytes, t.DeliveryBytes)
				fmt.Fprintf(out, "  ingest:      %s events/s (%.1fs), p50 %.1f ms, p99 %.1f ms per request\n",
					bench.Thousands(t.IngestPerSec), t.IngestSeconds, t.IngestP50MS, t.IngestP99MS)
				if c := rep.Ceiling; c != nil && t.CeilingRatio > 0 {
					fmt.Fprintf(out, "  end to end:  %s deliveries/s = %s× the loopback ceiling (%s requests/s); %.1fs, %d duplicates\n",
						bench.Thousands(t.DeliveriesPerSec), ratio(t.CeilingRatio), bench.Thousands(c.RequestsPerSec), t.EndToEndSeconds, t.Duplicates)
				} else {
					fmt.Fprintf(out, "  end to end:  %s deliveries/s (%.1fs), %d duplicates\n", bench.Thousands(t.DeliveriesPerSec), t.EndToEndSeconds, t.Duplicates)
				}
				fmt.Fprintf(out, "  peak RSS:    %.0f MB (by quarter of the run: %.0f MB)\n", t.PeakRSSMB, t.RSSMB)
				if t.HeraldCPUPerDeliveryMS > 0 {
					fmt.Fprintf(out, "  CPU:         %.3f ms per delivery for Herald (%.3f ms with the load tool and the receiver, less their share costed by the ceiling run)\n",
						t.HeraldCPUPerDeliveryMS, t.CPUPerDeliveryMS)
				} else {
					fmt.Fprintf(out, "  CPU:         %.3f ms per delivery (Herald, the load tool and the receiver)\n", t.CPUPerDeliveryMS)
				}
				if t.DatabaseCPUPerDeliveryMS > 0 {
					fmt.Fprintf(out, "               %.3f ms per delivery for the PostgreSQL server (its processes on this machine); %.3f ms server CPU in all\n",
						t.DatabaseCPUPerDeliveryMS, t.HeraldCPUPerDeliveryMS+t.DatabaseCPUPerDeliveryMS)
				}
				if d := t.Disk; d != nil {
					fmt.Fprintf(out, "  disk:        %.0f bytes per delivery beyond its event (attempts included), events %.0f bytes each; %s\n",
						d.DeliveryBytes, d.EventBytes, d)
				}
			}
			if l := rep.Latency; l != nil {
				fmt.Fprintf(out, "latency: %d events/s for %.0fs, fan-out %d (%d deliveries)\n", l.Rate, l.Seconds, l.Fanout, l.Deliveries)
				fmt.Fprintf(out, "  p50 %.1f ms   p95 %.1f ms   p99 %.1f ms   max %.1f ms   peak RSS %.0f MB\n", l.P50MS, l.P95MS, l.P99MS, l.MaxMS, l.PeakRSSMB)
			}
			if n := rep.Noisy; n != nil {
				fmt.Fprintf(out, "noisy: %d hanging webhooks (they held at most %d of %d workers); healthy webhook of another project: %d events/s for %.0fs (%d deliveries)\n",
					n.Hanging, n.HangingRequests, n.Workers, n.Rate, n.Seconds, n.Deliveries)
				fmt.Fprintf(out, "  healthy p50 %.1f ms   p99 %.1f ms   max %.1f ms\n", n.P50MS, n.P99MS, n.MaxMS)
			}
			if b := rep.Backlog; b != nil {
				printBacklog(out, b)
			}
			if rep.DataKept != "" {
				fmt.Fprintf(out, "data kept: %s (remove it when done)\n", rep.DataKept)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Scenario, "scenario", "all", "all (throughput and latency), throughput, latency, noisy or backlog")
	f.IntVar(&o.Events, "events", 100_000, "throughput and backlog: events to ingest")
	f.IntVar(&o.Webhooks, "webhooks", 10, "throughput and backlog: webhooks each event fans out to")
	f.IntVar(&o.Clients, "clients", 32, "throughput and backlog: concurrent API clients")
	f.IntVar(&o.Batch, "batch", 1, "throughput and backlog: events per POST /events request")
	f.IntVar(&o.Rate, "rate", 500, "latency: events per second")
	f.DurationVar(&o.Duration, "duration", 20*time.Second, "latency: how long to send")
	f.IntVar(&o.Fanout, "fanout", 2, "latency: webhooks each event fans out to")
	f.IntVar(&o.Hanging, "hanging", 20, "noisy: webhooks of the noisy project whose endpoint hangs")
	f.IntVar(&o.PayloadBytes, "payload-bytes", 1024, "size of each event's JSON in bytes (its data is padded to it)")
	f.BoolVar(&ceiling, "ceiling", true, "measure the loopback ceiling (clients straight to the receiver) and give deliveries/s as a ratio to it")
	f.DurationVar(&o.CeilingDuration, "ceiling-duration", 3*time.Second, "how long the loopback ceiling is measured")
	f.StringVar(&o.Store, "store", "sqlite", "sqlite or postgres")
	f.StringVar(&o.DatabaseURL, "database-url", "", "PostgreSQL DSN for --store postgres (default $HERALD_DATABASE_URL)")
	f.BoolVar(&o.KeepData, "keep-data", false, "leave each run's data directory (or PostgreSQL schema) in place and print where")
	f.BoolVar(&asJSON, "json", false, "print the report as JSON")
	f.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the run to this file (go tool pprof)")
	return cmd
}

// printBacklog writes the backlog scenario's lines of the text report.
func printBacklog(out io.Writer, b *bench.Backlog) {
	fmt.Fprintf(out, "backlog: %d events × %d webhooks = %s deliveries waiting behind a receiver that holds every request (it held %d at once; %d workers), %d clients, %d events/request\n",
		b.Events, b.Webhooks, bench.Thousands(float64(b.Deliveries)), b.HeldPeak, b.Workers, b.Clients, b.Batch)
	fmt.Fprintf(out, "  ingest:      %s events/s (%.1fs), p50 %.1f ms, p99 %.1f ms per request; %s deliveries pending in the store after the last event\n",
		bench.Thousands(b.IngestPerSec), b.IngestSeconds, b.IngestP50MS, b.IngestP99MS, bench.Thousands(float64(b.Pending)))
	var rss, heap []string
	for _, p := range b.Points {
		rss = append(rss, fmt.Sprintf("%d%% %.0f", p.Percent, p.RSSMB))
		heap = append(heap, fmt.Sprintf("%.0f", p.HeapMB))
	}
	fmt.Fprintf(out, "  memory:      RSS %s MB by share of the backlog ingested (heap in use %s MB); peak RSS %.0f MB, heap %.0f MB\n",
		strings.Join(rss, ", "), strings.Join(heap, ", "), b.PeakRSSMB, b.PeakHeapMB)
	fmt.Fprintf(out, "  growth:      RSS %+.1f MB from 10%% to 100%% of the backlog (heap %+.1f MB)\n", b.RSSGrowthMB, b.HeapGrowthMB)
	fmt.Fprintf(out, "  drain:       %s deliveries/s; every delivery arrived %.1fs after the release (%s arrived, %d duplicates); peak RSS %.0f MB\n",
		bench.Thousands(b.DrainPerSec), b.DrainSeconds, bench.Thousands(float64(b.Arrived)), b.Duplicates, b.DrainPeakRSSMB)
	if b.EarlyAnswers > 0 {
		fmt.Fprintf(out, "  note:        the receiver answered %d requests before the release, having held each for the longest it may (under the webhooks' 5m timeout)\n", b.EarlyAnswers)
	}
}

// ratio prints a ratio to the ceiling with two significant digits at least
// (0.24, 0.031).
func ratio(r float64) string {
	if r < 0.1 {
		return fmt.Sprintf("%.3f", r)
	}
	return fmt.Sprintf("%.2f", r)
}
