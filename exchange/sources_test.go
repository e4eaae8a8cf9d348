package exchange

import (
	"slices"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

// A level whose answered peers hold nothing hands its blocks to Bitswap
// only once every source said what it holds, is gone, or sourceWait
// passed; with no sources, at once, as before.
func TestOrphansWaitForSources(t *testing.T) {
	const getter, seeder, other = peer.ID("getter"), peer.ID("seeder"), peer.ID("other")
	start := time.Unix(0, 0)
	tick := start.Add(tickEvery)
	cases := []struct {
		name    string
		sources []peer.ID
		began   time.Duration    // the fetch's start, from the level's
		events  func(*scheduler) // after the level began
		at      time.Time        // when orphans is asked
		want    []int
	}{
		{"no sources: at once, as before", nil, 0, nil, tick, []int{0, 1, 2}},
		{"a source not yet counted holds them", []peer.ID{seeder}, 0, nil, tick, nil},
		{"nor past orphanAfter", []peer.ID{seeder}, 0, nil, start.Add(5 * orphanAfter), nil},
		{"a source counted, not answered, holds them", []peer.ID{seeder}, 0, func(s *scheduler) {
			s.addPeer(seeder, 0)
		}, start.Add(5 * orphanAfter), nil},
		{"the source answers holding part: the rest goes", []peer.ID{seeder}, 0, func(s *scheduler) {
			s.addPeer(seeder, 0)
			s.haves(seeder, []int{1})
		}, tick, []int{0, 2}},
		{"the source answers holding all: nothing goes", []peer.ID{seeder}, 0, func(s *scheduler) {
			s.addPeer(seeder, 0)
			s.haves(seeder, all(3))
		}, start.Add(2 * sourceWait), nil},
		{"the source answered, then left: they go", []peer.ID{seeder}, 0, func(s *scheduler) {
			s.addPeer(seeder, 0)
			s.haves(seeder, nil)
			s.dropPeer(seeder)
		}, tick, []int{0, 1, 2}},
		{"one of two sources answered: the other holds them", []peer.ID{seeder, other}, 0, func(s *scheduler) {
			s.addPeer(seeder, 0)
			s.haves(seeder, nil)
		}, tick, nil},
		{"a source gone (refused, not pollen) holds nothing", []peer.ID{seeder}, 0, func(s *scheduler) {
			s.sourceGone(seeder)
		}, tick, []int{0, 1, 2}},
		{"past sourceWait: as before", []peer.ID{seeder}, 0, nil, start.Add(sourceWait), []int{0, 1, 2}},
		{"sourceWait counts from the fetch's start", []peer.ID{seeder}, -sourceWait + time.Second, nil, start.Add(time.Second), []int{0, 1, 2}},
		{"past sourceWait, a counted silent source holds nothing more", []peer.ID{seeder}, 0, func(s *scheduler) {
			s.addPeer(seeder, 0)
			s.orphans(tick) // held, orphaned since
		}, start.Add(sourceWait), []int{0, 1, 2}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := sched(3) // begins at start
			s.setSources(tc.sources, start.Add(tc.began))
			s.addPeer(getter, 0) // another getter, holding nothing
			s.haves(getter, nil)
			if tc.events != nil {
				tc.events(s)
			}
			if got := s.orphans(tc.at); !slices.Equal(got, tc.want) {
				t.Errorf("to Bitswap %v, want %v", got, tc.want)
			}
		})
	}
}

// A source that answers late still has its level's blocks: what was
// held back is asked of it, not handed to Bitswap.
func TestOrphansHeldForASourceAreAskedOfIt(t *testing.T) {
	const getter, seeder = peer.ID("getter"), peer.ID("seeder")
	start := time.Unix(0, 0)
	s := sched(2)
	s.setSources([]peer.ID{seeder}, start)
	s.addPeer(getter, 0)
	s.haves(getter, nil)
	for k := 1; k <= 8; k++ { // two seconds of ticks
		if got := s.orphans(start.Add(time.Duration(k) * tickEvery)); len(got) != 0 {
			t.Fatalf("tick %d: to Bitswap %v", k, got)
		}
	}
	s.addPeer(seeder, 0)
	s.haves(seeder, all(2))
	if got := drain(s, seeder, 2); len(got) != 2 {
		t.Errorf("the seeder is asked for %v, want both", got)
	}
	if got := s.orphans(start.Add(sourceWait)); len(got) != 0 {
		t.Errorf("to Bitswap %v after the seeder brought them", got)
	}
}
