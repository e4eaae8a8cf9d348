// Package swarm runs pollen's libp2p host: identity, transports, security,
// resource limits and discovery. It imports no other pollen package. The
// network comes with pollen's peers issue.
package swarm
