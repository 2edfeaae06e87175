//go:build unix

package outfile

import (
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/xent-go/xent/internal/testdev"
)

// TestDevicesAreWrittenThrough: a null device stays a device (and may be
// given twice), a FIFO receives the content.
func TestDevicesAreWrittenThrough(t *testing.T) {
	t.Run("null device", func(t *testing.T) {
		null := testdev.Null(t, t.TempDir())
		var s Set
		for _, role := range []string{"one", "two"} {
			if err := s.Add(role, null, Bytes([]byte("x"))); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Commit(nil); err != nil {
			t.Fatal(err)
		}
		if fi, err := os.Stat(null); err != nil || fi.Mode()&os.ModeDevice == 0 {
			t.Fatalf("%s is now %v (%v)", null, fi.Mode(), err)
		}
	})

	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skip("no FIFOs here:", err)
	}
	got := make(chan string)
	go func() {
		f, err := os.Open(fifo)
		if err != nil {
			got <- err.Error()
			return
		}
		b, _ := io.ReadAll(f)
		f.Close()
		got <- string(b)
	}()
	if err := WriteFile(fifo, Bytes([]byte("through the fifo"))); err != nil {
		t.Fatal(err)
	}
	if s := <-got; s != "through the fifo" {
		t.Fatalf("the reader got %q", s)
	}
	if fi, err := os.Lstat(fifo); err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
		t.Fatalf("the FIFO was replaced: %v %v", fi.Mode(), err)
	}
}
