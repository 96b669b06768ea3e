package seal

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSealOpen(t *testing.T) {
	t.Parallel()
	key, _ := ParseKey(GenerateKey())
	b, err := New(key)
	if err != nil {
		t.Fatal(err)
	}
	s1, _ := b.Seal([]byte("hunter2"))
	s2, _ := b.Seal([]byte("hunter2"))
	if s1 == s2 {
		t.Fatal("same plaintext sealed twice gives the same value: nonce reused")
	}
	if strings.Contains(s1, "hunter2") || !strings.HasPrefix(s1, "v1:") {
		t.Fatalf("sealed value %q", s1)
	}
	got, err := b.Open(s1)
	if err != nil || string(got) != "hunter2" {
		t.Fatalf("open: %q %v", got, err)
	}
	if e, _ := b.Seal(nil); e != "" {
		t.Fatal("empty input should seal to empty")
	}
	other, _ := New(bytes.Repeat([]byte{7}, 32))
	if _, err := other.Open(s1); err == nil || !strings.Contains(err.Error(), "HERALD_SECRET_KEY") {
		t.Fatalf("wrong key: %v", err)
	}
	tampered := s1[:len(s1)-2] + "AA"
	if _, err := b.Open(tampered); err == nil {
		t.Fatal("tampered value opened")
	}
}

func TestLoadKey(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	k1, err := LoadKey("", dir)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, KeyFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v %v", fi, err)
	}
	k2, _ := LoadKey("", dir)
	if !bytes.Equal(k1, k2) {
		t.Fatal("key changed between starts")
	}
	hexKey := strings.Repeat("ab", 32)
	k3, err := LoadKey(hexKey, dir)
	if err != nil || len(k3) != 32 || k3[0] != 0xab {
		t.Fatalf("hex env key: %v", err)
	}
	if _, err := LoadKey("short", dir); err == nil {
		t.Fatal("short key accepted")
	}
}
