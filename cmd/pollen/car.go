package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/pollen-p2p/pollen"
	"github.com/pollen-p2p/pollen/ui"
)

func init() {
	register(&command{
		name:    "export",
		args:    "CID --car FILE",
		summary: "write a DAG held here to a CAR file ('-' for stdout)",
		help: `export writes every block of CID's DAG, once each, parents first, to a
CARv1 file: the format of Kubo's 'ipfs dag export', which 'ipfs dag import'
and 'pollen import' read.`,
		flags: func(fs *flag.FlagSet, o *opts) {
			fs.StringVar(&o.car, "car", "", "the CAR file to write; - for stdout")
		},
		run: runExport,
	})
	register(&command{
		name:    "import",
		args:    "FILE.car...",
		summary: "store the blocks of CAR files, checked, and keep their roots",
		help: `import reads CARv1 and CARv2 files (Kubo's 'ipfs dag export' writes them),
checks every block against its CID, stores them, and pins each root the
file holds whole (printed, one CID a line), so this node serves it.`,
		run: runImport,
	})
}

func runExport(ctx context.Context, e *env, o *opts, args []string) error {
	if len(args) != 1 || o.car == "" {
		return usagef("export: want CID --car FILE")
	}
	root, err := parseCID(args[0])
	if err != nil {
		return err
	}
	var w io.Writer = e.data
	var f *os.File
	if o.car != "-" {
		if f, err = os.OpenFile(o.car, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644); err != nil {
			return fmt.Errorf("export: %w", err)
		}
		w = f
	}
	err = viaNodeStream(o, "/api/v1/car/"+root.String(), w, func(node *pollen.Node) error {
		return node.ExportCAR(ctx, root, w)
	})
	if f != nil {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(o.car) // a CAR cut short is no CAR
		}
	}
	return err
}

func runImport(ctx context.Context, e *env, o *opts, args []string) error {
	if len(args) == 0 {
		return usagef("import: no FILE given")
	}
	for _, path := range args {
		abs, err := filepath.Abs(path)
		if err != nil {
			return err
		}
		var res ui.Imported
		err = viaNode(o, "POST", "/api/v1/import", map[string]string{"path": abs}, &res, func(node *pollen.Node) error {
			f, err := os.Open(abs)
			if err != nil {
				return fmt.Errorf("import: %w", err)
			}
			defer f.Close()
			r, err := node.ImportCAR(ctx, f)
			res = ui.ImportedOf(r)
			return err
		})
		if err != nil {
			return err
		}
		for _, c := range res.Roots {
			fmt.Fprintln(e.stdout, c)
		}
		for _, c := range res.Partial {
			fmt.Fprintf(e.stderr, "%s: %s is not whole in the file; its blocks are stored, it is not kept\n", ui.Escape(path), c)
		}
		fmt.Fprintf(e.stderr, "imported %d %s from %s\n", res.Blocks, plural(res.Blocks, "block", "blocks"), ui.Escape(path))
	}
	return nil
}
