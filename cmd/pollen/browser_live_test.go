package main_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/pollen-p2p/pollen/ui"
)

// TestPageLiveFolders walks a live folder through two pages: A shares a
// folder live and sees version 1 with its ticket (text, QR code); B
// follows the ticket into a folder and its mirror fills; a change in
// the folder shows as version 2 on both pages, B as A's follower, and a
// file B changed in its mirror as a conflict, its name escaped; the
// folder moved away is said in a sentence; both stop, after asking, and
// the files stay.
func TestPageLiveFolders(t *testing.T) {
	ctx := browser(t)
	a, apiA := startDaemon(t, t.TempDir())
	b, apiB := startDaemon(t, t.TempDir())
	src := filepath.Join(t.TempDir(), "notes")
	os.MkdirAll(src, 0o755)
	bidi := "\u202egnp.exe" // reads "exe.png" unescaped
	for name, text := range map[string]string{"a.txt": "one", bidi: "theirs"} {
		if err := os.WriteFile(filepath.Join(src, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// A shares the folder live.
	row := `#lives tbody tr[data-kind="share"]`
	err := chromedp.Do(ctx,
		chromedp.Navigate(a.page),
		loggedIn(),
		chromedp.WaitVisible(chromedp.CSS("#lives-none")),
		chromedp.SendKeys(chromedp.CSS("#live-dir"), src),
		chromedp.Click(chromedp.CSS("#live-go")),
		chromedp.WaitVisible(chromedp.CSS(row+`[data-seq="1"]`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	cells, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(row)))
	for _, want := range []string{src, "sharing live", "version 1", "changed just now", "0 followers now"} {
		if !strings.Contains(cells, want) {
			t.Errorf("the live share's row %q does not say %q", cells, want)
		}
	}
	if kind, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#shares tbody tr"))); !strings.Contains(kind, "a live folder's version") {
		t.Errorf("the version in the shares' list is not told from a share: %q", kind)
	}
	exact, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("#lives time.ago").title`))
	if exact == "" {
		t.Error("the last change has no exact time to hover")
	}
	ticket, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS(row+" button.copy"), "data-ticket"))
	if err != nil || !strings.HasPrefix(ticket.Value, "pollen1") {
		t.Fatalf("the live share's ticket on the page: %q (%v)", ticket.Value, err)
	}
	err = chromedp.Do(ctx, chromedp.Click(chromedp.CSS(row+" button.show-ticket")), chromedp.WaitVisible(chromedp.CSS("#lives tr.ticket-row img.qr")))
	if err == nil {
		err = until(ctx, `document.querySelector("#lives tr.ticket-row img.qr").naturalWidth > 0`)
	}
	if err != nil {
		t.Fatalf("the live ticket's QR code: %v", err)
	}
	if text, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("#lives textarea.ticket").value`)); text != ticket.Value {
		t.Errorf("the live ticket's text is %q, its copy button holds %q", text, ticket.Value)
	}
	looks(t, ctx, "live-share")

	// B follows it through its page.
	mirror := filepath.Join(t.TempDir(), "mirror")
	follow := `#lives tbody tr[data-kind="follow"]`
	err = chromedp.Do(ctx,
		chromedp.Navigate(b.page),
		loggedIn(),
		chromedp.SendKeys(chromedp.CSS("#follow-ticket"), ticket.Value),
		chromedp.SendKeys(chromedp.CSS("#follow-dir"), mirror),
		chromedp.Click(chromedp.CSS("#follow-go")),
		chromedp.WaitVisible(chromedp.CSS(follow+`[data-seq="1"]`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(mirror, "a.txt")); string(got) != "one" {
		t.Fatalf("the mirror holds %q, want version 1's", got)
	}

	// A change in the mirror is B's; a change in the folder is version 2.
	if err := os.WriteFile(filepath.Join(mirror, bidi), []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, text := range map[string]string{"a.txt": "two", bidi: "theirs, again"} {
		if err := os.WriteFile(filepath.Join(src, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	err = chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(follow+`[data-seq="2"]`)))
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(mirror, "a.txt")); string(got) != "two" {
		t.Errorf("the mirror's a.txt is %q, want version 2's", got)
	}
	if got, _ := os.ReadFile(filepath.Join(mirror, bidi)); string(got) != "mine" {
		t.Errorf("the file changed in the mirror holds %q: replaced", got)
	}
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(follow+" details.conflicts summary")),
		chromedp.WaitVisible(chromedp.CSS(follow+" ul.conflicts li")),
	)
	conflict, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(follow+" ul.conflicts li")))
	if err != nil || conflict != `\u202egnp.exe` {
		t.Errorf("the conflict reads %q (%v), want the name escaped", conflict, err)
	}
	looks(t, ctx, "live-follow")

	// A sees version 2 and B following it.
	err = chromedp.Do(ctx,
		chromedp.Navigate(apiA.URL+"/"),
		loggedIn(),
		chromedp.WaitVisible(chromedp.CSS(row+`[data-seq="2"][data-followers="1"]`)),
	)
	if err != nil {
		t.Fatal(err)
	}

	// A folder moved away: the page says so in a sentence.
	if err := os.Rename(src, src+".moved"); err != nil {
		t.Fatal(err)
	}
	err = chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(row+`[data-error="yes"] .live-error`)))
	why, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(row+" .live-error")))
	if err != nil || !strings.HasPrefix(why, "the folder "+src+" or a file in it is gone") {
		t.Errorf("a live share whose folder moved away says %q (%v)", why, err)
	}
	looks(t, ctx, "live-error")
	if err := os.Rename(src+".moved", src); err != nil {
		t.Fatal(err)
	}

	// Stopping asks first; the folder stays as it is.
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(row+" button.stop")),
		chromedp.WaitVisible(chromedp.CSS("#ask[open]")),
	)
	if err != nil {
		t.Fatal(err)
	}
	question, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#ask-text")))
	if !strings.HasPrefix(question, "Stop sharing "+src+" live?") {
		t.Errorf("the page asks %q", question)
	}
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS("#ask-yes")),
		chromedp.WaitNotPresent(chromedp.CSS(row)),
		chromedp.WaitVisible(chromedp.CSS("#lives-none")),
	)
	if err != nil {
		t.Fatal(err)
	}
	var lives []ui.Live
	apiGet(t, apiA, "/api/v1/live", &lives)
	if len(lives) != 0 {
		t.Errorf("after stopping on the page the daemon runs %+v", lives)
	}
	if got, _ := os.ReadFile(filepath.Join(src, "a.txt")); string(got) != "two" {
		t.Errorf("the folder after stop holds %q", got)
	}

	// B stops following, by keyboard: the files stay.
	err = chromedp.Do(ctx,
		chromedp.Navigate(apiB.URL+"/"),
		loggedIn(),
		chromedp.WaitVisible(chromedp.CSS(follow+" button.stop")),
		chromedp.Focus(chromedp.CSS(follow+" button.stop")),
		chromedp.KeyEvent("\r"),
		chromedp.WaitVisible(chromedp.CSS("#ask[open]")),
		chromedp.Focus(chromedp.CSS("#ask-yes")),
		chromedp.KeyEvent("\r"),
		chromedp.WaitNotPresent(chromedp.CSS(follow)),
	)
	if err != nil {
		t.Fatal(err)
	}
	apiGet(t, apiB, "/api/v1/live", &lives)
	if len(lives) != 0 {
		t.Errorf("after unfollowing on the page the daemon runs %+v", lives)
	}
	if got, _ := os.ReadFile(filepath.Join(mirror, "a.txt")); string(got) != "two" {
		t.Errorf("the mirror after unfollow holds %q", got)
	}
}
