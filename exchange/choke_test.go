package exchange

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

// getters opens a stream for n getters g0..g(n-1), each asking at t0;
// trading: each holds blocks the node fetches.
func getters(c *choker, n int, trading bool) []peer.ID {
	var ids []peer.ID
	for k := range n {
		id := peer.ID(fmt.Sprintf("g%d", k))
		c.open(id, t0)
		c.want(id, t0, trading)
		ids = append(ids, id)
	}
	return ids
}

func traders(peer.ID) bool   { return true }
func noTraders(peer.ID) bool { return false }

var t0 = time.Unix(1000, 0)

func served(c *choker) []peer.ID {
	var out []peer.ID
	for id, q := range c.peers {
		if q.unchoked {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

// TestChoker: the rules of tit-for-tat unchoking (issue 16).
func TestChoker(t *testing.T) {
	first := func(int) int { return 0 }
	cases := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"getters holding nothing this node fetches are served at once, all of them", func(t *testing.T) {
			c := newChoker(first)
			getters(c, 10, false)
			if n := len(served(c)); n != 10 {
				t.Errorf("%d of 10 served", n)
			}
			c.rechoke(t0.Add(rechokeEvery), noTraders, nil)
			if n := len(served(c)); n != 10 {
				t.Errorf("after a rechoke, %d of 10 served", n)
			}
		}},
		{"getters that are no traders take no slot", func(t *testing.T) {
			c := newChoker(first)
			getters(c, 3, false)
			c.open("t", t0)
			if !c.want("t", t0, true) {
				t.Error("a trader waits though no slot is taken")
			}
		}},
		{"traders take free slots at once, and the next waits", func(t *testing.T) {
			c := newChoker(first)
			ids := getters(c, chokeSlots+1, true)
			if got := served(c); !slices.Equal(got, ids[:chokeSlots]) {
				t.Errorf("served %v, want the first %d", got, chokeSlots)
			}
		}},
		{"the getters that sent the most are served; one more at random", func(t *testing.T) {
			c := newChoker(first)
			ids := getters(c, 7, true)
			// g6..g3 sent the most; g0..g2 were served first but sent nothing.
			got := map[peer.ID]int64{ids[6]: 60, ids[5]: 50, ids[4]: 40, ids[3]: 30}
			c.rechoke(t0.Add(time.Second), traders, got)
			want := []peer.ID{ids[0], ids[3], ids[4], ids[5], ids[6]} // g0: the optimistic slot (first of the rest)
			if s := served(c); !slices.Equal(s, want) {
				t.Errorf("served %v, want %v", s, want)
			}
		}},
		{"a getter that only takes gets no regular slot", func(t *testing.T) {
			k := 0
			c := newChoker(func(n int) int { k++; return k % n })
			ids := getters(c, 6, true)
			taker := ids[0]
			optimistic := 0
			for round := 1; round <= 30; round++ {
				now := t0.Add(time.Duration(round) * rechokeEvery)
				got := map[peer.ID]int64{}
				for _, id := range ids[1:] {
					c.want(id, now, true)
					got[id] = 100
				}
				c.want(taker, now, true)
				c.rechoke(now, traders, got)
				if c.unchoked(taker) {
					if c.optimistic != taker {
						t.Fatalf("round %d: the taker holds a regular slot", round)
					}
					optimistic++
				}
			}
			if optimistic == 0 || optimistic > 20 {
				t.Errorf("the taker was served %d rounds of 30, want some, by the optimistic slot", optimistic)
			}
		}},
		{"the optimistic slot moves every optimisticEvery rechokes", func(t *testing.T) {
			k := 0
			c := newChoker(func(n int) int { k++; return k % n })
			ids := getters(c, 8, true)
			var seen []peer.ID
			for round := 1; round <= 3*optimisticEvery; round++ {
				now := t0.Add(time.Duration(round) * rechokeEvery)
				for _, id := range ids {
					c.want(id, now, true)
				}
				c.rechoke(now, traders, nil)
				if len(seen) == 0 || seen[len(seen)-1] != c.optimistic {
					seen = append(seen, c.optimistic)
				}
			}
			if len(seen) < 3 {
				t.Errorf("the optimistic slot went to %v over %d rechokes", seen, 3*optimisticEvery)
			}
		}},
		{"a newcomer is three times as likely optimistic", func(t *testing.T) {
			c := newChoker(first)
			old := getters(c, chokeSlots+1, true)
			late := t0.Add(10 * newcomerFor)
			for _, id := range old {
				c.want(id, late, true)
			}
			newcomer := peer.ID("new")
			c.open(newcomer, late)
			c.want(newcomer, late, true)
			var draws []int
			c.pick = func(n int) int { draws = append(draws, n); return n - 1 }
			c.rechoke(late, traders, nil)
			// Left for the slot: the old getter not served by rate (one
			// draw) and the newcomer (three).
			if !slices.Equal(draws, []int{4}) || c.optimistic != newcomer {
				t.Errorf("draws %v, optimistic %s; want one draw among 4, the newcomer", draws, c.optimistic)
			}
		}},
		{"a getter that stops asking loses its slot; one withheld keeps wanting", func(t *testing.T) {
			c := newChoker(first)
			ids := getters(c, 6, true)
			c.withheld(ids[5])
			later := t0.Add(interestFor)
			for _, id := range ids[2:5] {
				c.want(id, later, true)
			}
			c.rechoke(later, traders, nil)
			if c.unchoked(ids[0]) || c.unchoked(ids[1]) {
				t.Error("getters silent for interestFor still served")
			}
			if !c.unchoked(ids[5]) {
				t.Error("the withheld getter is not served though slots are free")
			}
		}},
		{"a getter's last stream closing gives its slot to one withheld", func(t *testing.T) {
			c := newChoker(first)
			ids := getters(c, chokeSlots+2, true)
			c.withheld(ids[chokeSlots])
			c.withheld(ids[chokeSlots+1])
			c.peers[ids[chokeSlots+1]].rate = 10 // sent more
			c.open(ids[0], t0)                   // a second stream
			if c.close(ids[0]) || !c.unchoked(ids[0]) {
				t.Fatal("a getter's slot moved while it has a stream open")
			}
			if !c.close(ids[0]) || !c.unchoked(ids[chokeSlots+1]) || c.unchoked(ids[chokeSlots]) {
				t.Errorf("served %v, want the withheld getter that sent more in the freed slot", served(c))
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, tc.run)
	}
}
