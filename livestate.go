package pollen

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/pollen-p2p/pollen/live"
)

// What the node keeps of live folders, in REPO/live: each shared
// folder's key (mode 0600) and the state of every live share and follow
// (lives.json), so the daemon takes them up again after a restart, and
// each mirror's manifest (what the mirror last wrote).
const (
	liveDir   = "live"
	livesFile = "lives.json"
	// KeepVersions is how many versions of a live folder a node keeps
	// recorded (and serves); older ones are garbage for GC unless
	// something else records them.
	KeepVersions = 3
)

// LiveInfo is a live share or follow as ls shows it.
type LiveInfo struct {
	Follow    bool      `json:"follow"` // a mirror of someone's folder; else this node's folder
	Name      peer.ID   `json:"name"`   // the folder's name: its key's peer ID
	Dir       string    `json:"dir"`    // the shared folder, or the mirror
	Seq       uint64    `json:"seq"`    // the version held; 0 before the first
	Root      string    `json:"root,omitempty"`
	Versions  []string  `json:"versions,omitempty"` // roots kept, oldest first
	Changed   time.Time `json:"changed,omitzero"`   // when the version held was made here
	Holders   []string  `json:"holders,omitempty"`  // a follow's peers to ask (multiaddrs with /p2p/)
	KeyFile   string    `json:"key,omitempty"`      // a share's key, in the repo
	Followers int       `json:"followers"`          // peers following it here now
	Conflicts []string  `json:"conflicts,omitempty"`
	Err       string    `json:"err,omitempty"` // the last error, when the last try failed
	// Record is the signed record of the version held, served again
	// after a restart.
	Record []byte `json:"record,omitempty"`
}

// lives is the node's live folders, saved in lives.json.
type lives struct {
	mu   sync.Mutex
	book *live.Book
	all  []*LiveInfo
	// running stops each running share or follow, by its name.
	running map[peer.ID]func()
}

func (n *Node) livesPath() string { return filepath.Join(n.dir, liveDir, livesFile) }

// loadLives reads lives.json once.
func (n *Node) loadLives() error {
	n.lv.mu.Lock()
	defer n.lv.mu.Unlock()
	if n.lv.running != nil {
		return nil
	}
	n.lv.running = map[peer.ID]func(){}
	b, err := os.ReadFile(n.livesPath())
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("live folders: %w", err)
	}
	if err := json.Unmarshal(b, &n.lv.all); err != nil {
		return fmt.Errorf("live folders: %s: %w", n.livesPath(), err)
	}
	return nil
}

// saveLives writes lives.json; the caller holds n.lv.mu.
func (n *Node) saveLives() error {
	b, err := json.MarshalIndent(n.lv.all, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(n.livesPath()), 0o700); err != nil {
		return err
	}
	tmp := n.livesPath() + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, n.livesPath())
}

// update changes the live folder named name under the lock and saves.
func (n *Node) updateLive(name peer.ID, f func(*LiveInfo)) {
	n.lv.mu.Lock()
	defer n.lv.mu.Unlock()
	for _, li := range n.lv.all {
		if li.Name == name {
			f(li)
		}
	}
	if err := n.saveLives(); err != nil {
		n.log.Warn("live folders: save", "err", err)
	}
}

// Lives lists the live shares and follows, with their followers now.
func (n *Node) Lives() ([]LiveInfo, error) {
	if err := n.loadLives(); err != nil {
		return nil, err
	}
	n.lv.mu.Lock()
	var out []LiveInfo
	for _, li := range n.lv.all {
		c := *li
		out = append(out, c)
	}
	n.lv.mu.Unlock()
	if nw := n.online(); nw != nil {
		for i := range out {
			out[i].Followers = nw.live.Followers(out[i].Name)
		}
	}
	return out, nil
}

// keepVersion adds root to the versions kept and forgets the records of
// those past KeepVersions; the caller holds no lock.
func (n *Node) keepVersion(li *LiveInfo, root string) []string {
	vs := append(li.Versions, root)
	var drop []string
	if len(vs) > KeepVersions {
		drop, vs = vs[:len(vs)-KeepVersions], vs[len(vs)-KeepVersions:]
	}
	li.Versions = vs
	return drop
}
