package cli

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/client"
)

func (cc clientCommands) webhookCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "webhook",
		Aliases: []string{"webhooks", "wh"},
		Short:   "Manage webhooks: endpoints that receive events",
	}
	cmd.AddCommand(
		cc.webhookCreateCmd(), cc.webhookListCmd(), cc.webhookGetCmd(), cc.webhookUpdateCmd(),
		cc.webhookEnableCmd(true), cc.webhookEnableCmd(false), cc.webhookDeleteCmd(),
		cc.webhookTestCmd(), cc.webhookStatusCmd(), cc.webhookRecoverCmd(),
		cc.webhookVerifyCmd(), cc.webhookRotateSecretCmd(), cc.webhookSecretCmd(),
	)
	return cmd
}

// webhookFlags are the flags of `webhook create` and `webhook update`.
type webhookFlags struct {
	name, project, url, category, severity, language, format, templateFile string
	eventTypes, headers, conditions                                        []string
	secretHeaders                                                          []string
	authType, username, password, tokenValue, headerName, headerValue      string
	signSecret                                                             string
	skipTLSVerify                                                          bool
	caFile, certFile, keyFile                                              string
	maxAttempts, rateLimit                                                 int
	timeout                                                                time.Duration
	challengeSecret                                                        string
	ordered, disabled, retryClientErrors, standardHeaders                  bool
}

func (f *webhookFlags) register(fs *pflag.FlagSet, update bool) {
	replaces := ""
	if update {
		replaces = "; replaces the current list, an empty value clears it"
	}
	fs.StringVar(&f.name, "name", "", "display name, unique per project")
	fs.StringVar(&f.project, "project", "", "owning project (empty: a platform webhook that sees every project)")
	fs.StringVar(&f.url, "url", "", "target URL, http or https")
	fs.StringSliceVar(&f.eventTypes, "event-type", nil, "event type to deliver (repeatable or comma separated; \"image.*\" prefix wildcards, \"*\" for all)"+replaces)
	fs.StringVar(&f.category, "category", "", "events or alarms")
	fs.StringArrayVar(&f.conditions, "condition", nil, "label condition, all must hold: 'LABEL In a,b', 'LABEL NotIn a,b', 'LABEL Exists', 'LABEL DoesNotExist' (repeatable)"+replaces)
	fs.StringVar(&f.severity, "severity", "", "severity filter: all, alerts (warning, critical, clear), alerts-no-reachability (alerts without host reachability events) or critical")
	fs.StringVar(&f.language, "language", "", "language of the message text: en or zh-CN")
	fs.StringVar(&f.format, "format", "", "payload format: standard, cloudevents, harbor, harbor-legacy, netdata, alertmanager, template, or a chat robot's message: slack, discord, teams, feishu, lark, dingtalk, wecom")
	fs.StringVar(&f.templateFile, "template-file", "", "Go text/template for --format template (\"-\" reads stdin; implies --format template)")
	fs.StringArrayVar(&f.headers, "header", nil, "extra request header NAME=VALUE (repeatable; names marking a credential, like Authorization or X-Api-Key, are kept secret)"+replaces)
	fs.StringArrayVar(&f.secretHeaders, "secret-header", nil, "extra request header NAME=VALUE holding a credential: encrypted, shown as ********, redacted in logs (repeatable)"+replaces)
	fs.StringVar(&f.authType, "auth-type", "", "endpoint auth: none, basic, bearer, header, mtls or sign (default: inferred from the auth flags given)")
	fs.StringVar(&f.username, "username", "", "basic auth user name")
	fs.StringVar(&f.password, "password", "", "basic auth password")
	fs.StringVar(&f.tokenValue, "bearer-token", "", "bearer token sent to the endpoint (not --token: that is the API token of this command)")
	fs.StringVar(&f.tokenValue, "token-value", "", "alias of --bearer-token")
	_ = fs.MarkHidden("token-value")
	fs.StringVar(&f.headerName, "header-name", "", "header auth: header name (default Authorization)")
	fs.StringVar(&f.headerValue, "header-value", "", "header auth: raw header value")
	fs.StringVar(&f.signSecret, "sign-secret", "", "sign auth: the robot's signing secret (--format feishu, lark or dingtalk)")
	fs.StringVar(&f.certFile, "cert-file", "", "mtls: PEM client certificate file")
	fs.StringVar(&f.keyFile, "key-file", "", "mtls: PEM client key file")
	fs.BoolVar(&f.skipTLSVerify, "skip-tls-verify", false, "do not verify the endpoint's TLS certificate (insecure)")
	fs.StringVar(&f.caFile, "ca-file", "", "PEM CA bundle to verify the endpoint with")
	fs.StringVar(&f.challengeSecret, "challenge-secret", "", "run the ownership challenge (crc_token) with this secret on every save")
	fs.IntVar(&f.maxAttempts, "max-attempts", 0, "delivery attempts before failing (default: the server's)")
	fs.DurationVar(&f.timeout, "timeout", 0, "request timeout (default: the server's, 15s)")
	fs.IntVar(&f.rateLimit, "rate-limit", 0, "most requests per second to this endpoint (0: no limit; chat formats: the platform's per-robot limit)")
	fs.BoolVar(&f.ordered, "ordered", false, "deliver one event at a time, in order")
	fs.BoolVar(&f.retryClientErrors, "retry-client-errors", true, "retry 4xx answers like 5xx; =false fails a delivery at once on a 4xx other than 408 and 429 (410 always disables the webhook)")
	fs.BoolVar(&f.standardHeaders, "standard-headers", true, "send the Standard Webhooks headers (webhook-id, webhook-timestamp, webhook-signature); =false leaves them out")
	fs.BoolVar(&f.disabled, "disabled", false, "save the webhook switched off")
}

func (f *webhookFlags) parseHeaders() (map[string]string, error) {
	return parseHeaderList("header", f.headers)
}

func parseHeaderList(flag string, list []string) (map[string]string, error) {
	h := map[string]string{}
	for _, v := range list {
		if v == "" {
			continue
		}
		k, val, err := parseKV(flag, v)
		if err != nil {
			return nil, err
		}
		h[k] = val
	}
	return h, nil
}

func (f *webhookFlags) parseConditions() ([]herald.Condition, error) {
	out := []herald.Condition{}
	for _, v := range f.conditions {
		if strings.TrimSpace(v) == "" {
			continue
		}
		c, err := parseCondition(v)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// parseCondition reads "LABEL OPERATOR [v1,v2...]". Operators are matched
// without regard to case.
func parseCondition(v string) (herald.Condition, error) {
	parts := strings.Fields(v)
	if len(parts) < 2 {
		return herald.Condition{}, fmt.Errorf("--condition %q: use 'LABEL In a,b', 'LABEL NotIn a,b', 'LABEL Exists' or 'LABEL DoesNotExist'", v)
	}
	c := herald.Condition{Label: parts[0]}
	for _, op := range []string{herald.OpIn, herald.OpNotIn, herald.OpExists, herald.OpDoesNotExist} {
		if strings.EqualFold(parts[1], op) {
			c.Operator = op
		}
	}
	if c.Operator == "" {
		return c, fmt.Errorf("--condition %q: unknown operator %q (use In, NotIn, Exists or DoesNotExist)", v, parts[1])
	}
	for _, val := range strings.Split(strings.Join(parts[2:], " "), ",") {
		if val = strings.TrimSpace(val); val != "" {
			c.Values = append(c.Values, val)
		}
	}
	switch c.Operator {
	case herald.OpIn, herald.OpNotIn:
		if len(c.Values) == 0 {
			return c, fmt.Errorf("--condition %q: %s needs values: '%s %s a,b'", v, c.Operator, c.Label, c.Operator)
		}
	default:
		if len(c.Values) > 0 {
			return c, fmt.Errorf("--condition %q: %s takes no values", v, c.Operator)
		}
	}
	return c, nil
}

// authFlags lists the auth field flags, by the auth type they imply.
var authFlags = []struct{ flag, authType string }{
	{"username", herald.AuthBasic}, {"password", herald.AuthBasic},
	{"bearer-token", herald.AuthBearer}, {"token-value", herald.AuthBearer},
	{"header-name", herald.AuthHeader}, {"header-value", herald.AuthHeader},
	{"cert-file", herald.AuthMTLS}, {"key-file", herald.AuthMTLS},
	{"sign-secret", herald.AuthSign},
}

// inferAuthType returns the auth type the given flags imply: --auth-type if
// given, else the one type all given auth field flags belong to.
func (f *webhookFlags) inferAuthType(fs *pflag.FlagSet) (string, error) {
	if changed(fs, "auth-type") {
		return f.authType, nil
	}
	implied := ""
	for _, af := range authFlags {
		if !changed(fs, af.flag) {
			continue
		}
		if implied != "" && implied != af.authType {
			return "", fmt.Errorf("auth flags of two types (%s and %s) given: pass --auth-type", implied, af.authType)
		}
		implied = af.authType
	}
	return implied, nil
}

func authChanged(fs *pflag.FlagSet) bool {
	if changed(fs, "auth-type") {
		return true
	}
	for _, af := range authFlags {
		if changed(fs, af.flag) {
			return true
		}
	}
	return false
}

// overlayAuth sets the auth fields given on the command line onto a.
func (f *webhookFlags) overlayAuth(cmd *cobra.Command, a *client.AuthInput) error {
	fs := cmd.Flags()
	strs := []struct {
		flag string
		dst  *string
		v    string
	}{
		{"username", &a.Username, f.username}, {"password", &a.Password, f.password},
		{"bearer-token", &a.Token, f.tokenValue}, {"token-value", &a.Token, f.tokenValue},
		{"header-name", &a.HeaderName, f.headerName},
		{"header-value", &a.HeaderValue, f.headerValue},
		{"sign-secret", &a.Secret, f.signSecret},
	}
	for _, s := range strs {
		if changed(fs, s.flag) {
			*s.dst = s.v
		}
	}
	files := []struct {
		flag string
		dst  *string
		path string
	}{{"cert-file", &a.CertPEM, f.certFile}, {"key-file", &a.KeyPEM, f.keyFile}}
	for _, file := range files {
		if !changed(fs, file.flag) {
			continue
		}
		if file.path == "" {
			*file.dst = ""
			continue
		}
		b, err := readInput(cmd, file.path)
		if err != nil {
			return err
		}
		*file.dst = string(b)
	}
	return nil
}

// overlayTLS sets the TLS flags given on the command line onto t.
func (f *webhookFlags) overlayTLS(cmd *cobra.Command, t *herald.TLS) error {
	if changed(cmd.Flags(), "skip-tls-verify") {
		t.SkipVerify = f.skipTLSVerify
	}
	if changed(cmd.Flags(), "ca-file") {
		t.CAPEM = ""
		if f.caFile != "" {
			b, err := readInput(cmd, f.caFile)
			if err != nil {
				return err
			}
			t.CAPEM = string(b)
		}
	}
	return nil
}

func (f *webhookFlags) template(cmd *cobra.Command) (string, error) {
	if f.templateFile == "" {
		return "", nil
	}
	b, err := readInput(cmd, f.templateFile)
	return string(b), err
}

// input builds the body of `webhook create`.
func (f *webhookFlags) input(cmd *cobra.Command) (client.WebhookInput, error) {
	fs := cmd.Flags()
	enabled := !f.disabled
	in := client.WebhookInput{
		Name: f.name, Project: f.project, URL: f.url, Enabled: &enabled, Category: f.category,
		EventTypes: f.eventTypes, Severity: f.severity, Language: f.language, Format: f.format,
		ChallengeSecret: f.challengeSecret, MaxAttempts: f.maxAttempts, Timeout: herald.Duration(f.timeout),
		RateLimit: f.rateLimit, Ordered: f.ordered,
	}
	if changed(fs, "retry-client-errors") {
		in.RetryClientErrors = &f.retryClientErrors
	}
	if changed(fs, "standard-headers") {
		in.StandardHeaders = &f.standardHeaders
	}
	var err error
	if in.Headers, err = f.parseHeaders(); err != nil {
		return in, usagef(cmd.CommandPath(), "%v", err)
	}
	if in.SecretHeaders, err = parseHeaderList("secret-header", f.secretHeaders); err != nil {
		return in, usagef(cmd.CommandPath(), "%v", err)
	}
	if in.Conditions, err = f.parseConditions(); err != nil {
		return in, usagef(cmd.CommandPath(), "%v", err)
	}
	if in.Template, err = f.template(cmd); err != nil {
		return in, err
	}
	if in.Template != "" && in.Format == "" {
		in.Format = herald.FormatTemplate
	}
	if authChanged(fs) {
		t, err := f.inferAuthType(fs)
		if err != nil {
			return in, usagef(cmd.CommandPath(), "%v", err)
		}
		in.Auth = &client.AuthInput{Type: t}
		if err := f.overlayAuth(cmd, in.Auth); err != nil {
			return in, err
		}
	}
	if changed(fs, "skip-tls-verify") || changed(fs, "ca-file") {
		in.TLS = &herald.TLS{}
		if err := f.overlayTLS(cmd, in.TLS); err != nil {
			return in, err
		}
	}
	return in, nil
}

// patch builds the body of `webhook update` from the flags given. current
// is fetched only when auth or TLS flags are given: those objects are sent
// whole, starting from the stored values (secrets stay masked, which the API
// reads as "unchanged").
func (f *webhookFlags) patch(cmd *cobra.Command, current func() (*client.Webhook, error)) (client.WebhookPatch, error) {
	fs := cmd.Flags()
	var p client.WebhookPatch
	str := func(flag string, v string) *string {
		if changed(fs, flag) {
			return &v
		}
		return nil
	}
	p.Name, p.Project, p.URL = str("name", f.name), str("project", f.project), str("url", f.url)
	p.Category, p.Severity, p.Language = str("category", f.category), str("severity", f.severity), str("language", f.language)
	p.Format, p.ChallengeSecret = str("format", f.format), str("challenge-secret", f.challengeSecret)
	if changed(fs, "event-type") {
		p.EventTypes = append([]string{}, f.eventTypes...)
	}
	if changed(fs, "header") {
		h, err := f.parseHeaders()
		if err != nil {
			return p, usagef(cmd.CommandPath(), "%v", err)
		}
		p.Headers = h
	}
	if changed(fs, "secret-header") {
		h, err := parseHeaderList("secret-header", f.secretHeaders)
		if err != nil {
			return p, usagef(cmd.CommandPath(), "%v", err)
		}
		p.SecretHeaders = h
	}
	if changed(fs, "condition") {
		c, err := f.parseConditions()
		if err != nil {
			return p, usagef(cmd.CommandPath(), "%v", err)
		}
		p.Conditions = c
	}
	if changed(fs, "template-file") {
		t, err := f.template(cmd)
		if err != nil {
			return p, err
		}
		p.Template = &t
		if p.Format == nil && t != "" {
			p.Format = new(herald.FormatTemplate)
		}
	}
	if changed(fs, "max-attempts") {
		p.MaxAttempts = &f.maxAttempts
	}
	if changed(fs, "rate-limit") {
		p.RateLimit = &f.rateLimit
	}
	if changed(fs, "timeout") {
		d := herald.Duration(f.timeout)
		p.Timeout = &d
	}
	if changed(fs, "ordered") {
		p.Ordered = &f.ordered
	}
	if changed(fs, "retry-client-errors") {
		p.RetryClientErrors = &f.retryClientErrors
	}
	if changed(fs, "standard-headers") {
		p.StandardHeaders = &f.standardHeaders
	}
	if changed(fs, "disabled") {
		enabled := !f.disabled
		p.Enabled = &enabled
	}
	tlsChanged := changed(fs, "skip-tls-verify") || changed(fs, "ca-file")
	if !authChanged(fs) && !tlsChanged {
		return p, nil
	}
	t, err := f.inferAuthType(fs)
	if err != nil {
		return p, usagef(cmd.CommandPath(), "%v", err)
	}
	cur, err := current()
	if err != nil {
		return p, err
	}
	if authChanged(fs) {
		a := client.AuthInput{Type: t}
		if t == "" || t == cur.Auth.Type {
			a = client.AuthInputFrom(cur.Auth)
		}
		if err := f.overlayAuth(cmd, &a); err != nil {
			return p, err
		}
		p.Auth = &a
	}
	if tlsChanged {
		tc := cur.TLS
		if err := f.overlayTLS(cmd, &tc); err != nil {
			return p, err
		}
		p.TLS = &tc
	}
	return p, nil
}

func (cc clientCommands) webhookCreateCmd() *cobra.Command {
	var f webhookFlags
	cmd := &cobra.Command{
		Use:   "create --url URL [flags]",
		Short: "Create a webhook and print its signing secret (shown once)",
		Example: `  herald webhook create --name ci --project p1 --url https://ci.example.com/hook \
    --event-type 'image.*' --condition 'env In prod,staging' --header X-Team=ops`,
		Args: noArgs,
	}
	cmd.RunE = cc.run(func(s *session, _ []string) error {
		in, err := f.input(cmd)
		if err != nil {
			return err
		}
		w, err := s.api.CreateWebhook(s.ctx, in)
		if err != nil {
			return err
		}
		s.warn(w.Warnings)
		note := "Keep the signing secret now: it will not be shown again. Receivers use it to verify the webhook-signature header."
		if s.json {
			fmt.Fprintln(s.errOut, note)
			return printJSON(s.out, w)
		}
		fmt.Fprintf(s.out, "Created webhook %s.\n\n", w.ID)
		if err := printWebhook(s.out, &w.Webhook); err != nil {
			return err
		}
		fmt.Fprintf(s.out, "\nSigning secret: %s\n%s\n", w.SigningSecret, note)
		return nil
	})
	f.register(cmd.Flags(), false)
	_ = cmd.MarkFlagRequired("url")
	return cmd
}

func (cc clientCommands) webhookListCmd() *cobra.Command {
	var project string
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List webhooks",
		Args:    noArgs,
	}
	cmd.RunE = cc.run(func(s *session, _ []string) error {
		list, err := s.api.ListWebhooks(s.ctx, project)
		if err != nil {
			return err
		}
		if s.json {
			return printJSON(s.out, listJSON(list, ""))
		}
		if len(list) == 0 {
			fmt.Fprintln(s.out, "No webhooks. Create one with `herald webhook create`.")
			return nil
		}
		t := newTable(s.out, "ID", "NAME", "PROJECT", "URL", "ENABLED", "EVENT TYPES", "FORMAT", "AUTH")
		for _, w := range list {
			t.row(w.ID, w.Name, projectName(w.Project), w.URL, enabledText(&w.Webhook),
				joinList(w.EventTypes, 40), orDash(w.Format), orDash(w.Auth.Type))
		}
		return t.flush()
	})
	cmd.Flags().StringVar(&project, "project", "", "only this project's webhooks")
	return cmd
}

func enabledText(w *herald.Webhook) string {
	if w.Enabled {
		return "yes"
	}
	if w.DisabledReason != "" {
		return "no (" + truncate(w.DisabledReason, 30) + ")"
	}
	return "no"
}

// printWebhook writes one webhook, field by field. Secrets show as "set".
func printWebhook(out io.Writer, w *herald.Webhook) error {
	f := newFields(out)
	f.add("ID", w.ID)
	f.add("Name", w.Name)
	f.add("Project", projectName(w.Project))
	f.add("URL", w.URL)
	f.add("Enabled", enabledText(w))
	f.add("Category", orDash(w.Category))
	f.add("Event types", joinList(w.EventTypes, 1<<20))
	conds := make([]string, len(w.Conditions))
	for i, c := range w.Conditions {
		conds[i] = strings.TrimSpace(c.Label + " " + c.Operator + " " + strings.Join(c.Values, ","))
	}
	f.add("Conditions", orDash(strings.Join(conds, "; ")))
	f.add("Severity", orDash(w.Severity))
	f.add("Language", orDash(w.Language))
	f.add("Format", orDash(w.Format))
	if w.Template != "" {
		f.add("Template", truncate(w.Template, 60))
	}
	headers := make([]string, 0, len(w.Headers))
	for _, k := range slices.Sorted(maps.Keys(w.Headers)) {
		headers = append(headers, k+": "+w.Headers[k])
	}
	for _, k := range slices.Sorted(maps.Keys(w.SecretHeaders)) {
		headers = append(headers, k+": ******** (secret)")
	}
	f.add("Headers", orDash(strings.Join(headers, "; ")))
	f.add("Auth", authText(w.Auth))
	tls := "verify"
	if w.TLS.SkipVerify {
		tls = "verification OFF (insecure)"
	}
	if w.TLS.CAPEM != "" {
		tls += ", custom CA"
	}
	f.add("TLS", tls)
	f.add("Challenge", setOrDash(w.ChallengeSecret.IsSet()))
	f.add("Max attempts", intOrDefault(w.MaxAttempts))
	timeout := "default"
	if w.Timeout > 0 {
		timeout = w.Timeout.Std().String()
	}
	f.add("Timeout", timeout)
	rate := "no limit"
	if w.RateLimit > 0 {
		rate = fmt.Sprintf("%d/s", w.RateLimit)
	}
	f.add("Rate limit", rate)
	f.add("Ordered", yesNo(w.Ordered))
	f.add("Retry 4xx", yesNo(w.RetryClientErrors))
	f.add("Std headers", yesNo(w.StandardHeaders))
	if w.FailingSince != nil {
		f.add("Failing since", fmtTimePtr(w.FailingSince))
	}
	f.add("Created", fmtTime(w.CreatedAt))
	f.add("Updated", fmtTime(w.UpdatedAt))
	return f.flush()
}

func authText(a herald.Auth) string {
	var parts []string
	add := func(name string, set bool) {
		if set {
			parts = append(parts, name+" set")
		}
	}
	if a.Username != "" {
		parts = append(parts, "user "+a.Username)
	}
	add("password", a.Password.IsSet())
	add("token", a.Token.IsSet())
	if a.HeaderName != "" {
		parts = append(parts, "header "+a.HeaderName)
	}
	add("header value", a.HeaderValue.IsSet())
	add("certificate", a.CertPEM != "")
	add("key", a.KeyPEM.IsSet())
	add("signing secret", a.Secret.IsSet())
	t := a.Type
	if t == "" {
		t = herald.AuthNone
	}
	if len(parts) == 0 {
		return t
	}
	return t + " (" + strings.Join(parts, ", ") + ")"
}

func setOrDash(set bool) string {
	if set {
		return "set"
	}
	return "-"
}

func intOrDefault(n int) string {
	if n == 0 {
		return "default"
	}
	return fmt.Sprint(n)
}

func (cc clientCommands) webhookGetCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "get ID",
		Short: "Show a webhook",
		Args:  exactArgs("ID"),
	}
	cmd.RunE = cc.run(func(s *session, args []string) error {
		w, err := s.api.GetWebhook(s.ctx, args[0])
		if err != nil {
			return withNotFoundHint(err, "herald webhook list")
		}
		if s.json {
			return printJSON(s.out, w)
		}
		s.warn(w.Warnings)
		return printWebhook(s.out, &w.Webhook)
	})
	return cmd
}

func (cc clientCommands) webhookUpdateCmd() *cobra.Command {
	var f webhookFlags
	cmd := &cobra.Command{
		Use:   "update ID [flags]",
		Short: "Change a webhook: only the flags given change",
		Example: `  herald webhook update wh_123 --url https://new.example.com/hook
  herald webhook update wh_123 --password 'n3w' --header=   # new password, no extra headers`,
		Args: exactArgs("ID"),
	}
	cmd.RunE = cc.run(func(s *session, args []string) error {
		id := args[0]
		p, err := f.patch(cmd, func() (*client.Webhook, error) { return s.api.GetWebhook(s.ctx, id) })
		if err != nil {
			return withNotFoundHint(err, "herald webhook list")
		}
		if p.IsEmpty() {
			return s.usage("nothing to change: give at least one flag, e.g. --url")
		}
		w, err := s.api.UpdateWebhook(s.ctx, id, p)
		if err != nil {
			return withNotFoundHint(err, "herald webhook list")
		}
		if s.json {
			return printJSON(s.out, w)
		}
		s.warn(w.Warnings)
		fmt.Fprintf(s.out, "Updated webhook %s.\n\n", w.ID)
		return printWebhook(s.out, &w.Webhook)
	})
	f.register(cmd.Flags(), true)
	return cmd
}

func (cc clientCommands) webhookEnableCmd(enable bool) *cobra.Command {
	verb := "disable"
	if enable {
		verb = "enable"
	}
	cmd := &cobra.Command{
		Use:   verb + " ID",
		Short: strings.ToUpper(verb[:1]) + verb[1:] + " a webhook",
		Args:  exactArgs("ID"),
	}
	cmd.RunE = cc.run(func(s *session, args []string) error {
		w, err := s.api.SetWebhookEnabled(s.ctx, args[0], enable)
		if err != nil {
			return withNotFoundHint(err, "herald webhook list")
		}
		if s.json {
			return printJSON(s.out, w)
		}
		fmt.Fprintf(s.out, "Webhook %s (%s) is %sd.\n", w.ID, w.Name, verb)
		return nil
	})
	return cmd
}

func (cc clientCommands) webhookDeleteCmd() *cobra.Command {
	var yes bool
	cmd := &cobra.Command{
		Use:     "delete ID",
		Aliases: []string{"rm"},
		Short:   "Delete a webhook (asks first unless --yes)",
		Args:    exactArgs("ID"),
	}
	cmd.RunE = cc.run(func(s *session, args []string) error {
		id := args[0]
		if !yes {
			w, err := s.api.GetWebhook(s.ctx, id)
			if err != nil {
				return withNotFoundHint(err, "herald webhook list")
			}
			if err := s.confirm(false, fmt.Sprintf("Delete webhook %s (%s, %s)?", w.ID, w.Name, w.URL)); err != nil {
				return err
			}
		}
		if err := s.api.DeleteWebhook(s.ctx, id); err != nil {
			return withNotFoundHint(err, "herald webhook list")
		}
		if s.json {
			return printJSON(s.out, map[string]any{"id": id, "deleted": true})
		}
		fmt.Fprintf(s.out, "Deleted webhook %s.\n", id)
		return nil
	})
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation")
	return cmd
}

// testFailedError makes `webhook test` exit non-zero when the endpoint did
// not accept the test event.
type testFailedError struct{ res *client.TestResult }

func (e *testFailedError) Error() string {
	reason := e.res.Error
	if reason == "" && e.res.StatusCode != 0 {
		reason = fmt.Sprintf("the endpoint answered HTTP %d", e.res.StatusCode)
	}
	if reason == "" {
		reason = "no reason given"
	}
	return "the test delivery failed: " + reason
}

func (cc clientCommands) webhookTestCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "test ID",
		Short: "Send a test event to a webhook now and show how the endpoint answered",
		Long: "Send a test event to a webhook now and show how the endpoint answered.\n" +
			"The event is herald.test, or with --event-type the sample event of that type (the payload the console's preview shows).\n" +
			"Exits with status 1 when the endpoint did not accept it.",
		Example: "  herald webhook test wh_...\n  herald webhook test wh_... --event-type image.push",
		Args:    exactArgs("ID"),
	}
	var eventType string
	cmd.Flags().StringVar(&eventType, "event-type", "", "send the sample event of this type instead of herald.test (see `herald event-types`)")
	cmd.RunE = cc.run(func(s *session, args []string) error {
		res, err := s.api.TestWebhook(s.ctx, args[0], eventType)
		if err != nil {
			return withNotFoundHint(err, "herald webhook list")
		}
		if s.json {
			if err := printJSON(s.out, res); err != nil {
				return err
			}
		} else {
			outcome := "succeeded"
			if !res.OK {
				outcome = "FAILED"
			}
			fmt.Fprintf(s.out, "Test delivery %s: %s\n", orDash(res.DeliveryID), outcome)
			f := newFields(s.out)
			f.add("Status code", fmtStatus(res.StatusCode))
			f.add("Latency", fmtMillis(res.Latency()))
			if res.Error != "" {
				f.add("Error", res.Error)
			}
			f.add("Response", orDash(truncate(res.ResponseExcerpt, 200)))
			if err := f.flush(); err != nil {
				return err
			}
		}
		if !res.OK {
			hint := "check the URL, auth and TLS settings: `herald webhook get " + args[0] + "`"
			if strings.Contains(res.Error, "HERALD_ALLOW_CIDRS") {
				hint = "the SSRF guard refused the target: set HERALD_ALLOW_CIDRS (or network.allow_cidrs) to a CIDR covering it and restart herald serve"
			}
			return &hintError{err: &testFailedError{res}, hint: hint}
		}
		return nil
	})
	return cmd
}

func (cc clientCommands) webhookStatusCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "status ID",
		Short: "Show, per event type, the last delivery to a webhook and its result",
		Args:  exactArgs("ID"),
	}
	cmd.RunE = cc.run(func(s *session, args []string) error {
		st, err := s.api.WebhookStatus(s.ctx, args[0])
		if err != nil {
			return withNotFoundHint(err, "herald webhook list")
		}
		if s.json {
			return printJSON(s.out, listJSON(st, ""))
		}
		if len(st) == 0 {
			fmt.Fprintln(s.out, "No deliveries to this webhook yet.")
			return nil
		}
		t := newTable(s.out, "EVENT TYPE", "STATE", "STATUS", "LAST ATTEMPT", "DELIVERY", "ERROR")
		for _, e := range st {
			t.row(e.EventType, e.State, fmtStatus(e.StatusCode), fmtTime(e.LastAttemptAt), orDash(e.DeliveryID), orDash(truncate(e.Error, 60)))
		}
		return t.flush()
	})
	return cmd
}

func (cc clientCommands) webhookRecoverCmd() *cobra.Command {
	var since string
	cmd := &cobra.Command{
		Use:   "recover ID --since TIME",
		Short: "Retry every failed delivery of a webhook since a time",
		Example: `  herald webhook recover wh_123 --since 24h
  herald webhook recover wh_123 --since 2025-01-02T15:04:05Z`,
		Args: exactArgs("ID"),
	}
	cmd.RunE = cc.run(func(s *session, args []string) error {
		t, err := parseTimeArg("since", since, cc.now())
		if err != nil {
			return s.usage("%v", err)
		}
		n, err := s.api.Recover(s.ctx, args[0], t)
		if err != nil {
			return withNotFoundHint(err, "herald webhook list")
		}
		if s.json {
			return printJSON(s.out, map[string]int{"recovered": n})
		}
		fmt.Fprintf(s.out, "Requeued %d failed deliveries of webhook %s (last attempt since %s).\n", n, args[0], fmtTime(t))
		return nil
	})
	cmd.Flags().StringVar(&since, "since", "", "failed deliveries whose last attempt is at or after this: RFC 3339 time, date or duration ago (24h)")
	_ = cmd.MarkFlagRequired("since")
	return cmd
}
