package ui

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics serves Prometheus metrics: go-libp2p's own (on the default
// registry), Bitswap's counters and pollen's per-peer bytes, blocks served
// and transfers, read from the node at each scrape.
func (a *API) metrics() http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister((*collector)(a))
	return promhttp.HandlerFor(prometheus.Gatherers{prometheus.DefaultGatherer, reg}, promhttp.HandlerOpts{})
}

type collector API

var (
	descPeerBytes = prometheus.NewDesc("pollen_peer_block_bytes_total",
		"Block bytes exchanged with each peer.", []string{"peer", "direction"}, nil)
	descBlocksServed = prometheus.NewDesc("pollen_blocks_served_total",
		"Blocks this node sent to peers.", nil, nil)
	descBitswapBlocks = prometheus.NewDesc("pollen_bitswap_blocks_total",
		"Blocks Bitswap received or sent; dup counts received duplicates.", []string{"direction"}, nil)
	descBitswapBytes = prometheus.NewDesc("pollen_bitswap_bytes_total",
		"Bytes of blocks Bitswap received or sent; dup counts received duplicates.", []string{"direction"}, nil)
	descWants = prometheus.NewDesc("pollen_bitswap_wants",
		"Blocks this node is asking peers for now.", nil, nil)
	descTransfers = prometheus.NewDesc("pollen_transfers",
		"Gets started through the API, by state.", []string{"state"}, nil)
	descPeers = prometheus.NewDesc("pollen_peers", "Connected peers.", nil, nil)
)

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descPeerBytes, descBlocksServed, descBitswapBlocks, descBitswapBytes, descWants, descTransfers, descPeers} {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	served := 0
	for p, st := range c.Node.Traffic() {
		ch <- prometheus.MustNewConstMetric(descPeerBytes, prometheus.CounterValue, float64(st.Received), p.String(), "in")
		ch <- prometheus.MustNewConstMetric(descPeerBytes, prometheus.CounterValue, float64(st.Sent), p.String(), "out")
		served += st.BlocksSent
	}
	ch <- prometheus.MustNewConstMetric(descBlocksServed, prometheus.CounterValue, float64(served))
	bs := c.Node.Bitswap()
	for dir, v := range map[string]uint64{"in": bs.BlocksReceived, "out": bs.BlocksSent, "dup": bs.DupBlocksReceived} {
		ch <- prometheus.MustNewConstMetric(descBitswapBlocks, prometheus.CounterValue, float64(v), dir)
	}
	for dir, v := range map[string]uint64{"in": bs.DataReceived, "out": bs.DataSent, "dup": bs.DupDataReceived} {
		ch <- prometheus.MustNewConstMetric(descBitswapBytes, prometheus.CounterValue, float64(v), dir)
	}
	ch <- prometheus.MustNewConstMetric(descWants, prometheus.GaugeValue, float64(bs.Wants))
	states := map[string]int{"running": 0, "paused": 0, "done": 0, "failed": 0, "canceled": 0}
	for _, t := range (*API)(c).transfers.snapshot() {
		states[t.State]++
	}
	for s, n := range states {
		ch <- prometheus.MustNewConstMetric(descTransfers, prometheus.GaugeValue, float64(n), s)
	}
	ch <- prometheus.MustNewConstMetric(descPeers, prometheus.GaugeValue, float64(len(c.Node.Peers())))
}
