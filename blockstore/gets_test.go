package blockstore_test

import (
	"testing"
	"time"

	"github.com/pollen-p2p/pollen/blockstore"
	"github.com/pollen-p2p/pollen/blockstore/storetest"
)

// A paused get's record survives a reopen, keeps the ticket string as
// given, and keeps what arrived of its root from GC until it is deleted.
func TestGetRecordsSurviveReopenAndHoldGC(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, false)
	arrived := storetest.Block(1, 1<<20)
	s.Put(ctx, arrived)
	recs := []blockstore.GetRecord{
		{ID: 2, Ref: "pollen1future-fields/photos", Root: arrived.Cid(), Name: "photos", Dir: "/d", Only: []string{"*.jpg"}, State: "paused", Done: 5, Total: 9, Added: time.Now().UTC().Truncate(time.Second)},
		{ID: 300, Ref: arrived.Cid().String(), Root: arrived.Cid(), Dir: "/d", State: "running"},
	}
	for _, r := range recs {
		if err := s.PutGet(r); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	s = open(t, dir, false)
	got, err := s.Gets()
	if err != nil || len(got) != 2 || got[0].ID != 2 || got[1].ID != 300 {
		t.Fatalf("gets after reopen = %+v, %v", got, err)
	}
	if g := got[0]; g.Ref != recs[0].Ref || g.Root != arrived.Cid() || g.State != "paused" || len(g.Only) != 1 || g.Done != 5 || !g.Added.Equal(recs[0].Added) {
		t.Errorf("get record after reopen = %+v", g)
	}
	if res, err := s.GC(ctx); err != nil || res.Removed != 0 {
		t.Errorf("GC with a paused get: removed %d (%v)", res.Removed, err)
	}
	for _, r := range recs {
		if err := s.DeleteGet(r.ID); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.DeleteGet(7); err != nil {
		t.Errorf("deleting a get never recorded: %v", err)
	}
	if got, _ := s.Gets(); len(got) != 0 {
		t.Errorf("gets after delete: %+v", got)
	}
	if res, err := s.GC(ctx); err != nil || res.Removed != 1 {
		t.Errorf("GC after the get was forgotten: removed %d (%v)", res.Removed, err)
	}
}
