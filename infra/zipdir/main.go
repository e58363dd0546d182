// Command zipdir writes a deployment zip of one directory: every regular file
// under it, at paths relative to it, with its permission bits (so a Lambda
// "bootstrap" or an SCF "main" stays executable) and a fixed modification
// time (so the same binaries always give the same zip).
//
// Usage:
//
//	zipdir -o dist/aws/mp-login.zip dist/aws/mp-login
//
// It exists so that packaging needs nothing but the Go toolchain.
package main

import (
	"archive/zip"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"
)

// epoch is the modification time written for every entry: 1980-01-01, the
// earliest time the zip format can hold, as in reproducible-build tools.
var epoch = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

func main() {
	out := flag.String("o", "", "zip file to write")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: zipdir -o out.zip dir")
		flag.PrintDefaults()
	}
	flag.Parse()
	if *out == "" || flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	if err := writeFile(*out, flag.Arg(0)); err != nil {
		fmt.Fprintln(os.Stderr, "zipdir:", err)
		os.Exit(1)
	}
}

// writeFile zips dir into the file at path, replacing it only when the whole
// archive has been written.
func writeFile(path, dir string) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".zipdir-*")
	if err != nil {
		return fmt.Errorf("zip %s: %w", dir, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := write(tmp, os.DirFS(dir)); err != nil {
		return fmt.Errorf("zip %s: %w", dir, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("zip %s: %w", dir, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("zip %s: %w", dir, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("zip %s: %w", dir, err)
	}
	return nil
}

// write streams a zip of every regular file in fsys to w, in name order.
// Permission bits come from the files; anything that is neither a regular
// file nor a directory (a symlink, a socket) is refused rather than skipped,
// so a package never silently misses a file. An empty tree is refused too.
func write(w io.Writer, fsys fs.FS) error {
	var names []string
	err := fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case d.IsDir():
			return nil
		case !d.Type().IsRegular():
			return fmt.Errorf("%s: not a regular file", name)
		}
		names = append(names, name)
		return nil
	})
	if err != nil {
		return err
	}
	if len(names) == 0 {
		return errors.New("no files to zip")
	}
	sort.Strings(names)

	zw := zip.NewWriter(w)
	for _, name := range names {
		if err := add(zw, fsys, name); err != nil {
			return err
		}
	}
	return zw.Close()
}

// add copies one file into zw with its permission bits and the fixed time.
func add(zw *zip.Writer, fsys fs.FS, name string) error {
	f, err := fsys.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return err
	}
	hdr := &zip.FileHeader{Name: name, Method: zip.Deflate, Modified: epoch}
	hdr.SetMode(info.Mode().Perm())
	dst, err := zw.CreateHeader(hdr)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if _, err := io.Copy(dst, f); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}
