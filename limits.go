package pollen

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/pollen-p2p/pollen/swarm"
)

// A node's rate limits live in the repo (limitsFile), so that limits set
// while the daemon runs hold after a restart. Open does not apply them
// by itself: the command line reads them (SavedLimits) and lets the
// flags of one run override them.

// limitsFile holds the saved limits, in bytes a second.
const limitsFile = "limits.json"

// ErrNotShaped: limits cannot change on a running node that started with
// none and not Config.Shaped.
var ErrNotShaped = swarm.ErrNotShaped

// ErrBadLimits: a rate below zero.
var ErrBadLimits = errors.New("a rate cannot be negative (0 is no limit)")

// savedLimits is limitsFile's form.
type savedLimits struct {
	Up     int64 `json:"up"`
	Down   int64 `json:"down"`
	PeerUp int64 `json:"peer_up"`
}

// SavedLimits returns the limits saved in the repo; none when none were.
func (n *Node) SavedLimits() (Limits, error) {
	b, err := os.ReadFile(filepath.Join(n.dir, limitsFile))
	if errors.Is(err, os.ErrNotExist) {
		return Limits{}, nil
	}
	if err != nil {
		return Limits{}, fmt.Errorf("read limits: %w", err)
	}
	var s savedLimits
	if err := json.Unmarshal(b, &s); err != nil {
		return Limits{}, fmt.Errorf("read limits: %s is damaged: %w", filepath.Join(n.dir, limitsFile), err)
	}
	l := Limits{Up: s.Up, Down: s.Down, PeerUp: s.PeerUp}
	if l.Up < 0 || l.Down < 0 || l.PeerUp < 0 {
		return Limits{}, fmt.Errorf("read limits: %w", ErrBadLimits)
	}
	return l, nil
}

// SaveLimits applies l now (SetLimits) and saves it for the next start.
// Nothing is saved when the running node cannot take it.
func (n *Node) SaveLimits(l Limits) error {
	if l.Up < 0 || l.Down < 0 || l.PeerUp < 0 {
		return fmt.Errorf("set limits: %w", ErrBadLimits)
	}
	if err := n.SetLimits(l); err != nil {
		return fmt.Errorf("set limits: %w", err)
	}
	b, _ := json.Marshal(savedLimits{Up: l.Up, Down: l.Down, PeerUp: l.PeerUp})
	path := filepath.Join(n.dir, limitsFile)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("save limits: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil { // whole, or the old one
		os.Remove(tmp)
		return fmt.Errorf("save limits: %w", err)
	}
	return nil
}

// SetLimits changes the node's upload and download rates: those it
// starts with, before StartNetwork; while it runs, when it started with
// a limit or Config.Shaped (see swarm.SetLimits). SaveLimits keeps them.
func (n *Node) SetLimits(l Limits) error {
	if nw := n.online(); nw != nil {
		return nw.swarm.SetLimits(l)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.cfg.Limits = l
	return nil
}

// Limits returns the rates the node runs with (or will, before
// StartNetwork).
func (n *Node) Limits() Limits {
	if nw := n.online(); nw != nil {
		return nw.swarm.Limits()
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.cfg.Limits
}

// Wire returns the bytes the node sent and received on its connections,
// framing included (see swarm.Swarm.Wire); ok is false when it does not
// count them (offline, or started with no limit and not Config.Shaped).
func (n *Node) Wire() (sent, received int64, ok bool) {
	if nw := n.online(); nw != nil {
		return nw.swarm.Wire()
	}
	return 0, 0, false
}
