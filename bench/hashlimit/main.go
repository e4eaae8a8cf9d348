// Command hashlimit reads a file in 1 MiB chunks and SHA-256-hashes them,
// on one core and then on every core: the floor under `pollen add`, which
// must do at least this much. It prints "cores seconds" lines.
package main

import (
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"
	"time"
)

const chunk = 1 << 20 // the import profile's leaf size

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: hashlimit FILE")
		os.Exit(2)
	}
	for _, workers := range []int{1, runtime.GOMAXPROCS(0)} {
		d, err := hashFile(os.Args[1], workers)
		if err != nil {
			fmt.Fprintln(os.Stderr, "hashlimit:", err)
			os.Exit(1)
		}
		fmt.Printf("%d %.3f\n", workers, d.Seconds())
	}
}

func hashFile(path string, workers int) (time.Duration, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	start := time.Now()
	work := make(chan []byte, 2*workers)
	free := make(chan []byte, 4*workers)
	for range cap(free) {
		free <- make([]byte, chunk)
	}
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range work {
				sha256.Sum256(b)
				free <- b[:chunk]
			}
		}()
	}
	for {
		b := <-free
		n, err := io.ReadFull(f, b)
		if n > 0 {
			work <- b[:n]
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			return 0, err
		}
	}
	close(work)
	wg.Wait()
	return time.Since(start), nil
}
