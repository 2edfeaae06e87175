package main

import (
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/xent-go/xent/internal/npy"
	"github.com/xent-go/xent/train"
)

// writeColourSquares writes n 3×32×32 uint8 images of 3 classes (class k
// has a bright square in channel k) and their labels, sorted by class.
func writeColourSquares(t *testing.T, dir, prefix string, n int, seed uint64) (images, labels string) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 3))
	pix := make([]int32, 0, n*3*32*32)
	ys := make([]int64, n)
	for i := range n {
		k := i * 3 / n // sorted by class
		ys[i] = int64(k)
		x0, y0 := rng.IntN(16), rng.IntN(16)
		for c := range 3 {
			for y := range 32 {
				for x := range 32 {
					v := rng.Int32N(60)
					if c == k && x >= x0 && x < x0+16 && y >= y0 && y < y0+16 {
						v += 150
					}
					pix = append(pix, v)
				}
			}
		}
	}
	images, labels = filepath.Join(dir, prefix+"-images.npy"), filepath.Join(dir, prefix+"-labels.npy")
	writeU8Npy(t, images, []int{n, 3, 32, 32}, pix)
	writeNpy(t, labels, []int{n}, ys)
	return images, labels
}

func writeU8Npy(t *testing.T, path string, shape []int, v []int32) {
	t.Helper()
	dims := make([]string, len(shape))
	for i, d := range shape {
		dims[i] = strconv.Itoa(d)
	}
	dict := "{'descr': '|u1', 'fortran_order': False, 'shape': (" + strings.Join(dims, ", ") + "), }"
	dict += strings.Repeat(" ", (64-(10+len(dict)+1)%64)%64) + "\n"
	b := append([]byte("\x93NUMPY\x01\x00"), byte(len(dict)), byte(len(dict)>>8))
	b = append(b, dict...)
	for _, p := range v {
		b = append(b, byte(p))
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestTrainOwnImagesAndPredict: xent train learns 32×32 RGB images from
// .npy files (labels sorted by class, the test set held out), and xent
// predict on its own test images prints the accuracy the run recorded and
// writes probabilities of the right shape.
func TestTrainOwnImagesAndPredict(t *testing.T) {
	dir := t.TempDir()
	images, labels := writeColourSquares(t, dir, "train", 120, 1)
	testImages, testLabels := writeColourSquares(t, dir, "test", 30, 2)
	out := filepath.Join(dir, "o")
	stdout, stderr, code := runCLI("train", "--images", images, "--labels", labels, "--test-images", testImages, "--test-labels", testLabels,
		"--epochs", "2", "--batch", "16", "--out", out)
	if code != 0 {
		t.Fatalf("train: exit %d\n%s", code, stderr)
	}
	b, err := os.ReadFile(filepath.Join(out, "metrics.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Dataset string
		Epochs  []struct {
			TestAccuracy float64 `json:"test_accuracy"`
		}
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	last := m.Epochs[len(m.Epochs)-1].TestAccuracy
	if m.Dataset != "images train-images.npy" || last < 0.9 {
		t.Fatalf("trained on %q to %v test accuracy; want the images learnt (≥ 0.9)\n%s", m.Dataset, last, stdout)
	}
	ck := filepath.Join(out, "checkpoint.safetensors")
	probs := filepath.Join(dir, "p.npy")
	stdout, stderr, code = runCLI("predict", "--checkpoint", ck, "--images", testImages, "--labels", testLabels, "--out", probs)
	want := "accuracy " + strconv.FormatFloat(100*last, 'f', 2, 64) + "%"
	if code != 0 || !strings.Contains(stdout, want) || !strings.Contains(stdout, "3×32×32") {
		t.Fatalf("predict: exit %d, want %q\n%s%s", code, want, stdout, stderr)
	}
	p, err := npy.ReadFile(probs)
	if err != nil || p.Dtype() != "<f4" || len(p.Shape) != 2 || p.Shape[0] != 30 || p.Shape[1] != 3 {
		t.Fatalf("probabilities: %v %v", p, err)
	}
	stdout, _, code = runCLI("predict", "--checkpoint", ck, "--images", testImages, "--csv")
	if lines := strings.Split(strings.TrimSpace(stdout), "\n"); code != 0 || len(lines) != 31 || lines[0] != "image,predicted,p0,p1,p2" {
		t.Fatalf("--csv: exit %d, %d lines, first %q", code, len(lines), lines[0])
	}

	// Without test files a tenth is held out, across the sorted classes.
	out2 := filepath.Join(dir, "o2")
	if _, stderr, code := runCLI("train", "--images", images, "--labels", labels, "--epochs", "1", "--batch", "16", "--out", out2); code != 0 {
		t.Fatalf("train with a held-out tenth: %s", stderr)
	}
	b, _ = os.ReadFile(filepath.Join(out2, "metrics.json"))
	var m2 train.Metrics
	if err := json.Unmarshal(b, &m2); err != nil {
		t.Fatal(err)
	}
	total, rows := 0, 0
	for _, row := range m2.Epochs[0].Confusion {
		n := 0
		for _, v := range row {
			n += v
		}
		total += n
		if n > 0 {
			rows++
		}
	}
	if total != 12 || rows < 2 {
		t.Errorf("held-out set of %d images over %d classes; want 12 over several", total, rows)
	}
}

func TestPredictBadInput(t *testing.T) {
	dir := t.TempDir()
	images, labels := writeColourSquares(t, dir, "x", 9, 1)
	grey := writeNpy(t, filepath.Join(dir, "grey.npy"), []int{2, 4, 4}, make([]float32, 32))
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"predict"}, 2, "--checkpoint is required"},
		{[]string{"predict", "--checkpoint", "c"}, 2, "give --images or --dataset"},
		{[]string{"predict", "--checkpoint", "c", "--images", images, "--dataset", "mnist"}, 2, "give --images or --dataset"},
		{[]string{"predict", "--checkpoint", "c", "--dataset", "cifar"}, 2, `--dataset "cifar"`},
		{[]string{"predict", "--checkpoint", "c", "--images", images, "--split", "train"}, 2, "--split and --data go with --dataset"},
		{[]string{"predict", "--checkpoint", "c", "--dataset", "mnist", "--labels", labels}, 2, "--labels goes with --images"},
		{[]string{"predict", "--checkpoint", images, "--images", images, "--out", images}, 2, "output names the same file as the input"},
		{[]string{"predict", "--checkpoint", filepath.Join(dir, "missing"), "--images", images}, 1, "bad checkpoint"},
		{[]string{"predict", "--checkpoint", grey, "--images", grey}, 1, "bad checkpoint"},
		{[]string{"train", "--images", images}, 2, "--images and --labels go together"},
		{[]string{"train", "--images", images, "--labels", labels, "--dataset", "mnist"}, 2, "--dataset and --data choose a data set instead"},
		{[]string{"train", "--images", grey, "--labels", labels, "--out", filepath.Join(dir, "o")}, 1, "labels of shape (9,); the 2 images need (2,)"},
	} {
		_, stderr, code := runCLI(c.args...)
		if code != c.code || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, %q; want %d and %q", c.args, code, stderr, c.code, c.want)
		}
	}
}
