// Package swarm runs pollen's libp2p host: a persisted Ed25519 identity,
// TCP and QUIC listeners, TLS (then Noise; TLS records of a large write
// leave in one system call) and yamux, explicit resource
// limits and a connection manager, mDNS on the LAN, a Kademlia DHT for the
// wide network, and NAT port mapping, AutoNAT, hole punching and the relay
// client. It also reads and writes tickets: one copyable string with a
// root CID and the addresses of a peer that has it.
//
// The package imports no other pollen package.
package swarm
