package pollen

import "github.com/pollen-p2p/pollen/blockstore"

// GetRecord is a get kept in the repo so that it outlives the process
// that runs it: a daemon records the gets it runs and those the user
// paused, and takes them up again when it starts.
type GetRecord = blockstore.GetRecord

// PutGet adds or replaces a get record. What arrived of its root is kept
// from GC while the record exists, though no get runs.
func (n *Node) PutGet(r GetRecord) error { return n.store.PutGet(r) }

// DeleteGet forgets a get record.
func (n *Node) DeleteGet(id uint64) error { return n.store.DeleteGet(id) }

// Gets lists the get records in ID order.
func (n *Node) Gets() ([]GetRecord, error) { return n.store.Gets() }
