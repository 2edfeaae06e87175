package outfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xent-go/xent/internal/testdev"
)

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// entries lists dir, so that a test sees a temporary file left behind.
func entries(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

func TestCommitWritesAll(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	if err := os.WriteFile(b, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	var s Set
	if err := s.Add("first", a, Bytes([]byte("A"))); err != nil {
		t.Fatal(err)
	}
	if err := s.Add("second", b, Bytes([]byte("B"))); err != nil {
		t.Fatal(err)
	}
	printed := false
	if err := s.Commit(func() error {
		printed = true
		if _, err := os.Stat(a); err == nil {
			t.Error("a exists before the before hook returned")
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if !printed || read(t, a) != "A" || read(t, b) != "B" {
		t.Fatalf("printed %v, a %q, b %q", printed, read(t, a), read(t, b))
	}
	if fi, _ := os.Stat(a); fi.Mode().Perm() != 0o644 {
		t.Errorf("new file mode %v, want 0644", fi.Mode().Perm())
	}
	if fi, _ := os.Stat(b); fi.Mode().Perm() != 0o600 {
		t.Errorf("replaced file mode %v, want its old 0600", fi.Mode().Perm())
	}
	if got := entries(t, dir); len(got) != 2 {
		t.Errorf("directory holds %v", got)
	}
}

// TestFailureLeavesEverything: when any output fails (its content, the
// hook, a device), no regular output changes and no temporary file stays.
func TestFailureLeavesEverything(t *testing.T) {
	failing := func(w io.Writer) error {
		w.Write([]byte("half"))
		return errors.New("disk full")
	}
	for _, c := range []struct {
		name    string
		second  string // path of the second output; "" for one in dir
		content func(io.Writer) error
		hook    func() error
		want    string
	}{
		{"second output fails", "", failing, nil, "writing " + "%s" + ": disk full"},
		{"the hook fails", "", Bytes([]byte("B")), func() error { return errors.New("stdout closed") }, "stdout closed"},
		{"a device is full", "full", Bytes([]byte("B")), nil, "writing %s: no space left on device"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			a := filepath.Join(dir, "a")
			if err := os.WriteFile(a, []byte("old"), 0o644); err != nil {
				t.Fatal(err)
			}
			second := c.second
			switch second {
			case "":
				second = filepath.Join(dir, "b")
			case "full":
				second = testdev.Full(t, t.TempDir())
			}
			var s Set
			if err := s.Add("first", a, Bytes([]byte("new"))); err != nil {
				t.Fatal(err)
			}
			if err := s.Add("second", second, c.content); err != nil {
				t.Fatal(err)
			}
			err := s.Commit(c.hook)
			want := c.want
			if strings.Contains(want, "%s") {
				want = strings.Replace(want, "%s", second, 1)
			}
			if err == nil || err.Error() != want {
				t.Fatalf("Commit = %v, want %q", err, want)
			}
			if got := read(t, a); got != "old" {
				t.Errorf("a = %q after the failure, want it untouched", got)
			}
			if got := entries(t, dir); len(got) != 1 {
				t.Errorf("directory holds %v, want only a", got)
			}
		})
	}
}

func TestAddRefusesSameFile(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.npy")
	if err := os.WriteFile(in, []byte("input"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.npy")
	if err := os.Symlink(in, link); err != nil {
		t.Fatal(err)
	}
	hard := filepath.Join(dir, "hard.npy")
	if err := os.Link(in, hard); err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(dir, "sub")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, first, second, want string
	}{
		{"the input", in, "", "ErrSameFile"},
		{"the input through a link", link, "", "ErrSameFile"},
		{"the input through a hard link", hard, "", "ErrSameFile"},
		{"the input spelt otherwise", filepath.Join(sub, "..", "in.npy"), "", "ErrSameFile"},
		{"two new outputs, one file", filepath.Join(dir, "x.npy"), filepath.Join(sub, "..", "x.npy"), "ErrSameFile"},
		{"a directory", sub, "", "is a directory"},
		{"no such directory", filepath.Join(dir, "nope", "x.npy"), "", "no such file or directory"},
		{"empty", "", "", "empty file name"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var s Set
			s.Input(in)
			err := s.Add("--out-grad", c.first, Bytes(nil))
			if c.second != "" {
				if err != nil {
					t.Fatal(err)
				}
				err = s.Add("--out-loss", c.second, Bytes(nil))
			}
			switch {
			case err == nil:
				t.Fatal("Add accepted it")
			case c.want == "ErrSameFile" && !errors.Is(err, ErrSameFile):
				t.Fatalf("Add = %v, want ErrSameFile", err)
			case c.want != "ErrSameFile" && !strings.Contains(err.Error(), c.want):
				t.Fatalf("Add = %v, want %q", err, c.want)
			}
			if got := read(t, in); got != "input" {
				t.Errorf("the input changed: %q", got)
			}
		})
	}
}

// TestLinkIsFollowed: an output that is a symbolic link replaces the file
// it points to and keeps the link.
func TestLinkIsFollowed(t *testing.T) {
	dir := t.TempDir()
	target, link := filepath.Join(dir, "target"), filepath.Join(dir, "link")
	if err := os.WriteFile(target, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(link, Bytes([]byte("new"))); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("the link was replaced: %v", err)
	}
	if got := read(t, target); got != "new" {
		t.Fatalf("target = %q", got)
	}
}

func TestAddFiles(t *testing.T) {
	dir := t.TempDir()
	var s Set
	if err := s.AddFiles(dir, []string{"a", "b"}, map[string][]byte{"a": []byte("A"), "b": []byte("B")}); err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(nil); err != nil {
		t.Fatal(err)
	}
	if read(t, filepath.Join(dir, "a")) != "A" || read(t, filepath.Join(dir, "b")) != "B" {
		t.Fatal("AddFiles wrote other contents")
	}
	if err := s.AddFiles(dir, []string{"c", "c"}, nil); !errors.Is(err, ErrSameFile) {
		t.Errorf("a name given twice: %v, want ErrSameFile", err)
	}
}
