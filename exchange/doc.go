// Package exchange fetches and serves blocks with peers, on a libp2p host
// and a boxo blockstore it is given; it imports neither swarm nor
// blockstore.
//
// [Exchange.Fetch] brings a whole DAG: it walks the DAG level by level and
// asks for every missing block of a level at once, so many small files
// move about as fast as one big one. Everything one fetch holds belongs
// to one download value, gone when Fetch returns; the Exchange keeps only
// what is per peer. Blocks already stored are never fetched again, which
// makes an interrupted fetch resume where it stopped. A [Sink] given to
// Fetch takes the blocks instead of the store (pollen writes them
// straight into the files of a get).
//
// Two transports serve a fetch. Between pollen peers, two small protocols
// ([ProtoHave], [ProtoBlocks]) let a getter learn which peer holds which
// block, as it changes, and ask each peer for the blocks fewest peers
// hold (the scheduler: rarest first, endgame, windows sized to each
// peer's rate), so getters of the same content trade with each other
// instead of all queueing at the seeder. Bitswap (boxo's client and
// server) serves and fetches with every other IPFS node, and fetches the
// blocks no pollen peer holds. Every received block is checked against
// its CID before it is stored; a peer that sends wrong bytes is cut off.
//
// Files: exchange.go (the Exchange and its contract), download.go (one
// fetch), lanes.go (a level over pollen peers), lane.go (one stream of
// asks and answers), scheduler.go (which block of which peer: pure,
// table-tested; cands.go its heaps), sources.go (waiting for the peers
// a fetch was pointed at before Bitswap), bitswap.go (the
// Bitswap side), wire.go (the codec of the pollen protocols, fuzzed),
// serve.go and serveblocks.go (answering peers), choke.go (which getters
// are served: tit-for-tat), choked.go (a getter choked, and its cancels),
// trust.go (cutting off liars).
package exchange
