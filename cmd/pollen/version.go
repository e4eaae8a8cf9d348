package main

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
)

// version is set at release builds (-ldflags "-X main.version=v0.14.0");
// a build from a clone says what its build info knows.
var version = ""

func init() {
	register(&command{
		name:    "version",
		summary: "print pollen's version, commit and Go version",
		run: func(ctx context.Context, e *env, o *opts, args []string) error {
			if len(args) != 0 {
				return usagef("version takes no arguments")
			}
			fmt.Fprintln(e.stdout, versionLine())
			return nil
		},
	})
}

// versionLine is "pollen v0.14.0 (commit 1c675a4, go1.26.8 linux/amd64)".
func versionLine() string {
	v, commit := version, ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v == "" {
			v = bi.Main.Version // "(devel)" from a clone, the tag from go install
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 7 {
				commit = "commit " + s.Value[:7] + ", "
			}
		}
	}
	if v == "" {
		v = "(devel)"
	}
	return fmt.Sprintf("pollen %s (%s%s %s/%s)", v, commit, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
