package exchange

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/pollen-p2p/pollen/internal/hostile"
)

func TestBudgetCountsStreamsAndCIDs(t *testing.T) {
	var b budget
	b.perPeerCIDs, b.totalCIDs = 100, 150
	a, c := peer.ID("a"), peer.ID("c")
	nop := func() {}
	for range maxHavesPerPeer {
		if !b.open(a, haveStream) {
			t.Fatal("refused a have stream within the budget")
		}
	}
	if b.open(a, haveStream) {
		t.Error("a peer opened more have streams than it may")
	}
	if !b.open(a, blocksStream) || !b.open(c, haveStream) {
		t.Error("one kind's limit refused the other kind, or another peer")
	}
	la, ok := b.take(a, 100, nop)
	if _, over := b.take(a, 1, nop); !ok || over {
		t.Error("the per-peer CID limit is wrong")
	}
	lc, ok := b.take(c, 50, nop)
	if _, over := b.take(c, 30, nop); !ok || over { // past a fair share: no eviction
		t.Error("the total CID limit is wrong")
	}
	if _, ok := b.take("stranger", 1, nop); ok {
		t.Error("took CIDs for a peer with no stream open")
	}
	b.give(la)
	b.give(la) // twice is once
	lc2, ok := b.take(c, 50, nop)
	if !ok || b.held() != 100 {
		t.Errorf("given-back CIDs were not free again: held %d", b.held())
	}
	b.give(lc)
	b.give(lc2)
	for range maxHavesPerPeer {
		b.close(a, haveStream)
	}
	b.close(a, blocksStream)
	b.close(c, haveStream)
	if b.held() != 0 || len(b.peers) != 0 {
		t.Errorf("after every stream closed: %d CIDs held, %d peers known", b.held(), len(b.peers))
	}
}

// When a few peers hold the whole total, a peer below a fair share gets
// in by ending the streams of the one holding the most; one above it
// does not.
func TestBudgetEvictsTheLargestForAFairShare(t *testing.T) {
	var b budget
	b.perPeerCIDs, b.totalCIDs = 100, 150
	hog, other, honest := peer.ID("hog"), peer.ID("other"), peer.ID("honest")
	for _, p := range []peer.ID{hog, other, honest} {
		b.open(p, haveStream)
	}
	var ended []string
	hog1, _ := b.take(hog, 60, func() { ended = append(ended, "hog1") })
	b.take(hog, 40, func() { ended = append(ended, "hog2") })
	b.take(other, 50, func() { ended = append(ended, "other") })
	if _, ok := b.take(honest, 60, func() {}); ok {
		t.Error("a peer asking past a fair share (50) evicted others")
	}
	if _, ok := b.take(honest, 10, func() {}); !ok {
		t.Fatal("a peer below a fair share was shut out by a full total")
	}
	if len(ended) != 1 || ended[0] != "hog1" {
		t.Errorf("ended %v, want the largest holder's oldest stream", ended)
	}
	if b.held() > 150 {
		t.Errorf("held %d past the total", b.held())
	}
	b.give(hog1) // its handler returns after the eviction: nothing twice
	if b.held() != 100 {
		t.Errorf("held %d after the evicted stream gave back, want 100", b.held())
	}
}

// Four identities flooding ProtoHave, ProtoBlocks and Bitswap with lists of
// random CIDs get no more than the serving budget; an honest getter
// still fetches meanwhile, and once the flooders leave nothing of them
// is left.
func TestFloodIsBoundedAndLeavesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("a 10 s flood; under the race detector it starves the honest get of CPU")
	}
	seeder, sbs := testExchange(t)
	total := maxCIDsTotal
	root, _ := fileDAG(t, sbs, 8)
	target := peerInfo(seeder)
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)

	// The flooders run in a process of their own (this test binary again,
	// as TestFloodHelper), so that the heap measured here is the seeder's:
	// theirs grows with what they queue to send, the more so on a busy
	// machine.
	flood := exec.Command(os.Args[0], "-test.run=^TestFloodHelper$", "-test.v")
	addrs, err := peer.AddrInfoToP2pAddrs(&target)
	if err != nil || len(addrs) == 0 {
		t.Fatalf("the seeder's address: %v", err)
	}
	flood.Env = append(os.Environ(), floodTarget+"="+addrs[0].String(), floodFor+"=30s")
	flood.Stderr = os.Stderr
	out, err := flood.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := flood.Start(); err != nil {
		t.Fatal(err)
	}
	defer flood.Process.Kill()
	sc := bufio.NewScanner(out)
	var flooders []peer.ID
	for len(flooders) < 4 && sc.Scan() {
		if id, ok := strings.CutPrefix(sc.Text(), "flooder "); ok {
			p, err := peer.Decode(id)
			if err != nil {
				t.Fatal(err)
			}
			flooders = append(flooders, p)
		}
	}
	if len(flooders) < 4 {
		t.Fatalf("the flooding process started %d flooders", len(flooders))
	}
	var report strings.Builder
	reported := make(chan struct{})
	go func() {
		defer close(reported)
		for sc.Scan() {
			report.WriteString(sc.Text() + "\n")
		}
	}()
	var peak uint64
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		peak = max(peak, m.HeapInuse)
		if held := seeder.load.held(); held > total {
			t.Fatalf("the seeder holds %d listed CIDs, over its total of %d", held, total)
		}
		for _, p := range flooders {
			seeder.load.mu.Lock()
			l := seeder.load.peers[p]
			if l != nil && (l.cids > maxCIDsPerPeer || l.haves > maxHavesPerPeer || l.blocks > maxBlocksPerPeer) {
				t.Errorf("flooder holds %+v, over its budget", *l)
			}
			seeder.load.mu.Unlock()
		}
		time.Sleep(200 * time.Millisecond)
	}
	var live runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&live)
	t.Logf("live heap under the flood: %d MiB more than before", (int64(live.HeapInuse)-int64(before.HeapInuse))>>20)
	// The flood's own lists are in this process too: a few MiB each.
	if grew := int64(live.HeapInuse) - int64(before.HeapInuse); grew > 384<<20 {
		t.Errorf("the live heap grew by %d MiB under the flood", grew>>20)
	}
	t.Logf("heap grew by at most %d MiB", (int64(peak)-int64(before.HeapInuse))>>20)

	getter, _ := testExchange(t)
	if err := getter.h.Connect(context.Background(), target); err != nil {
		t.Fatal(err)
	}
	fctx, fcancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer fcancel()
	if err := getter.Fetch(fctx, root, FetchOptions{Stall: 20 * time.Second}); err != nil {
		t.Fatalf("an honest get failed during the flood: %v", err)
	}

	flood.Process.Signal(os.Interrupt) // the flooders leave
	flood.Wait()
	<-reported
	t.Logf("the flooders: %s", strings.TrimSpace(report.String()))
	deadline = time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) && (seeder.load.held() > 0 || serving() > 0) {
		time.Sleep(100 * time.Millisecond)
	}
	if held := seeder.load.held(); held > 0 {
		t.Errorf("%d CIDs still held after the flooders left", held)
	}
	if n := serving(); n > 0 {
		t.Errorf("%d streams still served after the flooders left", n)
	}
}

// serving counts the goroutines serving a stream.
func serving() int {
	buf := make([]byte, 8<<20)
	stacks := string(buf[:runtime.Stack(buf, true)])
	return strings.Count(stacks, ").serveHave(") + strings.Count(stacks, ").serveBlocks(")
}

func peerInfo(e *Exchange) peer.AddrInfo { return peer.AddrInfo{ID: e.h.ID(), Addrs: e.h.Addrs()} }

// Two identities whose have-subscriptions hold the whole total do not
// shut an honest getter out of pollen's protocols: it is below a fair
// share, so the largest holder's oldest subscription makes room.
func TestHonestGetterGetsAFairShare(t *testing.T) {
	seeder, sbs := testExchange(t)
	seeder.load.totalCIDs = 2 * maxList
	root, _ := fileDAG(t, sbs, 8)
	target := peerInfo(seeder)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	var haves hostile.Flood
	for range 2 {
		h, err := hostile.NewHost()
		if err != nil {
			t.Fatal(err)
		}
		defer h.Close()
		wg.Add(1)
		go func() { defer wg.Done(); hostile.Have(ctx, h, target, 1, maxList, &haves) }()
	}
	for deadline := time.Now().Add(10 * time.Second); seeder.load.held() < 2*maxList; {
		if time.Now().After(deadline) {
			t.Fatalf("the flooders hold %d CIDs, want the total %d", seeder.load.held(), 2*maxList)
		}
		time.Sleep(20 * time.Millisecond)
	}
	getter, _ := testExchange(t)
	if err := getter.h.Connect(ctx, target); err != nil {
		t.Fatal(err)
	}
	fctx, fcancel := context.WithTimeout(ctx, 30*time.Second)
	defer fcancel()
	if err := getter.Fetch(fctx, root, FetchOptions{Stall: 20 * time.Second}); err != nil {
		t.Fatal(err)
	}
	if bs := getter.Bitswap(); bs.BlocksReceived-bs.DupBlocksReceived > 1 {
		t.Errorf("%d blocks came over Bitswap: pollen's protocols shut the honest getter out", bs.BlocksReceived-bs.DupBlocksReceived)
	}
	if held := seeder.load.held(); held > 2*maxList {
		t.Errorf("held %d past the total", held)
	}
}

// The flooding process of TestFloodIsBoundedAndLeavesNothing.
const (
	floodTarget = "POLLEN_FLOOD_TARGET"
	floodFor    = "POLLEN_FLOOD_FOR"
)

// TestFloodHelper is not a test: run by TestFloodIsBoundedAndLeavesNothing
// as a process of its own, it floods the peer named in its environment
// from four identities, with ProtoHave, ProtoBlocks and Bitswap, until
// interrupted or its time is up, then says how many streams it opened.
func TestFloodHelper(t *testing.T) {
	target, ok := os.LookupEnv(floodTarget)
	if !ok {
		t.Skip("runs only as TestFloodIsBoundedAndLeavesNothing's flooder")
	}
	info, err := peer.AddrInfoFromString(target)
	if err != nil {
		t.Fatal(err)
	}
	d, err := time.ParseDuration(os.Getenv(floodFor))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt)
	defer cancel()
	ctx, cancelT := context.WithTimeout(ctx, d)
	defer cancelT()
	var wg sync.WaitGroup
	var haves, blocks hostile.Flood
	for range 4 {
		h, err := hostile.NewHost()
		if err != nil {
			t.Fatal(err)
		}
		defer h.Close()
		fmt.Println("flooder", h.ID())
		wg.Add(3)
		go func() { defer wg.Done(); hostile.Have(ctx, h, *info, 40, maxList, &haves) }()
		go func() { defer wg.Done(); hostile.Bitswap(ctx, h, *info, 200, 1000) }()
		go func() { defer wg.Done(); hostile.Blocks(ctx, h, *info, 40, 1024, &blocks) }()
	}
	<-ctx.Done()
	wg.Wait()
	fmt.Printf("have streams opened %d (refused %d), blocks streams %d\n", haves.Opened, haves.Failed, blocks.Opened)
}
