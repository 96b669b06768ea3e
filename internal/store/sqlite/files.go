package sqlite

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
)

// ErrLocked is returned by Open when another process holds Options.LockFile.
var ErrLocked = errors.New("sqlite: database in use by another process")

// LockedError says which file is locked and, when known, by which process.
type LockedError struct {
	Path string
	PID  int // 0 when unknown
}

func (e *LockedError) Error() string {
	by := "another process"
	if e.PID > 0 {
		by = "another process (pid " + strconv.Itoa(e.PID) + ")"
	}
	return fmt.Sprintf("%s is locked by %s", e.Path, by)
}

func (e *LockedError) Unwrap() error { return ErrLocked }

// lockFile takes an exclusive lock on path (created 0600 if missing) without
// waiting, and writes this process's pid into it for the next one's error
// message. The kernel drops the lock when the process ends, however it
// ends, so a crash never leaves a stale lock behind.
func lockFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open lock file: %w", err)
	}
	tighten(f.Name())
	if err := lockExclusive(f); err != nil {
		pid := 0
		if b, rerr := os.ReadFile(path); rerr == nil {
			pid, _ = strconv.Atoi(strings.TrimSpace(string(b)))
		}
		f.Close()
		if errors.Is(err, errWouldBlock) {
			return nil, &LockedError{Path: path, PID: pid}
		}
		return nil, fmt.Errorf("sqlite: lock %s: %w", path, err)
	}
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return f, nil
}

// prepareFiles creates the database file 0600 when missing (SQLite gives
// the -wal and -shm files the mode of the database file) and takes group and
// other permissions away from the files of an existing database: they hold
// events, delivery logs and sealed secrets.
func prepareFiles(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("sqlite: create %s: %w", path, err)
	}
	f.Close()
	for _, p := range []string{path, path + "-wal", path + "-shm", path + "-journal"} {
		tighten(p)
	}
	return nil
}

// tighten removes group and other permissions from path, if it exists.
func tighten(path string) {
	st, err := os.Stat(path)
	if err != nil || !st.Mode().IsRegular() {
		return
	}
	if m := st.Mode().Perm(); m&0o077 != 0 {
		os.Chmod(path, m&^fs.FileMode(0o077))
	}
}
