package main

import (
	"encoding/json"
	"flag"
)

// --json: a command's result as JSON on stdout, one value (or one value a
// line, for a command that reports one per argument), for scripts;
// progress and notes still go to stderr.

func jsonFlag(fs *flag.FlagSet, o *opts) {
	fs.BoolVar(&o.json, "json", false, "print the result as JSON")
}

// printJSON writes v as one line of JSON to stdout, unescaped: JSON
// escapes what a terminal must not see itself.
func printJSON(e *env, v any) error {
	return json.NewEncoder(e.data).Encode(v)
}

// Added is what add and share print with --json, one line per path.
type Added struct {
	CID    string `json:"cid"`
	Name   string `json:"name"`
	Ticket string `json:"ticket,omitempty"`
}

// Saved is what get prints with --json.
type Saved struct {
	CID   string `json:"cid"`
	Path  string `json:"path"`
	Files int    `json:"files,omitempty"`
	Size  int64  `json:"size"`
}

// Identity is what id prints with --json.
type Identity struct {
	ID    string   `json:"id"`
	Addrs []string `json:"addrs"`
}
