package sqlite

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/herald-hq/herald"
)

// The database, its WAL and shared-memory files and the lock file are
// readable by their owner only, whatever the umask; an existing database
// with wider permissions is tightened on open.
func TestFilesArePrivate(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("unix permissions")
	}
	// Not parallel: the umask is the process's. With umask 0 a file created
	// with the default 0666 would show it.
	old := syscall.Umask(0)
	t.Cleanup(func() { syscall.Umask(old) })
	dir := t.TempDir()
	path := filepath.Join(dir, "herald.db")
	s := openTest(t, Options{Path: path, LockFile: filepath.Join(dir, "herald.lock")})
	// A write makes sure the WAL exists.
	noErr(t, s.CreateToken(context.Background(), &herald.Token{ID: "tok_1", Name: "a", Role: herald.RolePlatformAdmin, Projects: []string{}, Hash: "h", CreatedAt: time.Now()}))
	for _, name := range []string{"herald.db", "herald.db-wal", "herald.db-shm", "herald.lock"} {
		st, err := os.Stat(filepath.Join(dir, name))
		noErr(t, err, name)
		check(t, st.Mode().Perm() == 0o600, "%s has mode %v, want 0600", name, st.Mode().Perm())
	}
	s.Close()

	// A database created by an older Herald (0644) is tightened.
	for _, name := range []string{"herald.db", "herald.db-wal", "herald.db-shm"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			noErr(t, os.Chmod(filepath.Join(dir, name), 0o644))
		}
	}
	s = openTest(t, Options{Path: path})
	st, err := os.Stat(path)
	noErr(t, err)
	check(t, st.Mode().Perm() == 0o600, "reopened database has mode %v, want 0600", st.Mode().Perm())
	s.Close()
}

// Only one Store holds a lock file at a time; Close releases it.
func TestLockFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	o := Options{Path: filepath.Join(dir, "herald.db"), LockFile: filepath.Join(dir, "herald.lock"), Box: testBox(t)}
	s, err := Open(context.Background(), o)
	noErr(t, err)
	_, err = Open(context.Background(), o)
	check(t, errors.Is(err, ErrLocked), "second Open: want ErrLocked, got %v", err)
	var le *LockedError
	check(t, errors.As(err, &le) && le.PID == os.Getpid() && le.Path == o.LockFile, "want the holder's pid and the lock path, got %v", err)
	noErr(t, s.Close())
	s, err = Open(context.Background(), o)
	noErr(t, err, "open after Close")
	s.Close()
}

// A process killed with SIGKILL leaves no lock behind: the kernel drops it.
func TestLockReleasedWhenHolderKilled(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("uses SIGKILL")
	}
	t.Parallel()
	if os.Getenv("HERALD_LOCK_HELPER") != "" {
		return
	}
	dir := t.TempDir()
	lock := filepath.Join(dir, "herald.lock")
	// flock(1) would do, but is not everywhere: a child test process holds
	// the lock through the same code and says so on stdout.
	cmd := exec.Command(os.Args[0], "-test.run=^TestLockHelper$")
	cmd.Env = append(os.Environ(), "HERALD_LOCK_HELPER="+lock)
	out, err := cmd.StdoutPipe()
	noErr(t, err)
	noErr(t, cmd.Start())
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	locked := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if sc.Text() == "locked" {
				locked <- true
			}
		}
		close(locked)
	}()
	select {
	case ok := <-locked:
		check(t, ok, "the child exited without taking the lock")
	case <-time.After(60 * time.Second):
		t.Fatal("the child never took the lock")
	}
	o := Options{Path: filepath.Join(dir, "herald.db"), LockFile: lock, Box: testBox(t)}
	_, err = Open(context.Background(), o)
	var le *LockedError
	check(t, errors.As(err, &le) && le.PID == cmd.Process.Pid, "want locked by the child (pid %d), got %v", cmd.Process.Pid, err)
	noErr(t, cmd.Process.Signal(syscall.SIGKILL))
	cmd.Wait()
	s, err := Open(context.Background(), o)
	noErr(t, err, "open after the holder was killed")
	s.Close()
}

// TestLockHelper holds HERALD_LOCK_HELPER's lock until killed (run by
// TestLockReleasedWhenHolderKilled as a child process).
func TestLockHelper(t *testing.T) {
	path := os.Getenv("HERALD_LOCK_HELPER")
	if path == "" {
		t.Skip("child process of TestLockReleasedWhenHolderKilled")
	}
	f, err := lockFile(path)
	noErr(t, err)
	defer f.Close()
	fmt.Println("locked")
	time.Sleep(time.Hour) // until the parent kills this process
}
