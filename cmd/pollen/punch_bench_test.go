package main_test

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pollen-p2p/pollen/internal/netlab"
)

// BenchmarkHolePunch measures, for each pairing of NATs in the lab, how
// often a getter's connection through the relay becomes direct (a hole
// punched) and how long after the get started. Each iteration is a
// fresh getter (a new repo: a new peer ID, a new relayed connection)
// fetching 4 MiB from one sharer through a 16 Mbit/s relay:
//
//	sudo go test ./cmd/pollen -run '^$' -bench HolePunch -benchtime 20x
//
// It reports punched (the share of gets that ended direct), s-to-direct
// (the mean time until then, of those) and s-per-get.
func BenchmarkHolePunch(b *testing.B) {
	for _, pair := range []struct{ sharer, getter netlab.NAT }{
		{netlab.Cone, netlab.Cone},
		{netlab.Cone, netlab.Symmetric},
		{netlab.Symmetric, netlab.Cone},
		{netlab.Symmetric, netlab.Symmetric},
	} {
		b.Run(pair.sharer.String()+"-"+pair.getter.String(), func(b *testing.B) {
			lab, home := labInternet(b, 16)
			alice, bob := lab.Home("alice", pair.sharer), lab.Home("bob", pair.getter)
			_, ticket := labShare(b, alice.Host, home, bigFile(b, 4))
			after := regexp.MustCompile(`hole punched to \S+ after (\S+):`)
			punched, timed := 0, 0
			var toDirect time.Duration
			b.ResetTimer()
			for range b.N {
				res, err := labGet(b, bob.Host, append([]string{ticket, "-o", b.TempDir(), "--timeout", "60s"}, home...)...)
				if err != nil {
					b.Fatalf("get: %v\n%s", err, res)
				}
				if m := after.FindStringSubmatch(res); m != nil {
					d, _ := time.ParseDuration(m[1])
					punched, timed = punched+1, timed+1
					toDirect += d
				} else if strings.Contains(res, "direct (hole punched") {
					punched++ // punched after the transfer ended
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(punched)/float64(b.N), "punched")
			if timed > 0 {
				b.ReportMetric(toDirect.Seconds()/float64(timed), "s-to-direct")
			}
			b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s-per-get")
			b.ReportMetric(0, "ns/op")
		})
	}
}
