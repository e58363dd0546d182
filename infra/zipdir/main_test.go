package main

import (
	"archive/zip"
	"bytes"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"
)

func TestWriteKeepsModesAndContent(t *testing.T) {
	fsys := fstest.MapFS{
		"bootstrap":     {Data: []byte("\x7fELF binary"), Mode: 0o755},
		"conf/app.json": {Data: []byte(`{"a":1}`), Mode: 0o644},
	}
	var buf bytes.Buffer
	if err := write(&buf, fsys); err != nil {
		t.Fatalf("write: %v", err)
	}
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatalf("read back: %v", err)
	}
	want := []struct {
		name string
		mode fs.FileMode
		data string
	}{
		{"bootstrap", 0o755, "\x7fELF binary"},
		{"conf/app.json", 0o644, `{"a":1}`},
	}
	if got := len(zr.File); got != len(want) {
		t.Fatalf("entries: got %d, want %d", got, len(want))
	}
	for i, w := range want {
		f := zr.File[i]
		if f.Name != w.name {
			t.Errorf("entry %d name: got %q, want %q", i, f.Name, w.name)
		}
		if got := f.Mode(); got != w.mode {
			t.Errorf("%s mode: got %v, want %v", w.name, got, w.mode)
		}
		if got := f.ExternalAttrs >> 16 & 0o170000; got != 0o100000 {
			t.Errorf("%s unix file type: got %o, want regular (100000)", w.name, got)
		}
		if !f.Modified.Equal(epoch) {
			t.Errorf("%s modified: got %v, want %v", w.name, f.Modified, epoch)
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatalf("open %s: %v", w.name, err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatalf("read %s: %v", w.name, err)
		}
		if string(data) != w.data {
			t.Errorf("%s content: got %q, want %q", w.name, data, w.data)
		}
	}
}

func TestWriteIsReproducible(t *testing.T) {
	fsys := fstest.MapFS{"main": {Data: []byte("binary"), Mode: 0o755}}
	var a, b bytes.Buffer
	if err := write(&a, fsys); err != nil {
		t.Fatalf("first write: %v", err)
	}
	fsys["main"].ModTime = fsys["main"].ModTime.AddDate(1, 0, 0)
	if err := write(&b, fsys); err != nil {
		t.Fatalf("second write: %v", err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Errorf("zips of the same content differ after a file time change")
	}
}

func TestWriteRefuses(t *testing.T) {
	tests := []struct {
		name string
		fsys fstest.MapFS
	}{
		{"empty tree", fstest.MapFS{}},
		{"only a directory", fstest.MapFS{"d": {Mode: fs.ModeDir | 0o755}}},
		{"symlink", fstest.MapFS{"bootstrap": {Data: []byte("x"), Mode: fs.ModeSymlink | 0o777}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := write(&buf, tt.fsys); err == nil {
				t.Errorf("write: got nil error, want a refusal")
			}
		})
	}
}

func TestWriteFileReplacesAtomically(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	if err := os.Mkdir(src, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "main"), []byte("v2"), 0o755); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "fn.zip")
	if err := os.WriteFile(out, []byte("old zip"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := writeFile(out, src); err != nil {
		t.Fatalf("writeFile: %v", err)
	}
	zr, err := zip.OpenReader(out)
	if err != nil {
		t.Fatalf("open result: %v", err)
	}
	defer zr.Close()
	if got := len(zr.File); got != 1 {
		t.Fatalf("result entries: got %d, want 1", got)
	}
	if f := zr.File[0]; f.Name != "main" || f.Mode() != 0o755 {
		t.Errorf("result entry: got %q %v, want \"main\" -rwxr-xr-x", f.Name, f.Mode())
	}
	left, err := filepath.Glob(filepath.Join(dir, ".zipdir-*"))
	if err != nil || len(left) != 0 {
		t.Errorf("temporary files left: %v (err %v)", left, err)
	}

	// A failed zip leaves the previous file alone and no temporary behind.
	empty := filepath.Join(dir, "empty")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := writeFile(out, empty); err == nil {
		t.Fatalf("writeFile of an empty dir: got nil error")
	}
	if _, err := zip.OpenReader(out); err != nil {
		t.Errorf("previous zip damaged by a failed write: %v", err)
	}
	left, _ = filepath.Glob(filepath.Join(dir, ".zipdir-*"))
	if len(left) != 0 {
		t.Errorf("temporary files left after failure: %v", left)
	}
}
