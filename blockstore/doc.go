// Package blockstore keeps content-addressed blocks in a Badger v4 database
// behind boxo's [blockstore.Blockstore] interface, together with the
// records (shares and pins) that say which DAGs the user wants to keep.
//
// Blocks are keyed by multihash, so the CIDv0 and CIDv1 of the same bytes
// share one entry. Writes are batched and synced once at commit points.
// [Store.GC] drops blocks no record reaches; [Store.Verify] re-hashes every
// block. The package imports no other pollen package.
package blockstore
