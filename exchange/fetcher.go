package exchange

import (
	"context"

	bsexchange "github.com/ipfs/boxo/exchange"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
)

// Fetcher is Bitswap as a boxo exchange: a block service over it fetches
// the blocks it is asked for from any connected peer, at once (the
// gateway streams a file that way, the blocks a reader needs first).
// What it asks for is recorded, so the blocks that come are not taken
// for ones nobody asked for (see judge); what it stores is told to the
// serving side, as a fetch's blocks are.
func (e *Exchange) Fetcher() bsexchange.Interface { return fetcher{e} }

type fetcher struct{ e *Exchange }

func (f fetcher) GetBlock(ctx context.Context, c cid.Cid) (blocks.Block, error) {
	f.e.ask([]cid.Cid{c})
	return f.e.bs.GetBlock(ctx, c)
}

func (f fetcher) GetBlocks(ctx context.Context, cs []cid.Cid) (<-chan blocks.Block, error) {
	f.e.ask(cs)
	return f.e.bs.GetBlocks(ctx, cs)
}

func (f fetcher) NotifyNewBlocks(ctx context.Context, bl ...blocks.Block) error {
	return f.e.announce(ctx, bl)
}

// Close does nothing: the exchange closes Bitswap.
func (f fetcher) Close() error { return nil }
