package main_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pollen-p2p/pollen/internal/netlab"
)

// TestSwarmSeederUploadsAboutOneCopy: one seeder and four getters, each
// on a public node of the lab whose uploads are limited to 16 Mbit/s,
// the getters started together (bench/swarm.sh, small enough for CI).
// The getters tell each other what they fetch and ask the seeder only
// for what no other getter holds or fetches (super-seeding), so the
// seeder uploads about one copy of the file, not one per getter; and
// every getter ends with the seeder's bytes.
func TestSwarmSeederUploadsAboutOneCopy(t *testing.T) {
	const getters, mib, mbit = 4, 32, 16
	lab := netlab.New(t)
	src := bigFile(t, mib)
	listen := []string{"--listen", "/ip4/0.0.0.0/tcp/4011", "--offline"}
	seedNode := lab.Public("seed")
	slowLink(t, seedNode, mbit)
	seeder := startServerCmd(t, seedNode.Command(context.Background(), pollenBin(t),
		append([]string{"--repo", t.TempDir(), "share", src}, listen...)...))
	defer seeder.kill()

	type getter struct {
		cmd    *exec.Cmd
		out    string
		stdout *syncBuffer
		stderr *syncBuffer
		exited chan error
	}
	gs := make([]*getter, getters)
	for i := range gs {
		n := lab.Public(fmt.Sprintf("g%d", i))
		slowLink(t, n, mbit)
		g := &getter{out: t.TempDir(), stdout: &syncBuffer{}, stderr: &syncBuffer{}, exited: make(chan error, 1)}
		g.cmd = n.Command(context.Background(), pollenBin(t), append([]string{"--repo", t.TempDir(), "get", seeder.ticket,
			"-o", g.out, "--seed", "--timeout", "2m"}, listen...)...)
		g.cmd.Env = append(os.Environ(), "POLLEN_REPO=")
		g.cmd.Stdout, g.cmd.Stderr = g.stdout, g.stderr
		gs[i] = g
	}
	begin := time.Now()
	for _, g := range gs {
		if err := g.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() { g.exited <- g.cmd.Wait() }()
	}
	defer func() {
		for _, g := range gs {
			g.cmd.Process.Kill()
		}
	}()
	// Each getter prints "saved" and seeds on.
	deadline := time.After(2 * time.Minute)
	for i, g := range gs {
		for !strings.Contains(g.stdout.String(), "saved ") {
			select {
			case err := <-g.exited:
				t.Fatalf("getter %d exited (%v) before it saved the file:\n%s", i, err, g.stderr)
			case <-deadline:
				t.Fatalf("getter %d not done after 2 minutes:\n%s", i, g.stderr)
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
	t.Logf("%d getters of %d MiB done in %s", getters, mib, time.Since(begin).Round(100*time.Millisecond))
	for _, g := range gs {
		sameFile(t, src, filepath.Join(g.out, filepath.Base(src)))
	}
	sent := seeder.stop()
	copies := float64(sent) / float64(mib<<20)
	t.Logf("the seeder uploaded %.2f copies", copies)
	if copies > 1.5 {
		t.Errorf("the seeder uploaded %.2f copies of the file to %d getters, want at most 1.5", copies, getters)
		for i, g := range gs {
			t.Logf("getter %d:\n%s", i, g.stderr)
		}
	}
}
