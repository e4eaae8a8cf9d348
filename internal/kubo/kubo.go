// Package kubo builds and runs a real Kubo (go-ipfs) node for pollen's
// interop tests and benchmarks: Kubo v0.42.0 from the Go module proxy,
// built once into the user's cache folder (or taken from $POLLEN_KUBO).
package kubo

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Version is the Kubo release the tests speak to.
const Version = "v0.42.0"

var build struct {
	sync.Once
	bin string
	err error
}

// Bin returns the path of an ipfs binary: $POLLEN_KUBO, or one built here.
// `go install` of Kubo is refused by the module proxy here, so it is built
// in a module of its own with `go get -tool`.
func Bin() (string, error) {
	build.Do(func() {
		if b := os.Getenv("POLLEN_KUBO"); b != "" {
			build.bin = b
			return
		}
		cache, err := os.UserCacheDir()
		if err != nil {
			build.err = err
			return
		}
		dir := filepath.Join(cache, "pollen-kubo-"+Version)
		bin := filepath.Join(dir, "ipfs")
		if _, err := os.Stat(bin); err == nil {
			build.bin = bin
			return
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			build.err = err
			return
		}
		steps := [][]string{
			{"go", "mod", "init", "kubobuild"},
			{"go", "get", "-tool", "github.com/ipfs/kubo/cmd/ipfs@" + Version},
			{"go", "build", "-o", "ipfs", "github.com/ipfs/kubo/cmd/ipfs"},
		}
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			steps = steps[1:]
		}
		for _, s := range steps {
			cmd := exec.Command(s[0], s[1:]...)
			cmd.Dir = dir
			if out, err := cmd.CombinedOutput(); err != nil {
				build.err = fmt.Errorf("building Kubo: %s: %v\n%s", strings.Join(s, " "), err, out)
				return
			}
		}
		build.bin = bin
	})
	return build.bin, build.err
}

// Node is a Kubo repo, and its daemon once started.
type Node struct {
	Bin, Repo string
	daemon    *exec.Cmd
}

// Init makes a Kubo repo in dir with the test and unixfs-v1-2025
// profiles: loopback only, no bootstrap peers, no mDNS.
func Init(dir string) (*Node, error) {
	bin, err := Bin()
	if err != nil {
		return nil, err
	}
	n := &Node{Bin: bin, Repo: dir}
	if _, err := n.Run("init", "--profile=test,unixfs-v1-2025"); err != nil {
		return nil, err
	}
	return n, nil
}

// Run runs an ipfs command on this repo and returns its stdout.
func (n *Node) Run(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, n.Bin, args...)
	cmd.Env = append(os.Environ(), "IPFS_PATH="+n.Repo)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return string(out), fmt.Errorf("ipfs %s: %v: %s", strings.Join(args, " "), err, stderr.String())
	}
	return string(out), nil
}

// Start runs the daemon and waits until it is ready.
func (n *Node) Start() error {
	cmd := exec.Command(n.Bin, "daemon")
	cmd.Env = append(os.Environ(), "IPFS_PATH="+n.Repo)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		return err
	}
	n.daemon = cmd
	ready := make(chan bool, 1)
	var log strings.Builder
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			log.WriteString(sc.Text() + "\n")
			if strings.Contains(sc.Text(), "Daemon is ready") {
				ready <- true
			}
		}
		ready <- false
	}()
	select {
	case ok := <-ready:
		if !ok {
			return fmt.Errorf("ipfs daemon exited:\n%s", log.String())
		}
		return nil
	case <-time.After(2 * time.Minute):
		n.Stop()
		return fmt.Errorf("ipfs daemon not ready after 2 minutes")
	}
}

// Addrs returns the daemon's swarm addresses with /p2p/ID.
func (n *Node) Addrs() ([]string, error) {
	out, err := n.Run("id")
	if err != nil {
		return nil, err
	}
	var id struct{ Addresses []string }
	if err := json.Unmarshal([]byte(out), &id); err != nil {
		return nil, err
	}
	return id.Addresses, nil
}

// Stop ends the daemon.
func (n *Node) Stop() {
	if n.daemon != nil {
		n.daemon.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { n.daemon.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			n.daemon.Process.Kill()
			<-done
		}
		n.daemon = nil
	}
}
