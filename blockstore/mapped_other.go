//go:build !linux

package blockstore

const canTrim = false

func mappedBytes() int64 { return 0 }

func dropMapped(string, map[uint64]bool) int { return 0 }
