package main

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/pollen-p2p/pollen"
	"github.com/pollen-p2p/pollen/ui"
)

func init() {
	register(&command{
		name:    "unfollow",
		args:    "NAME|DIR...",
		summary: "stop following a live folder; the mirror's files stay",
		help: `NAME is the live folder's name (the LIVE rows of 'pollen ls' list it), DIR
its mirror folder. pollen stops updating the mirror and forgets the follow,
for good: the daemon does not take it up again after a restart. The files
in the mirror stay as they are, and are yours. The versions this node kept
of the folder are no longer served, and 'pollen gc' frees their blocks.
A folder shared live here is stopped with 'pollen rm NAME|DIR'.`,
		run: runUnfollow,
	})
}

func runUnfollow(ctx context.Context, e *env, o *opts, args []string) error {
	if len(args) == 0 {
		return usagef("unfollow: name the live folder or its mirror folder (see 'pollen ls')")
	}
	lv, err := openLives(o)
	if err != nil {
		return err
	}
	defer lv.close()
	var stop []ui.Live
	for _, a := range args {
		l, ok := lv.find(a)
		switch {
		case !ok:
			return pollen.WithKind(pollen.KindNotFound, fmt.Sprintf("unfollow %s: no live folder of that name or mirror folder here (see 'pollen ls')", a))
		case !l.Follow:
			return usagef("unfollow: %s is shared live from here, not followed: 'pollen rm %s' stops it", a, a)
		}
		stop = append(stop, l)
	}
	for _, l := range stop {
		if err := lv.stop(l.Name); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "stopped following %s into %s; its files stay\n", l.Name, ui.Escape(l.Dir))
	}
	return nil
}

// liveSet is the repo's live shares and follows, and how to stop one:
// through the running daemon, which runs them, or in the repo itself.
type liveSet struct {
	all   []ui.Live
	stop  func(peer.ID) error
	close func()
}

// openLives reads the live folders from the running daemon, else from
// the repo (opened offline: stopping needs no network).
func openLives(o *opts) (*liveSet, error) {
	if c := daemonAPI(o); c != nil {
		return livesVia(c)
	}
	node, err := openNode(o)
	if err != nil {
		return nil, err
	}
	lv, err := livesIn(node)
	if err != nil {
		node.Close()
		return nil, err
	}
	lv.close = func() { node.Close() }
	return lv, nil
}

func livesVia(c *apiClient) (*liveSet, error) {
	var all []ui.Live
	if err := c.get("/api/v1/live", &all); err != nil {
		return nil, err
	}
	stop := func(name peer.ID) error {
		return c.call("DELETE", "/api/v1/live/"+name.String(), nil, &struct{}{})
	}
	return &liveSet{all: all, stop: stop, close: func() {}}, nil
}

// livesIn reads node's live folders; the caller closes node.
func livesIn(node *pollen.Node) (*liveSet, error) {
	all, err := ui.LivesOf(node)
	if err != nil {
		return nil, err
	}
	return &liveSet{all: all, stop: node.StopLive, close: func() {}}, nil
}

// find returns the live folder arg names: by its name, or by its folder
// (a live share's folder, a follow's mirror) as a path from here.
func (s *liveSet) find(arg string) (ui.Live, bool) {
	if id, err := peer.Decode(arg); err == nil {
		for _, l := range s.all {
			if l.Name == id {
				return l, true
			}
		}
	}
	if abs, err := filepath.Abs(arg); err == nil {
		for _, l := range s.all {
			if filepath.Clean(l.Dir) == abs {
				return l, true
			}
		}
	}
	return ui.Live{}, false
}
