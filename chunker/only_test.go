package chunker_test

import (
	"testing"

	"github.com/pollen-p2p/pollen/chunker"
)

// TestPaths: a pick takes exactly the files named and all under the
// folders named, whatever their names hold; a pattern of the same text
// would take more.
func TestPaths(t *testing.T) {
	tree := []string{"a.txt", "sub/a.txt", "sub/deep/b.bin", "sub2/c", "[x]*?.txt", `back\slash`, "sub/deep"}
	for _, tc := range []struct {
		name  string
		paths []string
		want  []string
	}{
		{"a top-level file alone", []string{"a.txt"}, []string{"a.txt"}},
		{"a nested file", []string{"sub/a.txt"}, []string{"sub/a.txt"}},
		{"a folder, at every depth", []string{"sub"}, []string{"sub/a.txt", "sub/deep/b.bin", "sub/deep"}},
		{"not a prefix of a name", []string{"su"}, nil},
		{"glob characters are names", []string{"[x]*?.txt", `back\slash`}, []string{"[x]*?.txt", `back\slash`}},
		{"the whole share", []string{""}, tree},
		{"slashes around", []string{"/sub2/"}, []string{"sub2/c"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			takes, err := chunker.Paths(tc.paths)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range tree {
				if takes(p) {
					got = append(got, p)
				}
			}
			if len(got) != len(tc.want) {
				t.Fatalf("took %q, want %q", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("took %q, want %q", got, tc.want)
				}
			}
		})
	}
	for _, bad := range []string{"../x", "a/../b", "a//b", "./a"} {
		if _, err := chunker.Paths([]string{bad}); err == nil {
			t.Errorf("Paths(%q) took it", bad)
		}
	}
	only, _ := chunker.Only([]string{"a.txt"})
	if !only("sub/a.txt") {
		t.Error("a pattern without a slash no longer matches at every depth")
	}
}
