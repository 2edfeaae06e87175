package train

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/xent-go/xent"
	"github.com/xent-go/xent/data"
	"github.com/xent-go/xent/nn"
)

// stripes is a 4-class set of 28×28 images a CNN must learn: class k has
// a bright band in quarter k of the rows, under noise.
func stripes(n int, seed uint64) *data.Set { return stripesOf(n, seed, 28, 4) }

// stripesOf is stripes with side×side images and classes bands (side a
// multiple of classes).
func stripesOf(n int, seed uint64, side, classes int) *data.Set {
	rng := rand.New(rand.NewPCG(seed, 0))
	s := &data.Set{N: n, Height: side, Width: side, Classes: classes, Images: make([]float32, n*side*side), Labels: make([]uint8, n)}
	for i := range n {
		k := i % classes
		s.Labels[i] = uint8(k)
		img := s.Image(i)
		for p := range img {
			v := 0.3 * rng.Float32()
			if (p/side)/(side/classes) == k {
				v += 0.5
			}
			img[p] = v
		}
	}
	return s
}

func small(loss xent.Loss) Config {
	c := Defaults()
	c.Loss, c.Epochs, c.Batch = loss, 2, 32
	return c
}

func runAll(t *testing.T, tr *Trainer) {
	t.Helper()
	if err := tr.Run(context.Background(), nil, nil); err != nil {
		t.Fatal(err)
	}
}

func weights(tr *Trainer) [][]float32 {
	var w [][]float32
	for _, p := range tr.Network().Params() {
		w = append(w, append([]float32(nil), p.Value...))
	}
	return w
}

func sameWeights(t *testing.T, a, b [][]float32) {
	t.Helper()
	for k := range a {
		for i := range a[k] {
			if a[k][i] != b[k][i] {
				t.Fatalf("parameter %d [%d]: %v and %v", k, i, a[k][i], b[k][i])
			}
		}
	}
}

func metricsJSON(t *testing.T, tr *Trainer) []byte {
	b, err := json.Marshal(tr.Metrics())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestLearns trains each loss on the stripes and requires a test accuracy
// of at least 95% after two short epochs.
func TestLearns(t *testing.T) {
	trainSet, testSet := stripes(512, 1), stripes(200, 2)
	beta := 0.99
	for _, c := range []struct {
		loss xent.Loss
		poly float64
		cb   *float64
	}{{xent.Softmax, 0, nil}, {xent.Sigmoid, 0, nil}, {xent.SoftmaxFocal, 0, nil}, {xent.SigmoidFocal, 0, nil},
		{xent.Asymmetric, 0, nil}, {xent.Softmax, 1, nil}, {xent.Softmax, 0, &beta}, {xent.SoftmaxFocal, 0, &beta}} {
		loss := c.loss
		cfg := small(loss)
		cfg.PolyEpsilon, cfg.ClassBalanced = c.poly, c.cb
		tr, err := New(cfg, "stripes", trainSet, testSet)
		if err != nil {
			t.Fatal(err)
		}
		runAll(t, tr)
		m := tr.Metrics()
		if len(m.Epochs) != 2 {
			t.Fatalf("%s: %d epochs of metrics", loss, len(m.Epochs))
		}
		last := m.Epochs[1]
		if last.TestAccuracy < 0.95 {
			t.Errorf("%s: test accuracy %v", loss, last.TestAccuracy)
		}
		total := 0
		for _, row := range last.Confusion {
			for _, c := range row {
				total += c
			}
		}
		if total != testSet.N {
			t.Errorf("%s: the confusion matrix counts %d images of %d", loss, total, testSet.N)
		}
	}
}

// TestDeterministic pins that the same config gives the same metrics
// bytes and weights, and that another seed does not.
func TestDeterministic(t *testing.T) {
	trainSet, testSet := stripes(256, 3), stripes(64, 4)
	var ms [][]byte
	var ws [][][]float32
	for _, seed := range []uint64{1, 1, 2} {
		c := small(xent.Softmax)
		c.Seed = seed
		tr, err := New(c, "stripes", trainSet, testSet)
		if err != nil {
			t.Fatal(err)
		}
		runAll(t, tr)
		ms, ws = append(ms, metricsJSON(t, tr)), append(ws, weights(tr))
	}
	if !bytes.Equal(ms[0], ms[1]) {
		t.Fatalf("two runs of one config gave different metrics:\n%s\n%s", ms[0], ms[1])
	}
	sameWeights(t, ws[0], ws[1])
	if bytes.Equal(ms[0], ms[2]) {
		t.Fatal("seeds 1 and 2 gave the same metrics")
	}
}

// TestResume stops runs mid-epoch through the context, saves, resumes
// from the file and requires the weights and metrics of a run that never
// stopped, for Adam and for SGD with momentum.
func TestResume(t *testing.T) {
	trainSet, testSet := stripes(256, 5), stripes(64, 6)
	for _, opt := range []string{"adam", "sgd"} {
		c := small(xent.Softmax)
		c.Optimizer = opt
		whole, tr := finishedAndFresh(t, c, trainSet, testSet)
		var err error
		for _, stopAt := range []Progress{{Epoch: 1, Batch: 3}, {Epoch: 2, Batch: 1}, {Epoch: 2, Batch: 7}} {
			path := stopAndSave(t, tr, stopAt)
			if tr, err = Resume(path, trainSet, testSet); err != nil {
				t.Fatalf("%s: %v", opt, err)
			}
		}
		runAll(t, tr)
		if !tr.Done() {
			t.Fatal("resumed run not done")
		}
		sameWeights(t, weights(whole), weights(tr))
		if a, b := metricsJSON(t, whole), metricsJSON(t, tr); !bytes.Equal(a, b) {
			t.Fatalf("%s: metrics differ:\n%s\n%s", opt, a, b)
		}
	}
}

// TestResumeFromEpochCheckpoint saves in the epoch callback, as xent train
// does, and resumes from the file written after epoch 1: the result must
// be the uninterrupted run's.
func TestResumeFromEpochCheckpoint(t *testing.T) {
	trainSet, testSet := stripes(128, 5), stripes(32, 6)
	c := small(xent.Softmax)
	whole, err := New(c, "stripes", trainSet, testSet)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "epoch1.safetensors")
	if err := whole.Run(context.Background(), nil, func(e Epoch) {
		if e.Epoch == 1 {
			if err := whole.Save(path); err != nil {
				t.Fatal(err)
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	resumed, err := Resume(path, trainSet, testSet)
	if err != nil {
		t.Fatalf("the checkpoint saved after epoch 1: %v", err)
	}
	if len(resumed.Metrics().Epochs) != 1 || resumed.Done() {
		t.Fatalf("resumed with %d epochs of metrics, done %v", len(resumed.Metrics().Epochs), resumed.Done())
	}
	runAll(t, resumed)
	sameWeights(t, weights(whole), weights(resumed))
	if a, b := metricsJSON(t, whole), metricsJSON(t, resumed); !bytes.Equal(a, b) {
		t.Fatalf("metrics differ:\n%s\n%s", a, b)
	}
}

// TestBadCheckpoints feeds Resume damaged files: each must fail with
// ErrCheckpoint, and the file must be left as it was.
func TestBadCheckpoints(t *testing.T) {
	trainSet, testSet := stripes(64, 7), stripes(16, 8)
	c := small(xent.Softmax)
	c.Epochs = 1
	tr, err := New(c, "stripes", trainSet, testSet)
	if err != nil {
		t.Fatal(err)
	}
	runAll(t, tr)
	dir := t.TempDir()
	good := filepath.Join(dir, "good.safetensors")
	if err := tr.Save(good); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Resume(good, trainSet, testSet); err != nil {
		t.Fatalf("the good checkpoint: %v", err)
	}
	n := binary.LittleEndian.Uint64(b)
	header := string(b[8 : 8+n])
	damaged := map[string][]byte{
		"missing":   nil,
		"empty":     {},
		"truncated": b[:len(b)/2],
		"header":    append(binary.LittleEndian.AppendUint64(nil, 1<<40), b[8:]...),
		"json":      append(append([]byte(nil), b[:8]...), bytes.Repeat([]byte("x"), len(b)-8)...),
		"shape":     replaceHeader(b, header, `"shape":[16,1,3,3]`, `"shape":[16,1,9,1]`),
		"format":    replaceHeader(b, header, checkpointFormat, "xent-train/0"),
		"epoch":     replaceHeader(b, header, `"epoch":"1"`, `"epoch":"7"`),
		"other set": b,
	}
	for name, content := range damaged {
		path := filepath.Join(dir, name+".safetensors")
		if content != nil {
			if err := os.WriteFile(path, content, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		sets := trainSet
		if name == "other set" {
			sets = stripes(65, 9) // one more image: another batch count, Adam's step count no longer fits
		}
		_, err := Resume(path, sets, testSet)
		if !errors.Is(err, ErrCheckpoint) {
			t.Errorf("%s: %v, want ErrCheckpoint", name, err)
		}
		if content != nil {
			after, _ := os.ReadFile(path)
			if !bytes.Equal(after, content) {
				t.Errorf("%s: Resume changed the file", name)
			}
		}
	}
}

// replaceHeader replaces old by new (of the same length) in the header.
func replaceHeader(b []byte, header, old, new string) []byte {
	if len(old) != len(new) || !bytes.Contains([]byte(header), []byte(old)) {
		panic("replaceHeader: " + old)
	}
	out := append([]byte(nil), b...)
	i := bytes.Index(out, []byte(old))
	copy(out[i:], new)
	return out
}

func TestConfigErrors(t *testing.T) {
	trainSet, testSet := stripes(8, 1), stripes(8, 2)
	for _, change := range []func(*Config){
		func(c *Config) { c.Loss = xent.SoftmaxProb },
		func(c *Config) { c.Epochs = 0 },
		func(c *Config) { c.Batch = 0 },
		func(c *Config) { c.LR = -1 },
		func(c *Config) { c.Optimizer = "rmsprop" },
		func(c *Config) { c.Momentum = 1 },
		func(c *Config) { c.Workers = 0 },
	} {
		c := Defaults()
		change(&c)
		if _, err := New(c, "stripes", trainSet, testSet); !errors.Is(err, ErrConfig) {
			t.Errorf("%+v: %v, want ErrConfig", c, err)
		}
	}
	wrong := stripes(8, 3)
	wrong.Height = 27
	if _, err := New(Defaults(), "stripes", wrong, testSet); !errors.Is(err, ErrConfig) {
		t.Errorf("27×28 images: %v, want ErrConfig", err)
	}
}

// TestConfigNewOptions: Poly-1 and class-balanced weights are checked
// against the loss and their ranges.
func TestConfigNewOptions(t *testing.T) {
	beta, one := 0.9, 1.0
	for _, c := range []struct {
		cfg  func(*Config)
		want string
	}{
		{func(c *Config) { c.Loss, c.PolyEpsilon = xent.Sigmoid, 1 }, "poly epsilon applies to the softmax loss"},
		{func(c *Config) { c.PolyEpsilon = -2 }, "poly epsilon -2"},
		{func(c *Config) { c.Loss, c.ClassBalanced = xent.SigmoidFocal, &beta }, "class-balanced weights apply to"},
		{func(c *Config) { c.ClassBalanced = &one }, "class-balanced β 1"},
		{func(c *Config) { c.Loss = xent.MultiLabelSoftmax }, "training takes"},
	} {
		cfg := Defaults()
		c.cfg(&cfg)
		if err := cfg.Check(); !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", cfg, err, c.want)
		}
	}
	// A class with no training image has no class-balanced weight.
	trainSet, testSet := stripes(64, 1), stripes(16, 2)
	for i := range trainSet.Labels {
		trainSet.Labels[i] = 0
	}
	cfg := small(xent.Softmax)
	cfg.ClassBalanced = &beta
	if _, err := New(cfg, "stripes", trainSet, testSet); !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "has count 0") {
		t.Errorf("a class without images: %v", err)
	}
}

// TestStepRefusesNaN: a loss that is NaN is an error wrapping ErrLoss,
// and the network is not updated.
func TestStepRefusesNaN(t *testing.T) {
	net, err := nn.Classifier[float32](nn.Shape{C: 1, H: 4, W: 4}, 2, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	before := slices.Clone(net.Params()[0].Value)
	grad := make([]float32, 2)
	_, err = Step(net, &nn.SGD[float32]{LR: 0.1}, make([]float32, 16), 1, grad, func(logits, grad []float32) (float64, error) {
		grad[0] = 1
		return math.NaN(), nil
	})
	if !errors.Is(err, ErrLoss) {
		t.Errorf("NaN loss: %v, want ErrLoss", err)
	}
	if !slices.Equal(before, net.Params()[0].Value) {
		t.Error("the network was updated after a NaN loss")
	}
	if _, err := Step(net, &nn.SGD[float32]{LR: 0.1}, make([]float32, 16), 1, grad[:1], nil); !errors.Is(err, ErrConfig) {
		t.Errorf("a gradient of 1 value for 2 logits: %v", err)
	}
}
