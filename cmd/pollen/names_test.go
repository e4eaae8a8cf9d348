package main_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"

	"github.com/chromedp/chromedp"
)

// Names a stranger could give: one that sets the terminal's title and
// colours, and one whose bidi override makes "gnp.exe" read "exe.png".
const (
	titleName = "x\x1b]0;PWNED\x07\x1b[31mred"
	bidiName  = "\u202egnp.exe"

	titleShown = `x\x1b]0;PWNED\a\x1b[31mred`
	bidiShown  = `\u202egnp.exe`
)

// assertEscaped fails when out holds a rune that drives a terminal or
// hides itself, or lacks any of the escaped forms in want.
func assertEscaped(t *testing.T, what, out string, want ...string) {
	t.Helper()
	for _, r := range out {
		if r != '\n' && r != '\t' && (unicode.IsControl(r) || unicode.Is(unicode.Cf, r)) {
			t.Errorf("%s printed %U raw:\n%q", what, r, out)
			break
		}
	}
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("%s does not show %s:\n%s", what, w, out)
		}
	}
}

func TestHostileNamesPrintEscaped(t *testing.T) {
	// The folder's name is hostile too, and readable non-ASCII stays as it is.
	folder, folderShown := "café "+titleName, "café "+titleShown
	src := filepath.Join(t.TempDir(), folder)
	os.Mkdir(src, 0o755)
	files := map[string]string{titleName: "title", bidiName: "not a picture", "日本語 🌼.txt": "fine"}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(src, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	add := run(t, t.TempDir(), "add", src).ok(t)
	assertEscaped(t, "add", add.stdout+add.stderr, "added ", folderShown)

	a := startServer(t, t.TempDir(), "share", src)
	repoB, out := t.TempDir(), t.TempDir()
	get := run(t, repoB, append([]string{"get", a.ticket, "-o", out}, isolated...)...).ok(t)
	assertEscaped(t, "get", get.stdout+get.stderr, "saved "+filepath.Join(out, folderShown))
	doc := run(t, t.TempDir(), append([]string{"doctor", a.ticket, "--wait", "0s"}, isolated...)...).ok(t)
	assertEscaped(t, "doctor", doc.stdout+doc.stderr, "content       "+a.cid+" ("+folderShown+")")
	// --json keeps the name, escaped the JSON way.
	doc = run(t, t.TempDir(), append([]string{"doctor", a.ticket, "--wait", "0s", "--json"}, isolated...)...).ok(t)
	assertEscaped(t, "doctor --json", doc.stdout)
	var d struct{ Content struct{ Name string } }
	if err := json.Unmarshal([]byte(doc.stdout), &d); err != nil || d.Content.Name != folder {
		t.Errorf("doctor --json: name %q (%v), want %q", d.Content.Name, err, folder)
	}
	a.stop()
	assertEscaped(t, "share", a.stderr.String(), "add "+filepath.Join(filepath.Dir(src), folderShown))
	for name, body := range files {
		if b, err := os.ReadFile(filepath.Join(out, folder, name)); err != nil || string(b) != body {
			t.Errorf("%q on disk: %q, %v; want %q", name, b, err, body)
		}
	}
	ls := run(t, repoB, "ls").ok(t)
	assertEscaped(t, "ls", ls.stdout+ls.stderr, folderShown)

	// A get refused by a file already there names it, escaped. The
	// blocks are all here, so it needs no network.
	out2 := t.TempDir()
	taken := filepath.Join(out2, folder, titleName)
	os.MkdirAll(filepath.Dir(taken), 0o755)
	os.WriteFile(taken, []byte("mine"), 0o644)
	r := run(t, repoB, append([]string{"get", a.ticket, "-o", out2}, isolated...)...)
	r.fails(t, "already exists with other content (use --force to replace it)")
	assertEscaped(t, "get into a taken name", r.stdout+r.stderr, filepath.Join(out2, folderShown, titleShown))
	if b, _ := os.ReadFile(taken); string(b) != "mine" {
		t.Errorf("existing file overwritten: %q", b)
	}

	// A fetched file that is gone is named by ls and verify.
	os.Remove(filepath.Join(out, folder, bidiName))
	ls = run(t, repoB, "ls").ok(t)
	assertEscaped(t, "ls after a delete", ls.stdout+ls.stderr, "missing", bidiShown)
	v := run(t, repoB, "verify") // exit 1: the file held a block
	assertEscaped(t, "verify", v.stdout+v.stderr, "changed", bidiShown)
}

// TestHostileNamesOnThePage shares a hostile folder through the API: the
// API gives the name raw, for programs, and the page shows it escaped.
func TestHostileNamesOnThePage(t *testing.T) {
	ctx := browser(t)
	folder, folderShown := "café "+titleName+bidiName, "café "+titleShown+bidiShown
	src := filepath.Join(t.TempDir(), folder)
	os.Mkdir(src, 0o755)
	os.WriteFile(filepath.Join(src, bidiName), []byte("not a picture"), 0o644)
	d, api := startDaemon(t, t.TempDir())
	body, _ := json.Marshal(map[string]string{"path": src})
	code, share := call(t, "POST", api.URL+"/api/v1/shares", string(body), map[string]string{"Authorization": "Bearer " + api.Token})
	if code != 200 || share["name"] != folder {
		t.Fatalf("share answered %d, name %q; want the raw name %q", code, share["name"], folder)
	}
	row := chromedp.CSS("#shares tbody tr")
	err := chromedp.Do(ctx, chromedp.Navigate(d.page), chromedp.WaitVisible(row))
	if err != nil {
		t.Fatal(err)
	}
	text, err := chromedp.Run(ctx, chromedp.Text(row))
	screenshot(t, ctx, "hostile-names")
	if err != nil {
		t.Fatal(err)
	}
	assertEscaped(t, "the page", text, folderShown)
}
