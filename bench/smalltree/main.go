// Command smalltree writes the many-small-files tree of bench/smallfiles.sh:
// N files of 100 B to 3 KB of random bytes, 500 to a folder.
//
//	smalltree DIR N
package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: smalltree DIR N")
		os.Exit(2)
	}
	n, err := strconv.Atoi(os.Args[2])
	if err != nil || n < 1 {
		fmt.Fprintln(os.Stderr, "smalltree: N must be a count")
		os.Exit(2)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	buf := make([]byte, 3000)
	for i := range n {
		dir := filepath.Join(os.Args[1], fmt.Sprintf("d%04d", i/500))
		if i%500 == 0 {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				fmt.Fprintln(os.Stderr, "smalltree:", err)
				os.Exit(1)
			}
		}
		size := 100 + rng.IntN(2901)
		for k := range size {
			buf[k] = byte(rng.Uint32())
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%06d.txt", i)), buf[:size], 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "smalltree:", err)
			os.Exit(1)
		}
	}
}
