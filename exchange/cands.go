package exchange

// A peer's candidates (speer.cands) are a binary heap of the blocks it
// may be asked for, fewest holders first, then in tie order: a pick pops
// a few stale entries and the best, instead of scanning the level.

// cand is a block a peer may be asked for, keyed as it was when pushed.
type cand struct{ holders, rank, i int32 }

type candHeap []cand

func (h candHeap) less(a, b int) bool {
	if h[a].holders != h[b].holders {
		return h[a].holders < h[b].holders
	}
	return h[a].rank < h[b].rank
}

func (h *candHeap) push(c cand) {
	*h = append(*h, c)
	k := len(*h) - 1
	for k > 0 {
		up := (k - 1) / 2
		if !h.less(k, up) {
			break
		}
		(*h)[k], (*h)[up] = (*h)[up], (*h)[k]
		k = up
	}
}

func (h *candHeap) pop() {
	old := *h
	n := len(old) - 1
	old[0] = old[n]
	*h = old[:n]
	h.down(0)
}

func (h candHeap) down(k int) {
	for {
		l := 2*k + 1
		if l >= len(h) {
			return
		}
		m := l
		if r := l + 1; r < len(h) && h.less(r, l) {
			m = r
		}
		if !h.less(m, k) {
			return
		}
		h[k], h[m] = h[m], h[k]
		k = m
	}
}

// heapify orders h after it was filled in any order.
func (h candHeap) heapify() {
	for k := len(h)/2 - 1; k >= 0; k-- {
		h.down(k)
	}
}
