package web

import (
	"strings"
	"testing"
)

// Y-axis labels never repeat, and a count axis shows whole numbers only,
// whatever the top niceMax picks (a quiet hour has 1 or 2 deliveries a step).
func TestYTicksAreDistinct(t *testing.T) {
	for _, n := range []float64{0, 1, 2, 3, 4, 5, 7, 10, 15, 20, 45, 50, 100, 180, 200, 500, 1000, 5000} {
		top := niceMax(n)
		for _, whole := range []bool{true, false} {
			c := newChart("t")
			c.yTicks(top, whole, tickText(""))
			seen := map[string]bool{}
			for _, tk := range c.YTicks {
				if seen[tk.Text] {
					t.Fatalf("top %v (whole %v): label %q twice in %v", top, whole, tk.Text, c.YTicks)
				}
				seen[tk.Text] = true
				if whole && strings.Contains(tk.Text, ".") {
					t.Fatalf("top %v: count label %q is not a whole number", top, tk.Text)
				}
			}
			if last := c.YTicks[len(c.YTicks)-1].Text; last != tickText("")(top) {
				t.Fatalf("top %v: last label %q", top, last)
			}
		}
	}
	c := newChart("latency")
	c.yTicks(niceMax(0.1), false, tickText(" ms"))
	if got := c.YTicks[1].Text; got != "0.025 ms" {
		t.Fatalf("a 0.1 ms axis: first step %q", got)
	}
}
