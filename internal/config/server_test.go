package config

import (
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestServerSettings(t *testing.T) {
	t.Parallel()
	c, err := Load("", env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Server.TrustedProxies) != 0 || c.Server.TLS() {
		t.Fatalf("default server settings: %+v", c.Server)
	}

	path := filepath.Join(t.TempDir(), "herald.yaml")
	os.WriteFile(path, []byte(`
server:
  trusted_proxies: [10.0.0.0/8, "192.0.2.7", "2001:db8::/32", "::ffff:172.16.0.0/108"]
  tls_cert_file: /etc/herald/cert.pem
  tls_key_file: /etc/herald/key.pem
`), 0o600)
	c, err = Load(path, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if !c.Server.TLS() || c.Server.TLSCertFile != "/etc/herald/cert.pem" || c.Server.TLSKeyFile != "/etc/herald/key.pem" {
		t.Fatalf("tls from file: %+v", c.Server)
	}
	got, err := c.TrustedProxyPrefixes()
	if err != nil {
		t.Fatal(err)
	}
	want := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.7/32"),
		netip.MustParsePrefix("2001:db8::/32"), netip.MustParsePrefix("172.16.0.0/12")}
	if !slices.Equal(got, want) {
		t.Fatalf("trusted proxies %v, want %v", got, want)
	}

	// The environment wins, comma separated.
	c, err = Load(path, env(map[string]string{"HERALD_TRUSTED_PROXIES": " 127.0.0.1 , ::1,", "HERALD_TLS_CERT_FILE": "/run/c.pem", "HERALD_TLS_KEY_FILE": "/run/k.pem"}))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.Server.TrustedProxies, []string{"127.0.0.1", "::1"}) || c.Server.TLSCertFile != "/run/c.pem" || c.Server.TLSKeyFile != "/run/k.pem" {
		t.Fatalf("env: %+v", c.Server)
	}
}

func TestServerSettingsInvalid(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"HERALD_TRUSTED_PROXIES": "10.0.0.0/8,proxy.example"}, `server.trusted_proxies (HERALD_TRUSTED_PROXIES): "proxy.example" is not an IP address or a CIDR`},
		{map[string]string{"HERALD_TRUSTED_PROXIES": "10.0.0.0/33"}, `"10.0.0.0/33" is not an IP address or a CIDR`},
		{map[string]string{"HERALD_TRUSTED_PROXIES": "fe80::1%eth0"}, `"fe80::1%eth0" is not an IP address`},
		{map[string]string{"HERALD_TRUSTED_PROXIES": "::ffff:0:0/64"}, `mixes IPv6 and IPv4-mapped`},
		{map[string]string{"HERALD_TLS_CERT_FILE": "/c.pem"}, "server.tls_cert_file (HERALD_TLS_CERT_FILE) and server.tls_key_file (HERALD_TLS_KEY_FILE): set both"},
		{map[string]string{"HERALD_TLS_KEY_FILE": "/k.pem"}, "set both to serve HTTPS, or neither"},
	} {
		_, err := Load("", env(tc.env))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want it to contain %q", tc.env, err, tc.want)
		}
	}
	path := filepath.Join(t.TempDir(), "herald.yaml")
	os.WriteFile(path, []byte("server:\n  trusted_proxy: [10.0.0.1]\n"), 0o600)
	if _, err := Load(path, env(nil)); err == nil || !strings.Contains(err.Error(), "trusted_proxy") {
		t.Errorf("misspelt server key: %v", err)
	}
}
