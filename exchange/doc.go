// Package exchange fetches and serves blocks with peers over Bitswap
// (boxo), on a libp2p host and a boxo blockstore it is given; it imports
// neither swarm nor blockstore.
//
// [Exchange.Fetch] brings a whole DAG into the store: it walks the DAG
// level by level and asks one Bitswap session for every missing block of
// a level at once, so many small files move about as fast as one big one.
// Blocks already stored are never fetched again, which makes an
// interrupted fetch resume where it stopped. Bitswap checks every
// received block against its CID before the client stores it; blocks
// nobody asked for are dropped.
package exchange
