// Package pollen is a peer-to-peer file sharing node that speaks IPFS
// formats: share a folder, get its content hash (a CIDv1), and fetch it
// elsewhere byte for byte. The same folder gives the same CID in pollen and
// in Kubo's unixfs-v1-2025 import profile.
//
// A [Node] owns one repository folder (by default ~/.pollen): a Badger
// block store and the records of what is shared and kept. Open it, then
// Add, Get, Cat, List, Remove, GC, Verify and Stat:
//
//	node, err := pollen.Open(dir, pollen.Config{})
//	if err != nil { ... }
//	defer node.Close()
//	res, err := node.Add(ctx, "photos", pollen.AddOptions{})
//	fmt.Println(res.Root)
//
// Once StartNetwork has run, [Node.Doctor] says how peers reach the node
// and why, how the DHT fares, and who holds some content and how each
// holder is reached.
//
// Only one process opens a repository at a time; a second Open fails with
// [ErrRepoInUse] naming the PID that holds it.
package pollen
