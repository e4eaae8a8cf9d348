// Package chunker turns files and folders into UnixFS DAGs with Kubo's
// unixfs-v1-2025 import profile (IPIP-499), so the same bytes give the same
// root CID in pollen and in Kubo, and writes DAGs back out to disk without
// ever leaving the target folder.
//
// Import hashes 1 MiB leaves on every core while it reads the next ones, and
// keeps memory flat whatever the file size. Export checks every name once,
// in [CheckName], before anything is written. The package imports no other
// pollen package; progress leaves it through the [Progress] interface.
package chunker
