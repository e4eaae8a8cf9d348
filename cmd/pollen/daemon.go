package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/dustin/go-humanize"

	"github.com/pollen-p2p/pollen"
	"github.com/pollen-p2p/pollen/ui"
)

// apiFile, in the repo, tells the command line where the daemon's API is
// and its token (mode 0600: whoever can read it may drive the node).
const apiFile = "api.json"

// defaultAPI is where the daemon's API listens unless told otherwise.
const defaultAPI = "127.0.0.1:5011"

// reprovideEvery is how often the daemon announces its roots on the DHT
// again (provider records expire after 48 hours).
const reprovideEvery = 12 * time.Hour

type apiInfo struct {
	URL   string `json:"url"`
	Token string `json:"token"`
}

func init() {
	register(&command{
		name:    "daemon",
		args:    "[--api HOST:PORT] [--listen MULTIADDR]...",
		summary: "run the node in the foreground: serve, discover, and answer the local API",
		help: `The daemon owns the repository: it serves every stored block, runs discovery,
announces its roots on the DHT every 12 hours, and answers the local API on
127.0.0.1 (the address and a random token are in api.json in the repo, mode
0600). It prints a one-time login link for the page; 'pollen page' prints
a new one. While it runs, 'pollen status', 'ls' and 'peers' ask it. SIGINT
or SIGTERM stop it cleanly.

It starts with the limits saved in the repo ('pollen limits'); --max-up,
--max-down and --max-up-peer override them until it stops, and
'pollen limits' or the page change them while it runs.`,
		flags: func(fs *flag.FlagSet, o *opts) {
			fs.StringVar(&o.api, "api", defaultAPI, "where the local API listens (127.0.0.1 only)")
			fs.StringVar(&o.out, "downloads", "", "folder that fetches from the page go to (default ~/Downloads, else REPO/downloads)")
			fs.BoolVar(&o.relay, "relay", false, "relay for peers that cannot be dialled (run it only where this node can be)")
			fs.DurationVar(&o.relayDuration, "relay-max-duration", 0, "with --relay: end a relayed connection after this long (0: no limit)")
			fs.StringVar(&o.relayData, "relay-max-data", "", "with --relay: end a relayed connection after this much data each way, such as 10GiB (default no limit)")
			fs.IntVar(&o.relayReservations, "relay-max-peers", 0, "with --relay: peers that may hold a slot at once (0: 128)")
			netFlags(fs, o)
			seedFlags(fs, o)
			storageFlag(fs, o)
		},
		run: runDaemon,
	})
}

func runDaemon(ctx context.Context, e *env, o *opts, args []string) error {
	if len(args) != 0 {
		return usagef("daemon takes no arguments")
	}
	host, port, err := net.SplitHostPort(o.api)
	if err != nil || (host != "127.0.0.1" && host != "localhost") {
		return usagef("--api %q: want 127.0.0.1:PORT (the API is never served beyond this machine)", o.api)
	}
	// Shaped whatever its limits, so that 'pollen limits' and the page
	// change them without a restart (docs/performance.md: what it costs).
	o.shaped = true
	node, err := openOnline(o)
	if err != nil {
		return err
	}
	defer node.Close()
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", port))
	if err != nil && o.api == defaultAPI {
		ln, err = net.Listen("tcp", "127.0.0.1:0") // the default port is taken: any free one
	}
	if err != nil {
		return fmt.Errorf("daemon: API: %w", err)
	}
	_, port, _ = net.SplitHostPort(ln.Addr().String())
	token := make([]byte, 32)
	rand.Read(token)
	info := apiInfo{URL: "http://" + ln.Addr().String(), Token: hex.EncodeToString(token)}
	path := filepath.Join(node.Dir(), apiFile)
	b, _ := json.Marshal(info)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return fmt.Errorf("daemon: %w", err)
	}
	defer os.Remove(path)

	downloads := o.out
	if downloads == "" {
		downloads = filepath.Join(node.Dir(), "downloads")
		if home, err := os.UserHomeDir(); err == nil {
			if fi, err := os.Stat(filepath.Join(home, "Downloads")); err == nil && fi.IsDir() {
				downloads = filepath.Join(home, "Downloads")
			}
		}
	}
	api := &ui.API{Node: node, Token: info.Token, Port: port, DownloadDir: downloads, Context: ctx}
	// The gets it ran when it stopped run again; paused ones wait.
	if err := api.Restore(); err != nil {
		return fmt.Errorf("daemon: %w", err)
	}
	// And the live shares and follows it ran.
	if err := node.ResumeLives(ctx); err != nil {
		fmt.Fprintf(e.stderr, "live folders: %s\n", ui.Escape(oneLine(err)))
	}
	srv := &http.Server{Handler: api.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()
	go reprovide(ctx, node)

	fmt.Fprintf(e.stdout, "api     %s\n", info.URL)
	fmt.Fprintf(e.stdout, "page    %s\n", api.LoginLink())
	fmt.Fprintf(e.stdout, "saving  %s\n", ui.Escape(downloads))
	serve(ctx, e, node)
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	srv.Shutdown(shutdown) // let in-flight calls finish before the store closes
	api.Wait()             // and the gets, which stopped with ctx
	return nil
}

// reprovide announces every root now and then every reprovideEvery.
func reprovide(ctx context.Context, node *pollen.Node) {
	for {
		node.ProvideAll(ctx)
		select {
		case <-ctx.Done():
			return
		case <-time.After(reprovideEvery):
		}
	}
}

// daemonAPI returns the running daemon's API for the repo, or nil when
// none answers (then the command opens the repo itself).
func daemonAPI(o *opts) *apiClient {
	dir, err := repoDir(o)
	if err != nil {
		return nil
	}
	b, err := os.ReadFile(filepath.Join(dir, apiFile))
	if err != nil {
		return nil
	}
	var info apiInfo
	if json.Unmarshal(b, &info) != nil {
		return nil
	}
	c := &apiClient{info: info, http: &http.Client{Timeout: 30 * time.Second}}
	var st ui.Status
	if c.get("/api/v1/status", &st) != nil {
		return nil // a stale file: the daemon is gone
	}
	return c
}

// needDaemon returns the running daemon's API for the repo, or the one
// line that says none runs, for commands that only a daemon can answer.
func needDaemon(o *opts) (*apiClient, error) {
	if c := daemonAPI(o); c != nil {
		return c, nil
	}
	return nil, errors.New("no daemon running for this repo: start 'pollen daemon'")
}

type apiClient struct {
	info apiInfo
	http *http.Client
}

// viaNode runs a request through the running daemon, which holds the
// repo (method and path with body; its answer into v), or else runs local
// on the repo opened here.
func viaNode(o *opts, method, path string, body, v any, local func(*pollen.Node) error) error {
	if c := daemonAPI(o); c != nil {
		return c.call(method, path, body, v)
	}
	return onRepo(o, local)
}

// onRepo runs local on the repo opened here.
func onRepo(o *opts, local func(*pollen.Node) error) error {
	node, err := openNode(o)
	if err != nil {
		return err
	}
	defer node.Close()
	return local(node)
}

// viaNodeStream is viaNode for a GET whose answer is copied to w.
func viaNodeStream(o *opts, path string, w io.Writer, local func(*pollen.Node) error) error {
	if c := daemonAPI(o); c != nil {
		return c.stream(path, w)
	}
	return onRepo(o, local)
}

func (c *apiClient) get(path string, v any) error { return c.call("GET", path, nil, v) }

// stream copies the body of a GET to w. No overall timeout: a big file
// takes as long as it takes.
func (c *apiClient) stream(path string, w io.Writer) error {
	resp, err := c.do(&http.Client{}, "GET", path, nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(w, resp.Body); err != nil {
		return fmt.Errorf("daemon: %w", err)
	}
	return nil
}

// call sends a JSON request to the daemon and decodes its JSON answer.
func (c *apiClient) call(method, path string, body, v any) error {
	return c.callWith(c.http, method, path, body, v)
}

// callWith is call with another client (another timeout).
func (c *apiClient) callWith(client *http.Client, method, path string, body, v any) error {
	resp, err := c.do(client, method, path, body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return json.NewDecoder(resp.Body).Decode(v)
}

// do sends a request with the token (body as JSON, if any) and returns
// a 200 answer for the caller to read and close; any other answer is its
// error line.
func (c *apiClient) do(client *http.Client, method, path string, body any) (*http.Response, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.info.URL+path, rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.info.Token)
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("daemon API: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		var e struct{ Error, Kind string }
		json.NewDecoder(resp.Body).Decode(&e)
		k := pollen.ErrorKind(e.Kind)
		if k == pollen.KindOther {
			k = kindOfStatus[resp.StatusCode]
		}
		return nil, pollen.WithKind(k, "daemon: "+e.Error)
	}
	return resp, nil
}

// getVia runs a get in the daemon and follows it with a progress bar.
func getVia(ctx context.Context, e *env, c *apiClient, ref, dir string, o *opts) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	var started struct{ ID int }
	req := map[string]any{"ref": ref, "dir": abs, "force": o.force, "from": []string(o.from), "max_entries": o.maxEntries, "only": []string(o.only)}
	if err := c.call("POST", "/api/v1/get", req, &started); err != nil {
		return err
	}
	t, err := follow(ctx, e, c, started.ID, "get")
	if err != nil {
		return err
	}
	if o.json {
		return printJSON(e, Saved{CID: t.CID, Path: t.Path, Size: t.Total})
	}
	fmt.Fprintf(e.stdout, "saved %s (by the daemon, %s)\n", ui.Escape(t.Path), humanize.IBytes(uint64(t.Total)))
	noteDamaged(e, t.Damaged)
	return nil
}

// follow shows a transfer the daemon runs with a progress bar until it ends.
func follow(ctx context.Context, e *env, c *apiClient, id int, verb string) (ui.Transfer, error) {
	bar := e.bar(verb)
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		var list []ui.Transfer
		if err := c.get("/api/v1/transfers", &list); err != nil {
			bar.Abort()
			return ui.Transfer{}, err
		}
		for _, t := range list {
			if t.ID != id {
				continue
			}
			bar.SetPeers(len(t.Peers))
			if t.Kind == "get" {
				var moved int64
				for _, n := range t.Peers {
					moved += n
				}
				bar.Moved(moved, t.Here)
			}
			if t.Total > 0 {
				bar.Progress(t.Done, t.Total)
			}
			switch t.State {
			case "done":
				bar.Done()
				return t, nil
			case "failed":
				bar.Abort()
				// The command line names flags (--force) and paths: the
				// error as Go said it, not the page's sentence.
				msg := t.Error
				if t.Detail != "" {
					msg = t.Detail
				}
				return t, pollen.WithKind(pollen.ErrorKind(t.ErrorKind), msg)
			case "paused":
				bar.Abort()
				return t, fmt.Errorf("%s %d paused; 'pollen resume %d' goes on with it", verb, id, id)
			case "canceled":
				bar.Abort()
				return t, fmt.Errorf("%s %d canceled", verb, id)
			}
		}
		select {
		case <-ctx.Done():
			bar.Abort()
			return ui.Transfer{}, fmt.Errorf("stopped following the %s; the daemon goes on with it ('pollen transfers')", verb)
		case <-tick.C:
		}
	}
}

// shareVia hands a path to the daemon to share and follows the import.
func shareVia(ctx context.Context, e *env, c *apiClient, path string, o *opts) error {
	t, err := importVia(ctx, e, c, "/api/v1/shares", path, o)
	if err != nil {
		return err
	}
	printShared(e, o, t.CID, t.Name, t.Ticket)
	return nil
}

// importVia hands a path to the daemon to import at endpoint (shares, or
// add: no announcement) and follows the import.
func importVia(ctx context.Context, e *env, c *apiClient, endpoint, path string, o *opts) (ui.Transfer, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return ui.Transfer{}, err
	}
	var started struct{ ID int }
	if err := c.call("POST", endpoint, map[string]any{"path": abs, "hidden": o.hidden, "async": true, "private": o.private, "allow": []string(o.allow)}, &started); err != nil {
		return ui.Transfer{}, err
	}
	show := e
	if o.quiet {
		show = &env{stdout: e.stdout, stderr: io.Discard, data: e.data, bars: io.Discard}
	}
	t, err := follow(ctx, show, c, started.ID, "add "+path)
	if err != nil {
		return t, err
	}
	if t.Skipped > 0 && !o.quiet {
		fmt.Fprintf(e.stderr, "skipped %d hidden %s in %s (use --hidden to include them)\n",
			t.Skipped, plural(t.Skipped, "entry", "entries"), ui.Escape(path))
	}
	return t, nil
}

// kindOfStatus reads the kind of an API error that does not name it.
var kindOfStatus = map[int]pollen.ErrorKind{
	http.StatusBadRequest:          pollen.KindInvalid,
	http.StatusNotFound:            pollen.KindNotFound,
	http.StatusConflict:            pollen.KindExists,
	http.StatusBadGateway:          pollen.KindUnreachable,
	http.StatusUnprocessableEntity: pollen.KindCorrupt,
	http.StatusInsufficientStorage: pollen.KindNoSpace,
}
