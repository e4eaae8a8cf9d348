package ui

import (
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/pollen-p2p/pollen"
)

// Limits are a node's rates as GET and PUT /api/v1/limits take them, in
// bytes a second; 0 is no limit.
type Limits struct {
	Up     int64 `json:"up"`
	Down   int64 `json:"down"`
	PeerUp int64 `json:"peer_up"`
}

// LimitsStatus is GET /api/v1/limits: the limits, and what moves now.
type LimitsStatus struct {
	Limits
	Measured Rates `json:"measured"`
}

// Rates are bytes a second over the last seconds. Up and Down count what
// the sockets pass (TLS, Noise and QUIC framing included), which is what
// the limits shape and a link measures (less its TCP/UDP and IP
// headers); BlockUp and BlockDown count block bytes alone, as the peers
// table and a transfer's rate do.
type Rates struct {
	Up        float64 `json:"up"`
	Down      float64 `json:"down"`
	BlockUp   float64 `json:"block_up"`
	BlockDown float64 `json:"block_down"`
	// Wire is false when the node does not count socket bytes (it was
	// started with no limit and not shaped): Up and Down are then 0.
	Wire bool `json:"wire"`
	// The counts since the node started, the same two ways (block
	// counts of peers gone are not kept).
	Sent          int64 `json:"sent"`
	Received      int64 `json:"received"`
	BlockSent     int64 `json:"block_sent"`
	BlockReceived int64 `json:"block_received"`
}

func (a *API) getLimits(w http.ResponseWriter, r *http.Request) {
	reply(w, a.limitsStatus())
}

// putLimits sets the limits given, keeps the others, and saves them in
// the repo for the next start.
func (a *API) putLimits(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Up     *int64 `json:"up"`
		Down   *int64 `json:"down"`
		PeerUp *int64 `json:"peer_up"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		apiError(w, http.StatusBadRequest, `want {"up": bytes a second, "down": ..., "peer_up": ...} (0: no limit)`)
		return
	}
	l := a.Node.Limits()
	for _, f := range []struct {
		v  *int64
		to *int64
	}{{req.Up, &l.Up}, {req.Down, &l.Down}, {req.PeerUp, &l.PeerUp}} {
		if f.v != nil {
			*f.to = *f.v
		}
	}
	switch err := a.Node.SaveLimits(l); {
	case errors.Is(err, pollen.ErrBadLimits):
		apiError(w, http.StatusBadRequest, "%v", err)
	case errors.Is(err, pollen.ErrNotShaped):
		apiError(w, http.StatusConflict, "%v", err)
	case err != nil:
		apiError(w, http.StatusInternalServerError, "%v", err)
	default:
		reply(w, a.limitsStatus())
	}
}

func (a *API) limitsStatus() LimitsStatus {
	l := a.Node.Limits()
	return LimitsStatus{Limits: Limits{Up: l.Up, Down: l.Down, PeerUp: l.PeerUp}, Measured: a.rates.sample(a.Node, time.Now())}
}

// rateSpan is how far back the measured rates look: the page asks every
// two seconds, and each ask is a sample; samples older go.
const rateSpan = 5 * time.Second

// rates turns the node's byte counters, sampled at each ask, into rates.
type rates struct {
	mu      sync.Mutex
	samples []counts
}

type counts struct {
	t                            time.Time
	up, down, blockUp, blockDown int64
}

func (rs *rates) sample(n *pollen.Node, now time.Time) Rates {
	c := counts{t: now}
	var wire bool
	c.up, c.down, wire = n.Wire()
	for _, st := range n.Traffic() {
		c.blockUp += st.Sent
		c.blockDown += st.Received
	}
	rs.mu.Lock()
	defer rs.mu.Unlock()
	rs.samples = append(rs.samples, c)
	for len(rs.samples) > 1 && now.Sub(rs.samples[0].t) > rateSpan {
		rs.samples = rs.samples[1:]
	}
	first := rs.samples[0]
	r := Rates{Wire: wire, Sent: c.up, Received: c.down, BlockSent: c.blockUp, BlockReceived: c.blockDown}
	d := now.Sub(first.t).Seconds()
	if d < 0.5 { // too short to say
		return r
	}
	// A peer's block counts go when it leaves: never a negative rate.
	per := func(a, b int64) float64 { return float64(max(b-a, 0)) / d }
	r.Up, r.Down = per(first.up, c.up), per(first.down, c.down)
	r.BlockUp, r.BlockDown = per(first.blockUp, c.blockUp), per(first.blockDown, c.blockDown)
	return r
}
