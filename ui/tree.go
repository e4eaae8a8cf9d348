package ui

import (
	"context"
	"errors"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/pollen-p2p/pollen"
)

// Tree is a listing of a share, as GET /api/v1/tree?ref=TICKET|CID
// answers it.
type Tree struct {
	CID     string      `json:"cid"`
	Name    string      `json:"name"`
	Entries []TreeEntry `json:"entries"`
	// Fetched counts the blocks and bytes brought from peers to list.
	Fetched      int   `json:"fetched_blocks"`
	FetchedBytes int64 `json:"fetched_bytes"`
}

// TreeEntry is one file, folder or symlink of a Tree.
type TreeEntry struct {
	Path string `json:"path"` // slash-separated from the share's root; "" is the root
	Kind string `json:"kind"` // file, dir or symlink
	Size int64  `json:"size"`
	CID  string `json:"cid"`
}

// treeWait bounds how long a listing waits for a holder to send
// anything.
const treeWait = time.Minute

// TreeOf lists ref (a ticket or a CID) on node, fetching what a listing
// needs when the node is online.
func TreeOf(ctx context.Context, node *pollen.Node, ref string) (Tree, error) {
	root, o, err := ParseRef(ref)
	if err != nil {
		return Tree{}, err
	}
	o.Stall = treeWait
	res, err := node.Tree(ctx, root, o)
	name := o.Name
	if o.Path != "" {
		name = path.Base(o.Path) // where get writes it
	}
	t := Tree{CID: root.String(), Name: name, Fetched: res.Fetched, FetchedBytes: res.FetchedBytes}
	for _, e := range res.Entries {
		t.Entries = append(t.Entries, TreeEntry{Path: e.Path, Kind: e.Kind, Size: e.Size, CID: e.CID.String()})
	}
	return t, err
}

func (a *API) tree(w http.ResponseWriter, r *http.Request) {
	ref := strings.TrimSpace(r.URL.Query().Get("ref"))
	if ref == "" {
		apiError(w, http.StatusBadRequest, "want ?ref=TICKET or CID")
		return
	}
	t, err := TreeOf(r.Context(), a.Node, ref)
	switch {
	case errors.Is(err, pollen.ErrUnsafeName), errors.Is(err, pollen.ErrTooLarge):
		apiError(w, http.StatusUnprocessableEntity, "%v", err)
	case errors.Is(err, pollen.ErrNoPeers), errors.Is(err, pollen.ErrNotLocal):
		apiError(w, http.StatusNotFound, "%v", err)
	case err != nil:
		apiError(w, http.StatusBadGateway, "%v", err)
	default:
		reply(w, t)
	}
}
