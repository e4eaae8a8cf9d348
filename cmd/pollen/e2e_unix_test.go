//go:build unix

package main_test

import (
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// What the end-to-end tests do only where there are Unix users and
// permissions.

// runAs runs a pollen command line as the user cred names (nil: as this
// process's user).
func runAs(t *testing.T, cred *syscall.Credential, repo string, args ...string) result {
	t.Helper()
	cmd := pollenCmd(t, repo, args...)
	if cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	}
	return runCmd(t, cmd)
}

// allocated is what a file takes on disk, holes left out.
func allocated(fi os.FileInfo) int64 { return fi.Sys().(*syscall.Stat_t).Blocks * 512 }

func TestUnreadableFile(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "folder")
	os.MkdirAll(src, 0o755)
	os.WriteFile(filepath.Join(src, "ok.txt"), []byte("fine"), 0o644)
	secret := filepath.Join(src, "secret.txt")
	os.WriteFile(secret, []byte("no"), 0o000)
	repo := filepath.Join(dir, "repo")
	var cred *syscall.Credential
	if os.Geteuid() == 0 { // root reads anything: run pollen as nobody
		u, err := user.Lookup("nobody")
		if err != nil {
			t.Skip("running as root and no 'nobody' user to drop to")
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		os.Chmod(filepath.Dir(dir), 0o755) // the test temp root is 0700
		os.Chmod(dir, 0o777)
		os.MkdirAll(repo, 0o700)
		os.Chown(repo, uid, gid)
	}
	runAs(t, cred, repo, "add", src).fails(t, "add "+secret+": permission denied")
	if ls := runAs(t, cred, repo, "ls").ok(t); strings.Contains(ls.stdout, "folder") {
		t.Errorf("a failed add left a share:\n%s", ls.stdout)
	}
}
