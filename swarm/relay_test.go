package swarm

import (
	"testing"
	"time"
)

// TestRelayLimits: no limit set is no limit at all (relayed connections
// are then not "limited" and carry Bitswap too); one set makes the
// other too large to matter, since go-libp2p applies both or neither.
func TestRelayLimits(t *testing.T) {
	if rc := (RelayLimits{}).resources(); rc.Limit != nil {
		t.Errorf("no limits asked, got %+v", *rc.Limit)
	}
	rc := RelayLimits{Data: 1 << 30, Reservations: 5, Circuits: 3}.resources()
	if rc.Limit == nil || rc.Limit.Data != 1<<30 || rc.Limit.Duration < 100*365*24*time.Hour {
		t.Errorf("a data limit alone: %+v", rc.Limit)
	}
	if rc.MaxReservations != 5 || rc.MaxCircuits != 3 {
		t.Errorf("reservations %d, circuits %d", rc.MaxReservations, rc.MaxCircuits)
	}
	rc = RelayLimits{Duration: time.Hour}.resources()
	if rc.Limit == nil || rc.Limit.Duration != time.Hour || rc.Limit.Data < 1<<60 {
		t.Errorf("a time limit alone: %+v", rc.Limit)
	}
}
