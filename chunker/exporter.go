package chunker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	dag "github.com/ipfs/boxo/ipld/merkledag"
	ft "github.com/ipfs/boxo/ipld/unixfs"
	uio "github.com/ipfs/boxo/ipld/unixfs/io"
	pb "github.com/ipfs/boxo/ipld/unixfs/pb"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
)

// partSuffix marks a file still being written: ".NAME.pollen-part".
const partSuffix = ".pollen-part"

// entry is one thing export will create, found before anything is written.
type entry struct {
	rel    string // path below the target, made only of checked names
	kind   pb.Data_DataType
	node   ipld.Node
	size   int64  // file bytes
	target string // symlink target
}

// Export writes the DAG under root to dir/name. It first walks the whole
// tree (directories and file roots), checking every name with [CheckName]
// and every destination on disk, so a hostile DAG or an existing file is
// refused before anything is written. Each file is written under a
// temporary name and renamed when complete; existing files are replaced
// only with Force; nothing is ever written through a symlink.
func Export(ctx context.Context, ng NodeGetter, root cid.Cid, dir, name string, o ExportOptions) (ExportResult, error) {
	if err := CheckName(name); err != nil {
		return ExportResult{}, fmt.Errorf("export %s: %w", root, err)
	}
	ex := &exporter{ctx: ctx, ng: ng, ds: dag.NewReadOnlyDagService(ng), o: o}
	n, err := ng.Get(ctx, root)
	if err != nil {
		return ExportResult{}, fmt.Errorf("export %s: %w", root, err)
	}
	if err := ex.plan(n, name); err != nil {
		return ExportResult{}, fmt.Errorf("export %s: %w", root, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return ExportResult{}, fmt.Errorf("export %s: %w", root, err)
	}
	for _, e := range ex.entries {
		if err := ex.check(dir, e); err != nil {
			return ExportResult{}, fmt.Errorf("export %s: %w", root, err)
		}
	}
	for _, e := range ex.entries {
		if err := ex.write(dir, e); err != nil {
			return ExportResult{}, fmt.Errorf("export %s: %w", root, err)
		}
	}
	ex.res.Path = filepath.Join(dir, name)
	return ex.res, nil
}

type exporter struct {
	ctx     context.Context
	ng      NodeGetter
	ds      ipld.DAGService
	o       ExportOptions
	entries []entry
	total   int64
	done    int64
	res     ExportResult
}

// plan walks the DAG below n, recording what to create at rel.
func (ex *exporter) plan(n ipld.Node, rel string) error {
	if err := ex.ctx.Err(); err != nil {
		return err
	}
	switch n := n.(type) {
	case *dag.RawNode:
		ex.add(entry{rel: rel, kind: ft.TFile, node: n, size: int64(len(n.RawData()))})
		return nil
	case *dag.ProtoNode:
		fsn, err := ft.FSNodeFromBytes(n.Data())
		if err != nil {
			return fmt.Errorf("%s: not UnixFS: %w", rel, err)
		}
		switch fsn.Type() {
		case ft.TFile, ft.TRaw:
			ex.add(entry{rel: rel, kind: ft.TFile, node: n, size: int64(fsn.FileSize())})
			return nil
		case ft.TSymlink:
			ex.add(entry{rel: rel, kind: ft.TSymlink, node: n, target: string(fsn.Data())})
			return nil
		case ft.TDirectory, ft.THAMTShard:
			return ex.planDir(n, rel)
		default:
			return fmt.Errorf("%s: unsupported UnixFS type %s", rel, fsn.Type())
		}
	default:
		return fmt.Errorf("%s: %s is not UnixFS", rel, n.Cid())
	}
}

func (ex *exporter) planDir(n *dag.ProtoNode, rel string) error {
	d, err := uio.NewDirectoryFromNode(ex.ds, n)
	if err != nil {
		return fmt.Errorf("%s: %w", rel, err)
	}
	ex.add(entry{rel: rel, kind: ft.TDirectory, node: n})
	seen := make(map[string]bool)
	var links []*ipld.Link
	err = d.ForEachLink(ex.ctx, func(l *ipld.Link) error {
		if err := CheckName(l.Name); err != nil {
			return fmt.Errorf("%s: %w", rel, err)
		}
		if seen[l.Name] {
			return fmt.Errorf("%s: %w %q: appears twice", rel, ErrUnsafeName, l.Name)
		}
		seen[l.Name] = true
		links = append(links, l)
		return nil
	})
	if err != nil {
		return err
	}
	for _, l := range links {
		child, err := l.GetNode(ex.ctx, ex.ng)
		if err != nil {
			return fmt.Errorf("%s: %w", filepath.Join(rel, l.Name), err)
		}
		if err := ex.plan(child, filepath.Join(rel, l.Name)); err != nil {
			return err
		}
	}
	return nil
}

func (ex *exporter) add(e entry) {
	ex.entries = append(ex.entries, e)
	ex.total += e.size
}

// check refuses, before anything is written, destinations that exist and
// may not be replaced, and parents that are not plain folders.
func (ex *exporter) check(dir string, e entry) error {
	path := filepath.Join(dir, e.rel)
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	switch {
	case fi.Mode()&fs.ModeSymlink != 0:
		return fmt.Errorf("%s: %w (a symlink; pollen never writes through one)", path, ErrExists)
	case e.kind == ft.TDirectory && fi.IsDir():
		return nil
	case e.kind == ft.TFile && fi.Mode().IsRegular() && ex.o.Force:
		return nil
	case e.kind == ft.TFile && fi.Mode().IsRegular():
		return fmt.Errorf("%s: %w (use --force to replace it)", path, ErrExists)
	default:
		return fmt.Errorf("%s: %w", path, ErrExists)
	}
}

func (ex *exporter) write(dir string, e entry) error {
	path := filepath.Join(dir, e.rel)
	if err := ex.ctx.Err(); err != nil {
		return err
	}
	switch e.kind {
	case ft.TDirectory:
		if err := os.Mkdir(path, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
			return err
		}
		// Whatever is there now must be a real folder, not a symlink made
		// since the check.
		if fi, err := os.Lstat(path); err != nil || !fi.IsDir() {
			return fmt.Errorf("%s: %w and is not a folder", path, ErrExists)
		}
		ex.res.Dirs++
		return nil
	case ft.TSymlink:
		if err := os.Symlink(e.target, path); err != nil {
			return err
		}
		ex.res.Symlinks++
		return nil
	default:
		return ex.writeFile(path, e)
	}
}

// writeFile copies the file's DAG into a temporary file beside path and
// renames it over path once complete.
func (ex *exporter) writeFile(path string, e entry) error {
	// The temporary name is fixed, so a get killed half way and run again
	// writes into it rather than leaving it behind (a store may be reading
	// blocks from it: it is rewritten in place, not truncated first);
	// O_NOFOLLOW, so a symlink planted there is never written through.
	tmpName := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+partSuffix)
	tmp, err := os.OpenFile(tmpName, os.O_WRONLY|os.O_CREATE|syscall.O_NOFOLLOW, 0o644)
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	absTmp, err := filepath.Abs(tmp.Name())
	if err != nil {
		tmp.Close()
		return err
	}
	sf := &streamFile{f: tmp}
	fw := &fileWriter{ex: ex, w: &countingWriter{w: sf, ex: ex}, path: absTmp}
	err = fw.copy(e.node, 0)
	if err == nil {
		err = tmp.Truncate(fw.off)
	}
	sf.wait()
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("%s: %w", e.rel, err)
	}
	if fw.off != e.size {
		return fmt.Errorf("%s: wrote %d bytes, the DAG says %d", e.rel, fw.off, e.size)
	}
	if err := ex.check(filepath.Dir(path), entry{rel: filepath.Base(path), kind: ft.TFile}); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	if ex.o.Renamed != nil {
		if abs, err := filepath.Abs(path); err == nil {
			ex.o.Renamed(absTmp, abs)
		}
	}
	ex.res.Files++
	ex.res.Size += fw.off
	return nil
}

// maxFileDepth bounds how deep a file's DAG may nest (a balanced DAG of
// 1024 links a node is 4 levels deep at 1 TiB).
const maxFileDepth = 32

// fileWriter writes a file's content: each node's own data, then its
// children's, in order (UnixFS), telling ExportOptions.Written where each
// raw leaf went.
type fileWriter struct {
	ex   *exporter
	w    io.Writer
	path string // absolute
	off  int64  // bytes written so far
}

func (fw *fileWriter) copy(n ipld.Node, depth int) error {
	if depth > maxFileDepth {
		return fmt.Errorf("file DAG deeper than %d levels", maxFileDepth)
	}
	if err := fw.ex.ctx.Err(); err != nil {
		return err
	}
	switch n := n.(type) {
	case *dag.RawNode:
		data := n.RawData()
		if _, err := fw.w.Write(data); err != nil {
			return err
		}
		if fw.ex.o.Written != nil {
			fw.ex.o.Written(fw.path, n.Cid(), fw.off, len(data))
		}
		fw.off += int64(len(data))
		return nil
	case *dag.ProtoNode:
		fsn, err := ft.FSNodeFromBytes(n.Data())
		if err != nil {
			return fmt.Errorf("%s: not UnixFS: %w", n.Cid(), err)
		}
		if t := fsn.Type(); t != ft.TFile && t != ft.TRaw {
			return fmt.Errorf("%s: a %s inside a file", n.Cid(), t)
		}
		if d := fsn.Data(); len(d) > 0 {
			if _, err := fw.w.Write(d); err != nil {
				return err
			}
			fw.off += int64(len(d))
		}
		for _, l := range n.Links() {
			child, err := fw.ex.ng.Get(fw.ex.ctx, l.Cid)
			if err != nil {
				return err
			}
			if err := fw.copy(child, depth+1); err != nil {
				return err
			}
		}
		return nil
	default:
		return fmt.Errorf("%s is not UnixFS", n.Cid())
	}
}

// countingWriter reports export progress as file bytes are written.
type countingWriter struct {
	w  io.Writer
	ex *exporter
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.ex.done += int64(n)
	if c.ex.o.Progress != nil && n > 0 {
		c.ex.o.Progress.Progress(c.ex.done, c.ex.total)
	}
	return n, err
}

// Cat writes the content of the file at root to w.
func Cat(ctx context.Context, ng NodeGetter, root cid.Cid, w io.Writer) (int64, error) {
	n, err := ng.Get(ctx, root)
	if err != nil {
		return 0, fmt.Errorf("cat %s: %w", root, err)
	}
	if pn, ok := n.(*dag.ProtoNode); ok {
		fsn, err := ft.FSNodeFromBytes(pn.Data())
		if err != nil {
			return 0, fmt.Errorf("cat %s: not UnixFS: %w", root, err)
		}
		if t := fsn.Type(); t != ft.TFile && t != ft.TRaw {
			return 0, fmt.Errorf("cat %s: is a %s, not a file", root, typeName(t))
		}
	}
	r, err := uio.NewDagReader(ctx, n, ng)
	if err != nil {
		return 0, fmt.Errorf("cat %s: %w", root, err)
	}
	defer r.Close()
	written, err := io.Copy(w, r)
	if err != nil {
		return written, fmt.Errorf("cat %s: %w", root, err)
	}
	return written, nil
}

func typeName(t pb.Data_DataType) string {
	switch t {
	case ft.TDirectory, ft.THAMTShard:
		return "folder"
	case ft.TSymlink:
		return "symlink"
	default:
		return t.String()
	}
}
