package pollen

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// ErrRepoInUse is returned by Open when another process holds the repo.
var ErrRepoInUse = errors.New("repo in use")

const lockName = "repo.lock"

// errLocked is tryLock's answer when another process holds the lock.
var errLocked = errors.New("locked")

// lockRepo takes an exclusive lock on the repo, writing this process's PID
// into the lock file so the next process can say who holds it. The kernel
// drops the lock when the process dies, so kill -9 never leaves it stuck.
func lockRepo(dir string) (unlock func() error, err error) {
	f, err := os.OpenFile(filepath.Join(dir, lockName), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock repo %s: %w", dir, err)
	}
	if err := tryLock(f); err != nil {
		defer f.Close()
		if errors.Is(err, errLocked) {
			b, _ := os.ReadFile(f.Name())
			if pid, perr := strconv.Atoi(strings.TrimSpace(string(b))); perr == nil {
				return nil, fmt.Errorf("%w by PID %d: %s (a running 'pollen share' or 'seed' holds it: stop it, or run 'pollen daemon', beside which every command works)", ErrRepoInUse, pid, dir)
			}
			return nil, fmt.Errorf("%w by another process: %s", ErrRepoInUse, dir)
		}
		return nil, fmt.Errorf("lock repo %s: %w", dir, err)
	}
	if err := f.Truncate(0); err == nil {
		_, err = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return func() error {
		f.Truncate(0)
		return f.Close() // closing releases the lock
	}, nil
}
