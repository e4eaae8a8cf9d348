package blockstore_test

import (
	bstore "github.com/ipfs/boxo/blockstore"
	ds "github.com/ipfs/go-datastore"
	dssync "github.com/ipfs/go-datastore/sync"
)

func memStore() bstore.Blockstore {
	return bstore.NewBlockstore(dssync.MutexWrap(ds.NewMapDatastore()))
}
