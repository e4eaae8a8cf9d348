package pollen_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	ma "github.com/multiformats/go-multiaddr"

	"github.com/pollen-p2p/pollen"
)

// Open a repository, add a file, and print its CID: the same CID Kubo
// gives the same bytes.
func ExampleNode_Add() {
	dir, _ := os.MkdirTemp("", "pollen-example")
	defer os.RemoveAll(dir)
	src := filepath.Join(dir, "hello.txt")
	os.WriteFile(src, []byte("hello, pollen\n"), 0o644)

	node, err := pollen.Open(filepath.Join(dir, "repo"), pollen.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer node.Close()
	res, err := node.Add(context.Background(), src, pollen.AddOptions{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Root, res.Name, res.Size)
	// Output: bafkreif27hpzc5tbhzw3cifjp3exhocrizoz2bj4demamitm3fgyttan4i hello.txt 14
}

// Share a folder on one node and get it on another with its ticket, as
// `pollen share` and `pollen get TICKET` do. Both nodes stay on loopback.
func ExampleNode_GetRef() {
	dir, _ := os.MkdirTemp("", "pollen-example")
	defer os.RemoveAll(dir)
	os.MkdirAll(filepath.Join(dir, "photos"), 0o755)
	os.WriteFile(filepath.Join(dir, "photos", "cat.txt"), []byte("a cat\n"), 0o644)

	cfg := pollen.Config{Listen: []ma.Multiaddr{ma.StringCast("/ip4/127.0.0.1/tcp/0")}, Offline: true, NoMDNS: true}
	ctx := context.Background()
	open := func(name string) *pollen.Node {
		n, err := pollen.Open(filepath.Join(dir, name), cfg)
		if err != nil {
			log.Fatal(err)
		}
		if err := n.StartNetwork(); err != nil {
			log.Fatal(err)
		}
		return n
	}
	sharer, getter := open("sharer"), open("getter")
	defer sharer.Close()
	defer getter.Close()

	res, err := sharer.Share(ctx, filepath.Join(dir, "photos"), pollen.AddOptions{})
	if err != nil {
		log.Fatal(err)
	}
	ticket := sharer.Ticket(res.Root).String()

	got, err := getter.GetRef(ctx, ticket, filepath.Join(dir, "downloads"), pollen.GetOptions{})
	if err != nil {
		log.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(got.Path, "cat.txt"))
	fmt.Printf("%s: %s", filepath.Base(got.Path), b)
	// Output: photos: a cat
}

// Open a repository with the network started: its peer ID and addresses
// are what a ticket carries.
func ExampleOpen() {
	dir, _ := os.MkdirTemp("", "pollen-example")
	defer os.RemoveAll(dir)
	node, err := pollen.Open(dir, pollen.Config{Listen: []ma.Multiaddr{ma.StringCast("/ip4/127.0.0.1/tcp/0")}, Offline: true, NoMDNS: true})
	if err != nil {
		log.Fatal(err)
	}
	defer node.Close()
	if err := node.StartNetwork(); err != nil {
		log.Fatal(err)
	}
	fmt.Println(node.ID() != "", len(node.Addrs()) > 0)
	// Output: true true
}
