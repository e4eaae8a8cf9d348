package exchange

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

const mb = 1 << 20

// reversed is a stand-in for the getter's own random order.
func reversed(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = n - 1 - i
	}
	return out
}

func sched(n int) *scheduler {
	sizes := make([]int64, n)
	for i := range sizes {
		sizes[i] = mb
	}
	return newScheduler(sizes, reversed, time.Unix(0, 0))
}

func all(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// picks asks for up to n picks for p, stopping at the first -1.
func picks(s *scheduler, p peer.ID, n int) []int {
	var out []int
	for range n {
		i := s.next(p)
		if i < 0 {
			break
		}
		out = append(out, i)
	}
	return out
}

// drain picks for p one block at a time, each arriving before the next
// pick, up to n, stopping at the first -1: the order p is asked in,
// whatever its window.
func drain(s *scheduler, p peer.ID, n int) []int {
	var out []int
	for range n {
		i := s.next(p)
		if i < 0 {
			break
		}
		s.answered(p, i, true, mb)
		out = append(out, i)
	}
	return out
}

func TestScheduler(t *testing.T) {
	const a, b, c = peer.ID("a"), peer.ID("b"), peer.ID("c")
	cases := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"ties in DAG order while every peer holds all", func(t *testing.T) {
			s := sched(4)
			s.addPeer(a, 100*mb) // a wide window
			s.haves(a, all(4))
			if got := picks(s, a, 10); !slices.Equal(got, []int{0, 1, 2, 3}) {
				t.Errorf("picks %v, want DAG order", got)
			}
		}},
		{"rarest first", func(t *testing.T) {
			s := sched(4)
			s.addPeer(a, 100*mb)
			s.addPeer(b, 100*mb)
			s.haves(a, all(4))
			s.haves(b, []int{0, 1})
			// 2 and 3 are held by a alone: a asks for them first.
			if got := drain(s, a, 2); !slices.Equal(got, []int{3, 2}) {
				t.Errorf("a picks %v, want the rare 3 and 2 (in the getter's own order)", got)
			}
		}},
		{"a second getter holding part: its own order, no overlap", func(t *testing.T) {
			s := sched(4)
			s.addPeer(a, 100*mb) // the seeder
			s.addPeer(b, 100*mb) // another getter, holding block 0
			s.addPeer(c, 100*mb) // a second seeder: no super-seeding
			s.haves(a, all(4))
			s.haves(c, all(4))
			s.haves(b, []int{0})
			got := picks(s, a, 4)
			if !slices.Equal(got, []int{3, 2, 1, 0}) {
				t.Errorf("seeder picks %v: the rarest (1-3, in the getter's order), then 0", got)
			}
			// Everything is asked for: idle b races a for the one it holds,
			// once a's request is late.
			if got := picks(s, b, 1); len(got) != 0 {
				t.Errorf("idle b picks %v before a's request is late", got)
			}
			s.elapsed += endgameAfter
			if got := picks(s, b, 1); !slices.Equal(got, []int{0}) {
				t.Errorf("idle b in endgame picks %v, want 0", got)
			}
		}},
		{"endgame: an idle peer asks again, at most twice a block", func(t *testing.T) {
			s := sched(2)
			s.addPeer(a, 100*mb)
			s.addPeer(b, 100*mb)
			s.addPeer(c, 100*mb)
			s.haves(a, all(2))
			s.haves(b, all(2))
			s.haves(c, all(2))
			if got := picks(s, a, 2); len(got) != 2 {
				t.Fatalf("a picks %v", got)
			}
			s.elapsed += endgameAfter
			if got := picks(s, b, 1); !slices.Equal(got, []int{0}) {
				t.Errorf("idle b in endgame picks %v, want a duplicate of 0", got)
			}
			if got := picks(s, b, 1); len(got) != 0 {
				t.Errorf("b, no longer idle, picks %v", got)
			}
			if got := picks(s, c, 1); !slices.Equal(got, []int{1}) {
				t.Errorf("idle c picks %v, want 1 (0 is asked twice)", got)
			}
			if first := s.answered(b, 0, true, mb); !first {
				t.Error("b's copy of 0 arrived first but was not counted first")
			}
			if first := s.answered(a, 0, true, mb); first {
				t.Error("a's late copy of 0 counted as first")
			}
		}},
		{"endgame waits twice what a slow peer's queue takes", func(t *testing.T) {
			s := sched(2)
			s.addPeer(a, 0)
			s.addPeer(b, 100*mb)
			s.haves(a, all(2))
			s.haves(b, all(2))
			s.peers[a].received = mb / 8 // 0.5 MiB/s
			s.tick(250 * time.Millisecond)
			x := picks(s, a, 2)
			if len(x) != 1 {
				t.Fatalf("slow a picks %v, want one block", x)
			}
			y := picks(s, b, 1)
			s.answered(b, y[0], true, mb)
			s.elapsed += endgameAfter
			if got := picks(s, b, 1); len(got) != 0 {
				t.Errorf("idle b picks %v after endgameAfter; a sends its 1 MiB in 2 s", got)
			}
			s.elapsed += 4 * time.Second
			if got := picks(s, b, 1); !slices.Equal(got, x) {
				t.Errorf("idle b picks %v once a is late, want %v", got, x)
			}
		}},
		{"no second request while a block some peer holds is free", func(t *testing.T) {
			s := sched(4)
			s.addPeer(a, 1) // a slow seeder: one block in flight (minWindow)
			s.addPeer(b, 100*mb)
			s.addPeer(c, 100*mb)
			s.haves(a, all(4))
			s.haves(b, []int{1, 2})
			s.haves(c, []int{2})
			if got := picks(s, a, 4); len(got) != 1 || got[0] == 1 || got[0] == 2 {
				t.Fatalf("seeder picks %v, want one of the rarest, 0 or 3", got)
			}
			if got := picks(s, b, 1); !slices.Equal(got, []int{1}) {
				t.Fatalf("b picks %v, want 1", got)
			}
			if got := picks(s, c, 1); !slices.Equal(got, []int{2}) {
				t.Fatalf("c picks %v, want 2", got)
			}
			s.answered(b, 1, true, mb)
			// b is idle, but a block waits for the seeder's window: a copy
			// of 2 from b now would be a copy the swarm pays twice for.
			if got := picks(s, b, 1); len(got) != 0 {
				t.Errorf("b picks %v with a block still free", got)
			}
			for i := range 4 { // the seeder's one request arrives
				if s.peers[a].asking[i] {
					s.answered(a, i, true, mb)
				}
			}
			if got := picks(s, a, 1); len(got) != 1 {
				t.Fatalf("the seeder picks %v, want the last free block", got)
			}
			s.elapsed += endgameAfter
			if got := picks(s, b, 1); !slices.Equal(got, []int{2}) {
				t.Errorf("with nothing free, idle b picks %v, want a copy of 2", got)
			}
		}},
		{"a spare peer is asked only for what no other peer holds", func(t *testing.T) {
			s := sched(4)
			s.addPeer(a, 100*mb) // the sharer
			s.setSpare(a)
			s.haves(a, all(4))
			if got := picks(s, a, 1); len(got) != 0 {
				t.Errorf("spare a picks %v before spareGrace, with no other peer", got)
			}
			s.addPeer(b, 100*mb) // a follower holding 0-2
			if got := picks(s, a, 1); len(got) != 0 {
				t.Errorf("spare a picks %v before b answered", got)
			}
			s.haves(b, []int{0, 1, 2})
			if got := picks(s, a, 4); !slices.Equal(got, []int{3}) {
				t.Errorf("spare a picks %v, want 3, which b lacks", got)
			}
			s.answered(a, 3, true, mb)
			s.dropPeer(b) // b leaves: what it held is a's to send, by spareGrace
			s.elapsed += spareGrace
			if got := picks(s, a, 4); len(got) != 3 {
				t.Errorf("spare a picks %v after b left, want 0-2", got)
			}
		}},
		{"a spare peer's grace counts from the fetch's start, not each level's", func(t *testing.T) {
			s := sched(2)
			s.graceFrom(s.since.Add(-spareGrace)) // a later level: the others had their time
			s.addPeer(a, 100*mb)
			s.setSpare(a)
			s.haves(a, all(2))
			if got := picks(s, a, 2); len(got) != 2 {
				t.Errorf("spare a alone picks %v on a later level, want both blocks at once", got)
			}
			s = sched(2)
			s.graceFrom(s.since.Add(-spareGrace / 2))
			s.addPeer(a, 100*mb)
			s.setSpare(a)
			s.haves(a, all(2))
			if got := picks(s, a, 2); len(got) != 0 {
				t.Errorf("spare a picks %v half a grace in", got)
			}
			s.elapsed += spareGrace / 2
			if got := picks(s, a, 2); len(got) != 2 {
				t.Errorf("spare a picks %v once the grace is over, want both", got)
			}
			s = sched(2)
			s.graceFrom(s.since.Add(-spareGrace))
			s.addPeer(a, 100*mb)
			s.setSpare(a)
			s.addPeer(b, 100*mb) // another follower, known, not answered yet
			s.haves(a, all(2))
			if got := picks(s, a, 2); len(got) != 0 {
				t.Errorf("spare a picks %v before the known b answered", got)
			}
			s.haves(b, all(2))
			if got := picks(s, b, 2); len(got) != 2 {
				t.Errorf("b picks %v, want both", got)
			}
		}},
		{"a slow peer gets a short window, a fast one a long one", func(t *testing.T) {
			s := sched(40)
			s.addPeer(a, 0)
			s.addPeer(b, 0)
			s.haves(a, all(40))
			s.haves(b, all(40))
			s.peers[a].received = mb / 8 // in one tick: 0.5 MiB/s
			s.peers[b].received = 5 * mb // 20 MiB/s
			s.tick(250 * time.Millisecond)
			if got := picks(s, a, 40); len(got) != 1 {
				t.Errorf("slow a has %d blocks in flight, want 1 (minWindow)", len(got))
			}
			if got := picks(s, b, 40); len(got) != 20 {
				t.Errorf("fast b has %d blocks in flight, want 20 (one second of its rate)", len(got))
			}
		}},
		{"slow start: the window grows by what arrives", func(t *testing.T) {
			s := sched(8)
			s.addPeer(a, 0)
			s.haves(a, all(8))
			if got := picks(s, a, 8); len(got) != startWindow/mb {
				t.Fatalf("a new peer starts with %d in flight, want %d", len(got), startWindow/mb)
			}
			s.answered(a, 0, true, mb)
			if got := picks(s, a, 8); len(got) != 2 {
				t.Errorf("after one block, %d more in flight, want 2", len(got))
			}
		}},
		{"a peer leaving frees what it was asked for", func(t *testing.T) {
			s := sched(2)
			s.addPeer(a, 100*mb)
			s.addPeer(b, 100*mb)
			s.addPeer(c, 100*mb)
			s.haves(a, all(2))
			s.haves(c, all(2))
			s.haves(b, []int{0})
			if got := picks(s, a, 2); len(got) != 2 {
				t.Fatalf("a picks %v", got)
			}
			s.dropPeer(c)
			s.dropPeer(a)
			if got := picks(s, b, 2); !slices.Equal(got, []int{0}) {
				t.Errorf("after a left, b picks %v, want 0", got)
			}
			if s.state[1].holders != 0 || s.state[1].asked != 0 {
				t.Errorf("block 1 still counts a: %+v", s.state[1])
			}
		}},
		{"a peer that no longer holds a block is not asked again", func(t *testing.T) {
			s := sched(1)
			s.addPeer(a, 100*mb)
			s.haves(a, all(1))
			picks(s, a, 1)
			s.answered(a, 0, false, 0)
			if got := picks(s, a, 1); len(got) != 0 || s.state[0].holders != 0 {
				t.Errorf("picks %v, holders %d", got, s.state[0].holders)
			}
		}},
		{"blocks nobody holds go to Bitswap once every peer answered", func(t *testing.T) {
			s := sched(3)
			s.addPeer(a, 100*mb)
			now := time.Unix(0, 0)
			if got := s.orphans(now); len(got) != 0 {
				t.Errorf("before a answered: %v to Bitswap", got)
			}
			s.haves(a, []int{1})
			if got := s.orphans(now); !slices.Equal(got, []int{0, 2}) {
				t.Errorf("to Bitswap %v, want [0 2]", got)
			}
			if got := s.orphans(now); len(got) != 0 {
				t.Errorf("handed twice: %v", got)
			}
			if got := picks(s, a, 3); !slices.Equal(got, []int{1}) {
				t.Errorf("a picks %v, want only 1", got)
			}
		}},
		{"while another getter fetches the level, nothing goes to Bitswap", func(t *testing.T) {
			s := sched(3)
			s.addPeer(b, 100*mb) // a getter fetching 0 from a seeder not met here yet
			s.haves(b, nil)
			s.fetching(b, []int{0})
			start := time.Unix(0, 0)
			if got := s.orphans(start.Add(orphanAfter)); len(got) != 0 {
				t.Errorf("to Bitswap %v while b fetches", got)
			}
			s.tick(fetchHold) // b's word expires
			if got := s.orphans(start.Add(fetchHold)); !slices.Equal(got, []int{0, 1, 2}) {
				t.Errorf("to Bitswap %v after fetchHold, want all", got)
			}
		}},
		{"a block handed to Bitswap is taken back by a pollen peer that gets it later", func(t *testing.T) {
			s := sched(2)
			s.addPeer(a, 100*mb)
			s.haves(a, []int{1})
			if got := s.orphans(time.Unix(0, 0)); !slices.Equal(got, []int{0}) {
				t.Fatalf("to Bitswap %v, want [0]", got)
			}
			s.addPeer(b, 100*mb) // another getter, which fetched block 0
			s.haves(b, []int{0})
			if got := picks(s, b, 2); !slices.Equal(got, []int{0}) {
				t.Errorf("b picks %v, want [0]: Bitswap may be asking a slow seeder", got)
			}
			if !s.takeBack(0) || s.takeBack(0) {
				t.Error("block 0, asked of b, is not taken back from Bitswap once")
			}
			if first := s.answered(b, 0, true, mb); !first || !s.stored(0) {
				t.Error("b's copy was not the first")
			}
			if got := s.orphans(time.Unix(0, 0)); len(got) != 0 {
				t.Errorf("handed again: %v", got)
			}
		}},
		{"a block taken back that the pollen peer lacks goes to Bitswap again", func(t *testing.T) {
			s := sched(1)
			s.addPeer(a, 100*mb)
			s.haves(a, nil)
			if got := s.orphans(time.Unix(0, 0)); !slices.Equal(got, []int{0}) {
				t.Fatalf("to Bitswap %v, want [0]", got)
			}
			s.haves(a, []int{0})
			if got := picks(s, a, 1); !slices.Equal(got, []int{0}) || !s.takeBack(0) {
				t.Fatalf("a picks %v", got)
			}
			s.answered(a, 0, false, 0) // it no longer has it
			if got := s.orphans(time.Unix(0, 0)); !slices.Equal(got, []int{0}) {
				t.Errorf("to Bitswap again: %v, want [0]", got)
			}
		}},
		{"a silent peer does not hold blocks back from Bitswap for long", func(t *testing.T) {
			s := sched(1)
			s.addPeer(a, 100*mb) // never answers
			start := time.Unix(0, 0)
			if got := s.orphans(start); len(got) != 0 {
				t.Errorf("at once: %v", got)
			}
			if got := s.orphans(start.Add(orphanAfter)); !slices.Equal(got, []int{0}) {
				t.Errorf("after orphanAfter: %v, want [0]", got)
			}
		}},
		{"stored counts a block once", func(t *testing.T) {
			s := sched(2)
			if !s.stored(1) || s.stored(1) || s.left != 1 {
				t.Errorf("left %d", s.left)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, tc.run)
	}
}

// TestSchedulerCountsFreeBlocks plays random events at a scheduler and
// checks after each that its counts (free blocks, whole holders, peers
// fetching a block) are what a scan finds: the endgame and
// super-seeding wait on them.
func TestSchedulerCountsFreeBlocks(t *testing.T) {
	ids := []peer.ID{"a", "b", "c", "d"}
	for seed := range uint64(200) {
		r := rand.New(rand.NewPCG(seed, 1))
		n := 1 + r.IntN(12)
		s := sched(n)
		for step := range 200 {
			id := ids[r.IntN(len(ids))]
			switch r.IntN(9) {
			case 0:
				if !s.known(id) {
					s.addPeer(id, float64(r.IntN(4))*mb)
				}
			case 1:
				s.dropPeer(id)
			case 2:
				if s.known(id) {
					var idx []int
					for i := range n {
						if r.IntN(2) == 0 {
							idx = append(idx, i)
						}
					}
					s.haves(id, idx)
				}
			case 3, 4:
				s.next(id)
			case 5:
				if p := s.peers[id]; p != nil {
					for i, asking := range p.asking {
						if asking {
							s.answered(id, i, r.IntN(3) > 0, mb)
							break
						}
					}
				}
			case 6:
				s.stored(r.IntN(n))
			case 7:
				s.fetching(id, []int{r.IntN(n)})
			case 8:
				s.tick(time.Duration(r.IntN(20)) * time.Second)
			}
			want, whole, live := 0, 0, 0
			for i := range n {
				if s.freeNow(i) {
					want++
				}
				fetchers := 0
				for _, p := range s.peers {
					if p.claimed != nil && p.claimed[i] == claimLive {
						fetchers++
					}
				}
				live += fetchers
				if s.state[i].fetchers != fetchers {
					t.Fatalf("seed %d step %d: block %d has %d fetchers, a scan finds %d", seed, step, i, s.state[i].fetchers, fetchers)
				}
			}
			for _, p := range s.peers {
				if p.holds == n {
					whole++
				}
			}
			if s.free != want || s.whole != whole || s.live != live {
				t.Fatalf("seed %d step %d: free %d whole %d live %d, a scan finds %d, %d and %d", seed, step, s.free, s.whole, s.live, want, whole, live)
			}
		}
	}
}
