package main_test

import (
	"crypto/rand"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	mh "github.com/multiformats/go-multihash"

	"github.com/pollen-p2p/pollen"
)

// doctorJSON runs `pollen doctor ARGS --json` and decodes what it says.
func doctorJSON(t *testing.T, repo string, args ...string) (pollen.Diagnosis, result) {
	t.Helper()
	r := run(t, repo, append([]string{"doctor", "--json"}, args...)...)
	var d pollen.Diagnosis
	if err := json.Unmarshal([]byte(r.stdout), &d); err != nil {
		t.Fatalf("doctor --json printed no diagnosis (%v), exit %d:\n%s\n%s", err, r.code, r.stdout, r.stderr)
	}
	return d, r
}

// TestDoctorOnLoopback diagnoses a share's ticket on loopback: found in
// the ticket, reached directly and pinged; then with the sharer gone,
// unreachable, which is an exit code.
func TestDoctorOnLoopback(t *testing.T) {
	a := startServer(t, t.TempDir(), "share", mixed(t)+"/several-MiB.bin")
	repo := t.TempDir()
	begin := time.Now()
	d, r := doctorJSON(t, repo, append([]string{a.ticket, "--wait", "0s"}, isolated...)...)
	t.Logf("doctor TICKET took %s", time.Since(begin).Round(time.Millisecond))
	if r.code != 0 {
		t.Fatalf("doctor of a live ticket: exit %d\n%s", r.code, r.stderr)
	}
	c := d.Content
	if c == nil || c.Root != a.cid || c.Name != "several-MiB.bin" || len(c.Holders) != 1 {
		t.Fatalf("content: %+v", c)
	}
	h := c.Holders[0]
	if !strings.HasPrefix(h.ID, "12D3") || !h.Connected || h.Conn != pollen.ConnDirect || h.RTT <= 0 || h.Found[0] != "ticket" {
		t.Errorf("holder: %+v", h)
	}
	if c.Verdict != pollen.VerdictOK || c.Stuck || c.Here {
		t.Errorf("verdict %q (stuck %v, here %v): %s", c.Verdict, c.Stuck, c.Here, c.Why)
	}
	if d.Node.Reachability != pollen.ReachUnknown || d.DHT.On || !strings.HasPrefix(d.Node.ID, "12D3") {
		t.Errorf("an offline node on loopback: %+v %+v", d.Node, d.DHT)
	}

	// In plain words, one fact a line.
	p := run(t, repo, append([]string{"doctor", a.ticket, "--wait", "0s"}, isolated...)...).ok(t)
	for _, want := range []string{
		"reachability  unknown: ",
		"  because     port mapping: off (--offline)",
		"dht           off (--offline)",
		"content       " + a.cid + " (several-MiB.bin)",
		"holder        " + h.ID + " (found: ticket): direct, round trip ",
		"verdict       ok: 1 holder reachable directly",
	} {
		if !strings.Contains(p.stdout, want) {
			t.Errorf("doctor's words lack %q:\n%s", want, p.stdout)
		}
	}

	// A node alone gives up waiting for its reachability: nobody on the
	// internet can tell it.
	begin = time.Now()
	w := run(t, repo, append([]string{"doctor", "--wait", "1m"}, isolated...)...).ok(t)
	if took := time.Since(begin); took > 20*time.Second || !strings.Contains(w.stderr, "waiting up to 1m0s") {
		t.Errorf("doctor alone waited %s:\n%s", took, w.stderr)
	}
	if !strings.Contains(w.stdout, "no peer on the internet is connected") {
		t.Errorf("doctor alone does not say why it cannot tell:\n%s", w.stdout)
	}

	a.kill()
	d, r = doctorJSON(t, repo, append([]string{a.ticket, "--wait", "0s", "--timeout", "3s"}, isolated...)...)
	r.fails(t, "no reachable holder of "+a.cid)
	if c := d.Content; c == nil || c.Verdict != pollen.VerdictUnreachable || !c.Stuck || len(c.Holders) != 1 || c.Holders[0].Connected || c.Holders[0].Error == "" {
		t.Errorf("a dead ticket: %+v", d.Content)
	}

	for _, args := range [][]string{{"doctor", a.cid, a.cid}, {"doctor", "pollen1garbage"}, {"doctor", "--wait", "-1s"}} {
		if r := run(t, repo, args...); r.code != 2 {
			t.Errorf("%v: exit %d, want 2 (usage)\n%s", args, r.code, r.stderr)
		}
	}
}

// TestDoctorThroughTheDaemon asks a daemon: its peers carry their
// connection kind, and a get of content nobody holds, running in the
// daemon, is judged stuck.
func TestDoctorThroughTheDaemon(t *testing.T) {
	a := startServer(t, t.TempDir(), "share", mixed(t)+"/one-byte.bin")
	repo := t.TempDir()
	_, api := startDaemon(t, repo)
	auth := map[string]string{"Authorization": "Bearer " + api.Token}

	d, r := doctorJSON(t, repo, a.ticket)
	if r.code != 0 || !strings.Contains(r.stderr, "asking the running daemon") {
		t.Fatalf("doctor with a daemon: exit %d\n%s", r.code, r.stderr)
	}
	if c := d.Content; c == nil || c.Verdict != pollen.VerdictOK || len(c.Holders) != 1 || c.Holders[0].Conn != pollen.ConnDirect {
		t.Errorf("content through the daemon: %+v", d.Content)
	}
	var peers []map[string]any
	req, _ := http.NewRequest("GET", api.URL+"/api/v1/peers", nil)
	req.Header.Set("Authorization", auth["Authorization"])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	json.NewDecoder(resp.Body).Decode(&peers)
	resp.Body.Close()
	if len(peers) == 0 || peers[0]["kind"] != "direct" {
		t.Errorf("peers: %v", peers)
	}
	if pr := run(t, repo, "peers").ok(t); !strings.Contains(pr.stdout, "  direct  ") {
		t.Errorf("pollen peers does not name the connection's kind:\n%s", pr.stdout)
	}
	if code, body := call(t, "GET", api.URL+"/api/v1/doctor", "", nil); code != http.StatusUnauthorized {
		t.Errorf("doctor without the token: %d %v", code, body)
	}

	// A get of what nobody has, from the sharer: it waits for blocks
	// that never come, and the doctor says so.
	sum, _ := mh.Sum([]byte(rand.Text()), mh.SHA2_256, -1)
	nobody := cid.NewCidV1(cid.Raw, sum).String()
	code, body := call(t, "POST", api.URL+"/api/v1/get", `{"ref": "`+nobody+`", "from": ["`+a.addrs[0]+`"]}`, auth)
	if code != http.StatusOK {
		t.Fatalf("get: %d %v", code, body)
	}
	time.Sleep(6 * time.Second) // a transfer is stalled after 5 s
	d, r = doctorJSON(t, repo, nobody)
	if r.code != 1 || !strings.Contains(r.stderr, "pollen: no reachable holder of "+nobody) {
		t.Errorf("doctor of content nobody holds: exit %d\n%s", r.code, r.stderr)
	}
	c := d.Content
	if c == nil || c.Transfer == nil || !c.Transfer.Stalled || c.Verdict != pollen.VerdictNoHolders {
		t.Errorf("a stalled get through the daemon: %+v", c)
	}
}
