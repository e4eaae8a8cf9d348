package exchange

import "testing"

// A frame the walk is done with holds nothing, so the links of a folder
// walked can be collected: the stack's array outlives its frames.
func TestWalkForgetsFramesItLeaves(t *testing.T) {
	w := &walk{}
	for range 3 {
		w.stack = append(w.stack, frame{links: make([]link, 500)})
	}
	for len(w.stack) > 0 {
		w.pop()
	}
	for i, f := range w.stack[:cap(w.stack)] {
		if f.links != nil {
			t.Errorf("slot %d still holds %d links", i, len(f.links))
		}
	}
}
