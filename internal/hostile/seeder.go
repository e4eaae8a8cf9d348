package hostile

import (
	"context"

	"github.com/ipfs/boxo/bitswap"
	bsnet "github.com/ipfs/boxo/bitswap/network/bsnet"
	bstore "github.com/ipfs/boxo/blockstore"
	"github.com/libp2p/go-libp2p/core/host"
)

// Seeder serves every block of bs over Bitswap from h, as any IPFS node
// would: whatever DAG the test put there, bombs included. It stops when
// ctx ends.
func Seeder(ctx context.Context, h host.Host, bs bstore.Blockstore) *bitswap.Bitswap {
	return bitswap.New(ctx, bsnet.NewFromIpfsHost(h), nil, bs)
}
