package web

import (
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/service"
)

// listQuery is the webhook list's filter and order (query parameters).
type listQuery struct {
	Project string // "" all; "-" the platform's
	State   string // "" all, enabled, disabled, failing
	Text    string // in the name or URL, any case
	Sort    string // "" by name, failing (failing first, then by success rate)
}

func parseListQuery(r *http.Request) listQuery {
	q := r.URL.Query()
	l := listQuery{Project: q.Get("project"), Text: strings.TrimSpace(q.Get("q"))}
	switch s := q.Get("state"); s {
	case "enabled", "disabled", "failing":
		l.State = s
	}
	if q.Get("sort") == "failing" {
		l.Sort = "failing"
	}
	return l
}

// Active reports whether any filter is set.
func (l listQuery) Active() bool { return l.Project != "" || l.State != "" || l.Text != "" }

func (l listQuery) keep(row webhookRow) bool {
	w := row.W
	switch {
	case l.Project == "-" && w.Project != "":
		return false
	case l.Project != "" && l.Project != "-" && w.Project != l.Project:
		return false
	}
	switch l.State {
	case "enabled":
		if !w.Enabled {
			return false
		}
	case "disabled":
		if w.Enabled {
			return false
		}
	case "failing":
		if !row.failing() {
			return false
		}
	}
	if l.Text != "" {
		t := strings.ToLower(l.Text)
		if !strings.Contains(strings.ToLower(w.Name), t) && !strings.Contains(strings.ToLower(w.URL), t) {
			return false
		}
	}
	return true
}

// failing: failing since some time, or failures in the last 24 hours.
func (row webhookRow) failing() bool {
	return row.W.FailingSince != nil || row.Health.Failed > 0
}

// arrange filters and orders rows: failing first (failing since the
// earliest, then by success rate) when asked, else by name.
func (l listQuery) arrange(rows []webhookRow) []webhookRow {
	rows = slices.DeleteFunc(rows, func(r webhookRow) bool { return !l.keep(r) })
	slices.SortStableFunc(rows, func(a, b webhookRow) int {
		if l.Sort == "failing" {
			if fa, fb := a.failing(), b.failing(); fa != fb {
				if fa {
					return -1
				}
				return 1
			}
			if a.W.FailingSince != nil && b.W.FailingSince != nil && !a.W.FailingSince.Equal(*b.W.FailingSince) {
				return a.W.FailingSince.Compare(*b.W.FailingSince)
			}
			if ra, rb := a.Health.SuccessRate(), b.Health.SuccessRate(); ra != rb {
				if ra < rb {
					return -1
				}
				return 1
			}
		}
		return strings.Compare(strings.ToLower(a.W.Name), strings.ToLower(b.W.Name))
	})
	return rows
}

// projects returns the projects of the webhooks, for the filter.
func projectsOf(ws []*herald.Webhook) []string {
	var out []string
	for _, w := range ws {
		if w.Project != "" && !slices.Contains(out, w.Project) {
			out = append(out, w.Project)
		}
	}
	slices.Sort(out)
	return out
}

// pct writes a success rate: whole percent, one decimal below 100 and
// above 99 (99.6 %, not a rounded 100 %).
func pct(f float64) string {
	if f < 100 && f >= 99 {
		return strconv.FormatFloat(f-0.05, 'f', 1, 64) + "%"
	}
	return strconv.FormatFloat(f, 'f', 0, 64) + "%"
}

func durMS(d time.Duration) string {
	if d >= 10*time.Second {
		return strconv.FormatFloat(d.Seconds(), 'f', 0, 64) + " s"
	}
	if d >= time.Second {
		return strconv.FormatFloat(d.Seconds(), 'f', 1, 64) + " s"
	}
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 0, 64) + " ms"
}

// svgChart is a server-rendered chart: geometry computed here, drawn by
// overview.html as SVG (no script, no inline style: classes from app.css).
type svgChart struct {
	Title  string
	W, H   int
	Left   int // plot area's left edge (room for the y labels)
	Bottom int // plot area's bottom edge
	Bars   []svgBar
	Lines  []svgLine
	YTicks []svgTick
	XTicks []svgTick
	Empty  bool
	// Table is the same data as text, for screen readers and without SVG.
	Head []string
	Rows []chartRow
	// AtFmt is how app.js writes the times of the axis, the bars' titles
	// and the table in the browser's time zone: "hm" (15:04) or "mdhm"
	// (01-02 15:04). The page carries them in UTC, labelled so.
	AtFmt string
}

type svgBar struct {
	X, Y, W, H float64
	Class      string
	// Title is the tooltip: the time (At, RFC 3339; AtText in UTC) and
	// TitleRest after it.
	At, AtText, TitleRest string
}

// chartRow is one row of a chart's table: its time (as svgBar's) and the
// other cells.
type chartRow struct {
	At, AtText, UTC string
	Cells           []string
}

type svgLine struct {
	Points string
	Class  string
	Label  string
}

type svgTick struct {
	Pos  float64
	Text string
	// At is the time of an x tick (RFC 3339) and UTC its full UTC text
	// (hover); "" for y ticks.
	At, UTC string
	// End: the label ends at Pos (the chart's right edge) instead of
	// being centred on it.
	End bool
}

const (
	chartW, chartH           = 720, 220
	chartLeft, chartRight    = 56, 8
	chartTop, chartBottomPad = 10, 24
)

func newChart(title string) *svgChart {
	return &svgChart{Title: title, W: chartW, H: chartH, Left: chartLeft, Bottom: chartH - chartBottomPad}
}

func (c *svgChart) plotW() float64 { return float64(chartW - chartLeft - chartRight) }
func (c *svgChart) plotH() float64 { return float64(c.Bottom - chartTop) }

// niceMax rounds v up to 1, 2 or 5 times a power of ten.
func niceMax(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := 1.0
	for p*10 <= v {
		p *= 10
	}
	for p > v {
		p /= 10
	}
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

// yTicks puts labels from 0 to max up the y axis, in four steps. A count
// axis (whole) steps by whole numbers: one per number up to 5, else four
// or five equal whole steps (niceMax gives 1, 2 or 5 times a power of ten),
// so no two labels read the same and none reads "1.25" deliveries.
func (c *svgChart) yTicks(top float64, whole bool, label func(float64) string) {
	steps := 4
	switch {
	case !whole:
	case top <= 5:
		steps = max(1, int(top))
	case math.Mod(top, 4) != 0:
		steps = 5
	}
	for i := 0; i <= steps; i++ {
		v := top * float64(i) / float64(steps)
		c.YTicks = append(c.YTicks, svgTick{Pos: float64(c.Bottom) - c.plotH()*float64(i)/float64(steps), Text: label(v)})
	}
}

// tickText writes a tick's value to three decimals at most (a latency
// axis of 0.1 ms has quarter steps), then unit.
func tickText(unit string) func(float64) string {
	return func(v float64) string {
		return strconv.FormatFloat(math.Round(v*1000)/1000, 'f', -1, 64) + unit
	}
}

// isoTime is t in RFC 3339, UTC: what app.js reads to write t in the
// browser's time zone.
func isoTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func (c *svgChart) xTicks(o *service.Overview, fmtAt func(time.Time) string) {
	n := len(o.Buckets)
	for _, i := range []int{0, n / 4, n / 2, 3 * n / 4, n - 1} {
		if i < 0 || i >= n {
			continue
		}
		at := o.Buckets[i].At
		tick := svgTick{Pos: float64(c.Left) + c.plotW()*(float64(i)+0.5)/float64(n), Text: fmtAt(at), At: isoTime(at), UTC: fmtTime(at)}
		if i == n-1 && n > 1 { // the last label ends at its tick: centred, it would run past the edge
			tick.Pos, tick.End = float64(c.W), true
		}
		c.XTicks = append(c.XTicks, tick)
	}
}

type overviewData struct {
	O        *service.Overview
	Windows  []service.OverviewWindow
	Volume   *svgChart
	Rate     *svgChart
	Latency  *svgChart
	Total    int
	Failed   int
	Rate24   string
	StepText string
}

func (c *Console) overview(w http.ResponseWriter, r *http.Request, rq *request) error {
	win := service.OverviewWindows[1]
	if v := r.URL.Query().Get("window"); v != "" {
		i := slices.IndexFunc(service.OverviewWindows, func(o service.OverviewWindow) bool { return o.Name == v })
		if i < 0 {
			return herald.Invalid("window", "window must be one of 1h, 24h, 7d")
		}
		win = service.OverviewWindows[i]
	}
	o, err := c.svc.Overview(r.Context(), rq.p, win)
	if err != nil {
		return err
	}
	steps := map[string]string{"1h": rq.T("overview.step.1h"), "24h": rq.T("overview.step.24h"), "7d": rq.T("overview.step.7d")}
	d := &overviewData{O: o, Windows: service.OverviewWindows, StepText: steps[win.Name]}
	// The page writes times in UTC ("15:04 UTC"); app.js rewrites them in
	// the browser's time zone (AtFmt).
	layout, atFmt := "15:04 UTC", "hm"
	if win.Length > 24*time.Hour {
		layout, atFmt = "01-02 15:04 UTC", "mdhm"
	}
	fmtAt := func(t time.Time) string { return t.UTC().Format(layout) }

	// Deliveries per step, succeeded and failed stacked.
	vol := newChart(rq.T("overview.chart.volume", d.StepText))
	rate := newChart(rq.T("overview.chart.rate"))
	lat := newChart(rq.T("overview.chart.latency"))
	maxN, maxL := 0, time.Duration(0)
	for _, b := range o.Buckets {
		maxN = max(maxN, b.Succeeded+b.Failed)
		maxL = max(maxL, b.P99)
		d.Total += b.Succeeded + b.Failed
		d.Failed += b.Failed
	}
	d.Rate24 = pct(service.WebhookHealth{Succeeded: d.Total - d.Failed, Failed: d.Failed}.SuccessRate())
	n := len(o.Buckets)
	slot := vol.plotW() / float64(n)
	top := niceMax(float64(maxN))
	vol.yTicks(top, true, tickText(""))
	vol.Head = []string{rq.T("overview.col.time"), rq.T("state.succeeded"), rq.T("state.failed")}
	var ratePts, p50, p95, p99 []string
	latTop := niceMax(float64(maxL) / float64(time.Millisecond))
	rate.yTicks(100, false, tickText("%"))
	lat.yTicks(latTop, false, tickText(" ms"))
	rate.Head = []string{rq.T("overview.col.time"), rq.T("overview.col.rate")}
	lat.Head = []string{rq.T("overview.col.time"), "p50", "p95", "p99"}
	y := func(ch *svgChart, v, top float64) float64 { return float64(ch.Bottom) - ch.plotH()*v/top }
	for i, b := range o.Buckets {
		x := float64(vol.Left) + slot*float64(i)
		cx := x + slot/2
		at := fmtAt(b.At)
		row := func(cells ...string) chartRow {
			return chartRow{At: isoTime(b.At), AtText: at, UTC: fmtTime(b.At), Cells: cells}
		}
		if total := b.Succeeded + b.Failed; total > 0 {
			hs := vol.plotH() * float64(b.Succeeded) / top
			hf := vol.plotH() * float64(b.Failed) / top
			bw := max(slot*0.8, 1)
			rest := fmt.Sprintf(": %d / %d", b.Succeeded, b.Failed)
			vol.Bars = append(vol.Bars,
				svgBar{X: x + slot*0.1, Y: float64(vol.Bottom) - hs, W: bw, H: hs, Class: "ok", At: isoTime(b.At), AtText: at, TitleRest: rest},
				svgBar{X: x + slot*0.1, Y: float64(vol.Bottom) - hs - hf, W: bw, H: hf, Class: "bad", At: isoTime(b.At), AtText: at, TitleRest: rest})
			vol.Rows = append(vol.Rows, row(strconv.Itoa(b.Succeeded), strconv.Itoa(b.Failed)))
			r := service.WebhookHealth{Succeeded: b.Succeeded, Failed: b.Failed}.SuccessRate()
			ratePts = append(ratePts, fmt.Sprintf("%.1f,%.1f", cx, y(rate, r, 100)))
			rate.Rows = append(rate.Rows, row(pct(r)))
		}
		if b.Latencies > 0 {
			ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
			p50 = append(p50, fmt.Sprintf("%.1f,%.1f", cx, y(lat, ms(b.P50), latTop)))
			p95 = append(p95, fmt.Sprintf("%.1f,%.1f", cx, y(lat, ms(b.P95), latTop)))
			p99 = append(p99, fmt.Sprintf("%.1f,%.1f", cx, y(lat, ms(b.P99), latTop)))
			lat.Rows = append(lat.Rows, row(durMS(b.P50), durMS(b.P95), durMS(b.P99)))
		}
	}
	rate.Lines = []svgLine{{Points: strings.Join(ratePts, " "), Class: "line-ok", Label: rq.T("overview.col.rate")}}
	lat.Lines = []svgLine{
		{Points: strings.Join(p50, " "), Class: "line-p50", Label: "p50"},
		{Points: strings.Join(p95, " "), Class: "line-p95", Label: "p95"},
		{Points: strings.Join(p99, " "), Class: "line-p99", Label: "p99"},
	}
	for _, ch := range []*svgChart{vol, rate, lat} {
		ch.AtFmt = atFmt
		ch.xTicks(o, fmtAt)
		ch.Empty = len(ch.Rows) == 0
	}
	d.Volume, d.Rate, d.Latency = vol, rate, lat
	return c.render(w, r, rq, http.StatusOK, "overview", "overview.title", "overview", d)
}
