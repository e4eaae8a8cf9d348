package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/pollen-p2p/pollen"
	"github.com/pollen-p2p/pollen/ui"
)

func init() {
	register(&command{
		name:    "swarm-key",
		args:    "",
		summary: "make this repo's node part of a private network (writes swarm.key)",
		help: `swarm-key writes a new swarm.key into the repo (Kubo's format, so a Kubo
node with the same file joins too) and says where. Copy that file into the
repo of every node of the network: from then on each connects only to nodes
holding the same key. In such a network pollen runs over TCP alone (go-libp2p
has no QUIC with a pre-shared key), and its DHT needs --bootstrap peers of
the network. To leave it, delete the file.

To share some things with some people, 'pollen share --private' is usually
the better tool: it keeps every transport and the rest of the network.`,
		run: runSwarmKey,
	})
}

func runSwarmKey(ctx context.Context, e *env, o *opts, args []string) error {
	if len(args) != 0 {
		return usagef("swarm-key takes no arguments")
	}
	dir, err := repoDir(o)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	path := filepath.Join(dir, pollen.SwarmKeyFile)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return fmt.Errorf("%s exists already: this node is in a private network (delete the file to leave it)", ui.Escape(path))
	}
	if err != nil {
		return err
	}
	if _, err := f.Write(pollen.NewSwarmKey()); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, path)
	fmt.Fprintln(e.stderr, "wrote a new swarm key; copy this file into the repo of every node of the network (restart a running daemon)")
	return nil
}
