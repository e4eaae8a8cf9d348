// Package live holds what a live folder needs below the node: its
// versions as signed IPNS records (record.go), the book of the newest
// version seen per name that refuses stale and forged ones (book.go), and
// the /pollen/live/1.0.0 protocol that pushes them to followers
// (wire.go, service.go). It imports no other pollen package.
package live
