// Package exchange fetches and serves blocks with peers, on a libp2p host
// and a boxo blockstore it is given; it imports neither swarm nor
// blockstore.
//
// [Exchange.Fetch] brings a whole DAG into the store: it walks the DAG
// level by level and asks for every missing block of a level at once, so
// many small files move about as fast as one big one. Blocks already
// stored are never fetched again, which makes an interrupted fetch resume
// where it stopped.
//
// Two transports serve a fetch. Between pollen peers, two small protocols
// ([ProtoHave], [ProtoBlocks]) let a getter learn which peer holds which
// block, as it changes, and ask each peer for the blocks fewest peers
// hold, so getters of the same content trade with each other instead of
// all queueing at the seeder. Bitswap (boxo's client and server) serves
// and fetches with every other IPFS node, and fetches the blocks no
// pollen peer holds. Every received block is checked against its CID
// before it is stored; a peer that sends wrong bytes is cut off.
package exchange
