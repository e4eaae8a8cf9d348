package exchange

import (
	"fmt"
	"slices"
	"testing"

	"github.com/libp2p/go-libp2p/core/peer"
)

// TestSchedulerChoked: what a getter does when a peer chokes it or
// sends at a trickle, and its cancels (issue 16).
func TestSchedulerChoked(t *testing.T) {
	const a, b, c = peer.ID("a"), peer.ID("b"), peer.ID("c")
	cases := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"a choking peer is asked nothing until it unchokes; its block goes to another", func(t *testing.T) {
			s := sched(2)
			s.addPeer(b, 100*mb)
			s.addPeer(c, 100*mb)
			s.haves(b, all(2))
			s.haves(c, all(2))
			got := picks(s, b, 2)
			if len(got) != 2 {
				t.Fatalf("b picks %v", got)
			}
			s.withheld(b, got[0], true)
			s.withheld(b, got[1], true)
			if more := picks(s, b, 2); len(more) != 0 {
				t.Errorf("choked b picks %v", more)
			}
			if cs := picks(s, c, 2); len(cs) != 2 {
				t.Errorf("c picks %v, want both blocks b withheld", cs)
			}
			s.withheld(c, 0, false) // cancelled: c does not choke
			s.unchoked(b)
			if more := picks(s, b, 2); !slices.Equal(more, []int{0}) {
				t.Errorf("unchoked b picks %v, want 0, freed by c's cancel", more)
			}
			if more := picks(s, c, 2); len(more) != 0 {
				t.Errorf("c picks %v: a cancel is not a choke, but nothing is left", more)
			}
		}},
		{"super-seeding: a block held only by a choking getter is the seeder's", func(t *testing.T) {
			s := sched(3)
			s.addPeer(a, 100*mb) // the seeder
			s.addPeer(b, 100*mb) // a getter that takes and does not send
			s.haves(a, all(3))
			s.haves(b, []int{0, 1})
			if got := picks(s, b, 1); !slices.Equal(got, []int{1}) {
				t.Fatalf("b picks %v, want 1", got)
			}
			if got := drain(s, a, 3); !slices.Equal(got, []int{2}) {
				t.Fatalf("seeder picks %v, want 2", got)
			}
			s.withheld(b, 1, true)
			if got := drain(s, a, 3); !slices.Equal(got, []int{1, 0}) {
				t.Errorf("with b choking, the seeder picks %v, want 1 and 0", got)
			}
		}},
		{"super-seeding holds again once the choking getter unchokes", func(t *testing.T) {
			s := sched(3)
			s.addPeer(a, 100*mb)
			s.addPeer(b, 100*mb)
			s.haves(a, all(3))
			s.haves(b, []int{0})
			picks(s, b, 1)
			s.withheld(b, 0, true)
			s.unchoked(b)
			s.haves(b, []int{1})
			if got := picks(s, a, 3); !slices.Equal(got, []int{2}) {
				t.Errorf("seeder picks %v, want only 2", got)
			}
		}},
		{"a block that arrives is cancelled at the other peer asked for it", func(t *testing.T) {
			s := sched(1)
			s.addPeer(b, 100*mb)
			s.addPeer(c, 100*mb)
			s.haves(b, all(1))
			s.haves(c, all(1))
			if got := picks(s, b, 1); !slices.Equal(got, []int{0}) {
				t.Fatalf("b picks %v", got)
			}
			s.elapsed += endgameAfter
			if got := picks(s, c, 1); !slices.Equal(got, []int{0}) {
				t.Fatalf("c in endgame picks %v, want 0 again", got)
			}
			s.answered(c, 0, true, mb)
			if got := s.askers(c, 0); !slices.Equal(got, []peer.ID{b}) {
				t.Errorf("to cancel at %v, want b", got)
			}
			s.withheld(b, 0, false)
			if s.peers[b].choked || s.peers[b].pending != 0 || s.state[0].asked != 0 {
				t.Errorf("after the cancel: b choked %v, pending %d, asked %d", s.peers[b].choked, s.peers[b].pending, s.state[0].asked)
			}
		}},
		{"a sluggish holder's blocks are the seeder's, and its stuck block another's", func(t *testing.T) {
			s := sched(4)
			s.addPeer(a, 100*mb) // the seeder
			s.addPeer(b, 100*mb) // a getter that sends at a trickle
			s.addPeer(c, 100*mb) // a getter
			s.haves(a, all(4))
			s.haves(b, []int{0, 1})
			s.haves(c, []int{2})
			if got := picks(s, b, 1); !slices.Equal(got, []int{1}) {
				t.Fatalf("b picks %v, want 1", got)
			}
			if got := picks(s, a, 1); !slices.Equal(got, []int{3}) {
				t.Fatalf("seeder picks %v, want 3, which nobody else holds", got)
			}
			// b sends 1 KB a second, the seeder 1 MB.
			for range 16 {
				s.arrived(a, 250_000)
				s.arrived(b, 250)
				s.tick(tickEvery)
			}
			if !s.peers[b].sluggish || s.peers[a].sluggish {
				t.Fatalf("sluggish: seeder %v, b %v", s.peers[a].sluggish, s.peers[b].sluggish)
			}
			s.answered(a, 3, true, mb)
			if got := drain(s, a, 4); !slices.Equal(got, []int{1, 0}) {
				t.Errorf("seeder picks %v, want 1 (stuck at b) and 0 (b's)", got)
			}
			if got := s.askers(a, 1); !slices.Equal(got, []peer.ID{b}) {
				t.Errorf("once 1 arrived, to cancel at %v, want b", got)
			}
		}},
		{"peers at one pace are none sluggish", func(t *testing.T) {
			s := sched(4)
			s.addPeer(a, 100*mb)
			s.addPeer(b, 100*mb)
			s.haves(a, all(4))
			s.haves(b, []int{0, 1})
			picks(s, b, 1)
			first := picks(s, a, 1)
			for range 16 {
				s.arrived(a, 250_000)
				s.arrived(b, 100_000)
				s.tick(tickEvery)
			}
			if s.peers[b].sluggish {
				t.Error("a peer at 2/5 of the seeder's pace judged sluggish")
			}
			s.answered(a, first[0], true, mb)
			if got := drain(s, a, 4); !slices.Equal(got, []int{5 - first[0]}) {
				t.Errorf("seeder picks %v after %v, want only the other of 2 and 3: b holds the rest", got, first)
			}
		}},
		{"twenty peers sharing the getter's link are none sluggish, a trickle among them is", func(t *testing.T) {
			s := sched(32)
			s.addPeer(a, 100*mb) // the seeder: alone at first, at the link's rate
			s.haves(a, all(32))
			picks(s, a, 1)
			for range 16 {
				s.arrived(a, 300_000)
				s.tick(tickEvery)
			}
			var gs []peer.ID
			for k := range 21 {
				g := peer.ID(fmt.Sprint("g", k))
				gs = append(gs, g)
				s.addPeer(g, 100*mb)
				s.haves(g, []int{k + 1})
				if got := picks(s, g, 1); !slices.Equal(got, []int{k + 1}) {
					t.Fatalf("%s picks %v, want %d", g, got, k+1)
				}
			}
			// Twenty send 60 KB a second each (the getter's link, shared),
			// the last 1 KB; the seeder is idle.
			for range 16 {
				for _, g := range gs[:20] {
					s.arrived(g, 15_000)
				}
				s.arrived(gs[20], 250)
				s.tick(tickEvery)
			}
			for k, g := range gs {
				if got, want := s.peers[g].sluggish, k == 20; got != want {
					t.Errorf("%s sluggish %v, want %v", g, got, want)
				}
			}
		}},
		{"a block two choking getters hold is not the seeder's: one will unchoke", func(t *testing.T) {
			const d = peer.ID("d")
			s := sched(2)
			s.addPeer(a, 100*mb) // the seeder
			s.addPeer(b, 100*mb)
			s.addPeer(c, 100*mb)
			s.addPeer(d, 100*mb) // this getter is choked by b and c
			s.haves(a, all(2))
			s.haves(b, []int{0})
			s.haves(c, []int{0})
			s.haves(d, nil)
			picks(s, b, 1)
			s.withheld(b, 0, true)
			picks(s, c, 1)
			s.withheld(c, 0, true)
			if !s.peers[b].choked || !s.peers[c].choked {
				t.Fatal("b and c do not choke")
			}
			if got := drain(s, a, 2); !slices.Equal(got, []int{1}) {
				t.Errorf("seeder picks %v, want only 1", got)
			}
		}},
		{"a block whose one sending holder leaves is the seeder's again", func(t *testing.T) {
			s := sched(2)
			s.addPeer(a, 100*mb) // the seeder
			s.addPeer(b, 100*mb) // holds 1, sends
			s.addPeer(c, 100*mb) // holds 1, chokes this getter
			s.haves(a, all(2))
			s.haves(b, []int{1})
			s.haves(c, []int{1})
			picks(s, c, 1)
			s.withheld(c, 1, true)
			if got := drain(s, a, 2); !slices.Equal(got, []int{0}) {
				t.Fatalf("seeder picks %v, want 0: b holds 1", got)
			}
			s.dropPeer(b)
			if got := drain(s, a, 2); !slices.Equal(got, []int{1}) {
				t.Errorf("after b left, the seeder picks %v, want 1", got)
			}
		}},
		{"a choking peer that leaves is counted out", func(t *testing.T) {
			s := sched(2)
			s.addPeer(a, 100*mb)
			s.addPeer(b, 100*mb)
			s.haves(a, all(2))
			s.haves(b, []int{0})
			picks(s, b, 1)
			s.withheld(b, 0, true)
			s.dropPeer(b)
			if got := picks(s, a, 2); len(got) != 2 || s.state[0].holders != 1 {
				t.Errorf("seeder picks %v, want both; block 0 has %d holders", got, s.state[0].holders)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, tc.run)
	}
}
