// Package exchange fetches and serves blocks with peers over Bitswap (boxo),
// on a libp2p host and a boxo blockstore it is given; it imports neither
// swarm nor blockstore. The network comes with pollen's peers issue; until
// then pollen works from its local store only.
package exchange
