package ui

import (
	"fmt"
	"net/http"
	"strings"

	"rsc.io/qr"
)

// A share's ticket as a QR code, so a phone can take it from the screen:
// GET /api/v1/shares/{cid}/qr.svg. It is drawn here, in Go, and served
// as an image: the page's strict CSP allows no inline script or style,
// and the page makes no request beyond this origin.

// qrQuiet is the light margin around a code, in modules: the QR standard
// asks for four, and scanners miss codes that touch other dark things.
const qrQuiet = 4

func (a *API) qr(w http.ResponseWriter, r *http.Request) {
	c, err := ParseCID(r.PathValue("cid"))
	if err != nil {
		apiError(w, http.StatusBadRequest, "%v", err)
		return
	}
	if !a.Node.Online() {
		apiError(w, http.StatusServiceUnavailable, "the node is offline: a ticket needs its addresses")
		return
	}
	svg, err := qrSVG(a.Node.Ticket(c).String())
	if err != nil {
		apiError(w, http.StatusInternalServerError, "%v", err)
		return
	}
	w.Header().Set("Content-Type", "image/svg+xml")
	w.Write([]byte(svg))
}

// qrSVG draws text as a QR code: dark modules on a light square, one
// path of horizontal runs, crisp at any size.
func qrSVG(text string) (string, error) {
	// M: a code that survives a smudge or a glare, still small enough
	// for a ticket with a few addresses.
	code, err := qr.Encode(text, qr.M)
	if err != nil {
		return "", fmt.Errorf("QR code of the ticket: %w", err)
	}
	n := code.Size + 2*qrQuiet
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" shape-rendering="crispEdges">`, n, n)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#fff"/><path fill="#000" d="`, n, n)
	for y := 0; y < code.Size; y++ {
		for x := 0; x < code.Size; {
			if !code.Black(x, y) {
				x++
				continue
			}
			run := 1
			for code.Black(x+run, y) {
				run++
			}
			fmt.Fprintf(&b, "M%d %dh%dv1h-%dz", x+qrQuiet, y+qrQuiet, run, run)
			x += run
		}
	}
	b.WriteString(`"/></svg>`)
	return b.String(), nil
}
