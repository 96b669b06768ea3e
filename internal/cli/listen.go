package cli

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/signing"
)

// listenMaxBody is the most of a request body `herald listen` reads and
// prints; the rest is counted, not kept.
const listenMaxBody = 4 << 20

// listenOptions are the flags of `herald listen`.
type listenOptions struct {
	addr            string
	secret          string
	challengeSecret string
	status          int
	color           string
}

func newListenCmd() *cobra.Command {
	var o listenOptions
	cmd := &cobra.Command{
		Use:   "listen",
		Short: "Run a local webhook receiver that prints each delivery and checks its signature",
		Long: `Run a local webhook receiver that prints each delivery: its event type and
id, the headers that matter, the body (pretty-printed when it is JSON) and
whether its signature verified against --secret (the webhook's signing secret,
see ` + "`herald webhook secret ID`" + `). It answers every delivery with --status
(200 by default; --status 500 lets you watch Herald retry) and, with
--challenge-secret, answers Herald's ownership challenge (GET ?crc_token=...).

Herald's SSRF guard refuses loopback targets: start the server with
HERALD_ALLOW_CIDRS=127.0.0.0/8 to deliver to this receiver. Ctrl-C stops it.`,
		Example: `  herald listen --secret whsec_...
  herald listen --addr 127.0.0.1:9001 --status 500`,
		Args: noArgs,
	}
	fs := cmd.Flags()
	fs.StringVar(&o.addr, "addr", "127.0.0.1:9000", "address to listen on")
	fs.StringVar(&o.secret, "secret", "", "the webhook's signing secret (whsec_...) to verify signatures with; empty: not checked")
	fs.StringVar(&o.challengeSecret, "challenge-secret", "", "answer the ownership challenge (GET ?crc_token=...) with this secret")
	fs.IntVar(&o.status, "status", http.StatusOK, "HTTP status to answer deliveries with (e.g. 500 to try retries)")
	fs.StringVar(&o.color, "color", "auto", "colour the output: auto (only on a terminal, unless NO_COLOR is set), always or never")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if o.status < 200 || o.status > 599 {
			return usagef(cmd.CommandPath(), "--status %d: use an HTTP status from 200 to 599", o.status)
		}
		if o.secret != "" {
			if _, err := signing.DecodeSecret(o.secret); err != nil {
				return usagef(cmd.CommandPath(), "--secret: %v (use the webhook's signing secret, whsec_...)", err)
			}
		}
		var colored bool
		switch o.color {
		case "auto":
			colored = writerIsTerminal(cmd.OutOrStdout()) && os.Getenv("NO_COLOR") == ""
		case "always":
			colored = true
		case "never":
		default:
			return usagef(cmd.CommandPath(), "--color %q: use auto, always or never", o.color)
		}
		ln, err := net.Listen("tcp", o.addr)
		if err != nil {
			return usagef(cmd.CommandPath(), "--addr %s: %v", o.addr, err)
		}
		return runListen(cmd.Context(), ln, o, cmd.OutOrStdout(), colored, time.Now)
	}
	return cmd
}

func writerIsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// runListen serves ln until ctx ends, printing to out.
func runListen(ctx context.Context, ln net.Listener, o listenOptions, out io.Writer, colored bool, now func() time.Time) error {
	l := &listener{o: o, out: out, colored: colored, now: now}
	check := "signatures are checked with --secret"
	if o.secret == "" {
		check = "signatures are not checked (pass --secret whsec_... to check them)"
	}
	url := "http://" + ln.Addr().String()
	fmt.Fprintf(out, "Listening on %s: %s; answering %d. Ctrl-C stops.\n", url, check, o.status)
	fmt.Fprintf(out, "Point a webhook here: herald webhook create --url %s --event-type '*'\n", url)
	fmt.Fprintln(out, "(the server needs HERALD_ALLOW_CIDRS=127.0.0.0/8 to deliver to a loopback address)")
	srv := &http.Server{Handler: l, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := srv.Shutdown(shutCtx)
	<-done
	l.mu.Lock()
	noun := "deliveries"
	if l.count == 1 {
		noun = "delivery"
	}
	fmt.Fprintf(out, "Stopped after %d %s.\n", l.count, noun)
	l.mu.Unlock()
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}

type listener struct {
	o       listenOptions
	out     io.Writer
	colored bool
	now     func() time.Time

	mu    sync.Mutex // serialises printing: deliveries may arrive at once
	count int
}

const (
	ansiReset = "\x1b[0m"
	ansiBold  = "\x1b[1m"
	ansiDim   = "\x1b[2m"
	ansiRed   = "\x1b[31m"
	ansiGreen = "\x1b[32m"
	ansiYell  = "\x1b[33m"
)

func (l *listener) paint(code, s string) string {
	if !l.colored {
		return s
	}
	return code + s + ansiReset
}

// listenHeaders are the request headers a delivery is printed with, in order.
var listenHeaders = []string{"Webhook-Id", "Webhook-Timestamp", "Webhook-Signature", "Content-Type", "User-Agent", herald.HopsHeader}

func (l *listener) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if crc := r.URL.Query().Get("crc_token"); r.Method == http.MethodGet && crc != "" {
		l.challenge(w, crc)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, listenMaxBody))
	extra, _ := io.Copy(io.Discard, r.Body)
	var b strings.Builder
	at := l.now()
	etype, eid := eventOf(body)
	fmt.Fprintf(&b, "\n%s %s %s  %s\n", l.paint(ansiDim, at.Format("15:04:05")), r.Method, sanitizeLine(r.URL.RequestURI()),
		l.paint(ansiBold, "event "+orDash(etype)+" "+orDash(eid)))
	for _, name := range listenHeaders {
		v := r.Header.Get(name)
		if v == "" {
			continue
		}
		if name == "Webhook-Timestamp" {
			if unix, err := strconv.ParseInt(v, 10, 64); err == nil {
				v += " (" + time.Unix(unix, 0).UTC().Format(time.RFC3339) + ")"
			}
		}
		fmt.Fprintf(&b, "  %-18s %s\n", strings.ToLower(name)+":", sanitizeLine(v))
	}
	fmt.Fprintf(&b, "  %-18s %s\n", "signature:", l.verify(r, body, at))
	switch {
	case err != nil:
		fmt.Fprintf(&b, "  body: could not be read: %v\n", err)
	case len(body) == 0:
		fmt.Fprintln(&b, "  body: (empty)")
	default:
		fmt.Fprintln(&b, indentBody(body))
		if extra > 0 {
			fmt.Fprintf(&b, "  ... %d more bytes not shown\n", extra)
		}
	}
	code := l.o.status
	status := fmt.Sprintf("answered %d", code)
	if code >= 300 {
		status = l.paint(ansiYell, status+" (--status): Herald will retry or fail the delivery")
	}
	fmt.Fprintf(&b, "  %s\n", status)

	l.mu.Lock()
	l.count++
	_, _ = io.WriteString(l.out, b.String())
	l.mu.Unlock()

	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(code)
	fmt.Fprintf(w, "herald listen: %d\n", code)
}

// verify says whether r's signature verifies with --secret.
func (l *listener) verify(r *http.Request, body []byte, now time.Time) string {
	if l.o.secret == "" {
		return l.paint(ansiDim, "not checked (no --secret)")
	}
	err := signing.Verify(l.o.secret, r.Header.Get("Webhook-Id"), r.Header.Get("Webhook-Timestamp"), r.Header.Get("Webhook-Signature"), body, now, 0)
	if err != nil {
		return l.paint(ansiRed, "NOT VERIFIED: "+err.Error())
	}
	return l.paint(ansiGreen, "verified")
}

// challenge answers Herald's ownership challenge when --challenge-secret is
// given: {"response_token": "sha256=" + base64(HMAC-SHA256(secret, crc))}.
func (l *listener) challenge(w http.ResponseWriter, crc string) {
	var line string
	if l.o.challengeSecret == "" {
		line = l.paint(ansiYell, "ownership challenge received: not answered (pass --challenge-secret to answer it)")
		http.Error(w, "herald listen: no --challenge-secret", http.StatusBadRequest)
	} else {
		m := hmac.New(sha256.New, []byte(l.o.challengeSecret))
		m.Write([]byte(crc))
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"response_token": "sha256=" + base64.StdEncoding.EncodeToString(m.Sum(nil))})
		line = l.paint(ansiGreen, "ownership challenge answered")
	}
	l.mu.Lock()
	fmt.Fprintf(l.out, "\n%s GET ?crc_token=...  %s\n", l.paint(ansiDim, l.now().Format("15:04:05")), line)
	l.mu.Unlock()
}

// eventOf returns the event type and id of a JSON body with top-level "type"
// and "id" strings (the standard, CloudEvents and Harbor formats), else the
// Alertmanager or Netdata equivalents when present.
func eventOf(body []byte) (typ, id string) {
	var v map[string]any
	if json.Unmarshal(body, &v) != nil {
		return "", ""
	}
	str := func(k string) string { s, _ := v[k].(string); return s }
	typ, id = str("type"), str("id")
	if typ == "" && str("alarm") != "" {
		typ = "netdata " + str("status")
		id = str("alarm")
	}
	if typ == "" && str("groupKey") != "" {
		typ = "alertmanager " + str("status")
		id = str("groupKey")
	}
	return sanitizeLine(typ), sanitizeLine(id)
}

// indentBody pretty-prints a JSON body, or returns the raw text, indented.
func indentBody(body []byte) string {
	var buf bytes.Buffer
	text := string(body)
	if json.Indent(&buf, body, "  ", "  ") == nil {
		text = buf.String()
	} else {
		text = strings.ReplaceAll(strings.ToValidUTF8(text, "\uFFFD"), "\n", "\n  ")
	}
	return "  " + strings.TrimRight(sanitizeBlock(text), "\n")
}

// sanitizeLine drops control characters from a value printed on one line,
// so that a request cannot move the terminal's cursor or change its colours.
func sanitizeLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return -1
		}
		return r
	}, s)
}

// sanitizeBlock is sanitizeLine keeping newlines and tabs.
func sanitizeBlock(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' {
			return r
		}
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return -1
		}
		return r
	}, s)
}
