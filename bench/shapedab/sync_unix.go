//go:build unix

package main

import "syscall"

// syncAll writes every file system's dirty pages out (sync(2)).
func syncAll() { syscall.Sync() }
