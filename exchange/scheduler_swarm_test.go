package exchange

import (
	"slices"
	"testing"

	"github.com/libp2p/go-libp2p/core/peer"
)

// TestSchedulerSwarm: the rules for a crowd fetching from one seeder
// (issue 16): super-seeding, and what other getters say they fetch.
func TestSchedulerSwarm(t *testing.T) {
	const a, b, c = peer.ID("a"), peer.ID("b"), peer.ID("c")
	cases := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"super-seeding: the one whole holder is asked only for what no other peer holds", func(t *testing.T) {
			s := sched(4)
			s.addPeer(a, 100*mb) // the seeder
			s.addPeer(b, 100*mb) // a getter holding 0 and 1
			s.haves(a, all(4))
			s.haves(b, []int{0, 1})
			if got := drain(s, a, 4); !slices.Equal(got, []int{3, 2}) {
				t.Errorf("seeder picks %v, want only 3 and 2, which b lacks", got)
			}
			if got := picks(s, b, 4); !slices.Equal(got, []int{1, 0}) {
				t.Errorf("b picks %v, want 1 and 0", got)
			}
		}},
		{"super-seeding: one block at a time from a seeder others share, even in slow start", func(t *testing.T) {
			s := sched(8)
			s.addPeer(a, 0) // the seeder, in slow start
			s.haves(a, all(8))
			if got := picks(s, a, 8); len(got) != startWindow/mb {
				t.Errorf("alone with the seeder: %d blocks in flight, want the slow start's %d", len(got), startWindow/mb)
			}
			s.addPeer(b, 0) // another getter
			s.haves(b, nil)
			for i := range 8 {
				if s.peers[a].asking[i] {
					s.answered(a, i, true, mb)
				}
			}
			if got := picks(s, a, 8); len(got) != 1 {
				t.Errorf("shared with b: %d blocks in flight, want 1", len(got))
			}
		}},
		{"super-seeding: the seeder is never asked for a second copy", func(t *testing.T) {
			s := sched(2)
			s.addPeer(a, 100*mb) // the seeder
			s.addPeer(b, 100*mb)
			s.haves(a, all(2))
			s.haves(b, []int{0})
			if got := picks(s, b, 1); !slices.Equal(got, []int{0}) {
				t.Fatalf("b picks %v, want 0", got)
			}
			if got := picks(s, a, 2); !slices.Equal(got, []int{1}) {
				t.Fatalf("seeder picks %v, want 1", got)
			}
			s.answered(a, 1, true, mb)
			s.elapsed += endgameAfter
			if got := picks(s, a, 1); len(got) != 0 {
				t.Errorf("idle seeder in endgame picks %v, want nothing: b brings 0", got)
			}
		}},
		{"super-seeding: a block whose other holder leaves is the seeder's again", func(t *testing.T) {
			s := sched(2)
			s.addPeer(a, 100*mb)
			s.addPeer(b, 100*mb)
			s.haves(a, all(2))
			s.haves(b, []int{0})
			if got := picks(s, a, 2); !slices.Equal(got, []int{1}) {
				t.Fatalf("seeder picks %v, want 1", got)
			}
			s.dropPeer(b)
			if got := picks(s, a, 2); !slices.Equal(got, []int{0}) {
				t.Errorf("after b left, the seeder picks %v, want 0", got)
			}
		}},
		{"super-seeding ends once a second peer holds the whole level", func(t *testing.T) {
			s := sched(3)
			s.addPeer(a, 100*mb)
			s.addPeer(b, 100*mb)
			s.haves(a, all(3))
			s.haves(b, []int{0, 1})
			if got := picks(s, a, 3); !slices.Equal(got, []int{2}) {
				t.Fatalf("seeder picks %v, want 2", got)
			}
			s.haves(b, []int{2}) // b holds the whole level too
			if got := picks(s, a, 3); !slices.Equal(got, []int{1, 0}) {
				t.Errorf("with two whole holders the seeder picks %v, want 1 and 0", got)
			}
		}},
		{"a block another getter is fetching is not asked of the seeder", func(t *testing.T) {
			s := sched(3)
			s.addPeer(a, 100*mb) // the seeder
			s.addPeer(b, 100*mb) // a getter, fetching 0 and 1
			s.haves(a, all(3))
			s.haves(b, nil)
			s.fetching(b, []int{0, 1})
			if got := picks(s, a, 3); !slices.Equal(got, []int{2}) {
				t.Errorf("seeder picks %v, want only 2: b brings 0 and 1", got)
			}
			s.haves(b, []int{0}) // b holds 0 now: it is asked of b
			if got := picks(s, b, 3); !slices.Equal(got, []int{0}) {
				t.Errorf("b picks %v, want 0", got)
			}
			if s.state[0].fetchers != 0 {
				t.Errorf("b's claim on 0 still counts once it holds it")
			}
		}},
		{"blocks others are fetching come last, for rarest first", func(t *testing.T) {
			s := sched(3)
			s.addPeer(a, 100*mb) // the seeder
			s.addPeer(b, 100*mb) // a getter holding 0-2
			s.addPeer(c, 100*mb) // a getter fetching 1
			s.haves(a, all(3))
			s.haves(b, all(3)) // two whole holders: no super-seeding
			s.haves(c, nil)
			s.fetching(c, []int{1})
			if got := picks(s, b, 3); !slices.Equal(got, []int{2, 0, 1}) {
				t.Errorf("b picks %v, want 1, which c brings, last", got)
			}
		}},
		{"a claim holds for fetchHold, once", func(t *testing.T) {
			s := sched(2)
			s.addPeer(a, 100*mb) // the seeder
			s.addPeer(b, 100*mb) // says it fetches both, brings nothing
			s.haves(a, all(2))
			s.haves(b, nil)
			s.fetching(b, []int{0, 1})
			if got := picks(s, a, 2); len(got) != 0 {
				t.Errorf("seeder picks %v while b's claims hold", got)
			}
			s.tick(fetchHold)
			s.fetching(b, []int{0, 1}) // said again: not believed
			if got := drain(s, a, 2); !slices.Equal(got, []int{1, 0}) {
				t.Errorf("seeder picks %v after fetchHold, want 1 and 0", got)
			}
		}},
		{"a peer that leaves takes its claims with it", func(t *testing.T) {
			s := sched(2)
			s.addPeer(a, 100*mb)
			s.addPeer(b, 100*mb)
			s.haves(a, all(2))
			s.haves(b, nil)
			s.fetching(b, []int{0})
			if got := picks(s, a, 2); !slices.Equal(got, []int{1}) {
				t.Fatalf("seeder picks %v, want 1", got)
			}
			s.dropPeer(b)
			if got := picks(s, a, 2); !slices.Equal(got, []int{0}) {
				t.Errorf("after b left, the seeder picks %v, want 0", got)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, tc.run)
	}
}
