//go:build !linux

package chunker

// renameNoReplace renames from to to unless to exists (fs.ErrExist).
func renameNoReplace(from, to string) error { return renameChecked(from, to) }
