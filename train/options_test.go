package train

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xent-go/xent"
	"github.com/xent-go/xent/data"
	"github.com/xent-go/xent/nn"
)

// TestConfigLossNumbers: the loss's numbers go to the loss, which refuses
// those it does not take and those out of range, in New before training.
func TestConfigLossNumbers(t *testing.T) {
	trainSet, testSet := stripes(8, 1), stripes(8, 2)
	g, neg := 1.5, -1.0
	for _, c := range []struct {
		cfg  func(*Config)
		want string
	}{
		{func(c *Config) { c.Gamma = &g }, "gamma does not apply to loss softmax"},
		{func(c *Config) { c.Loss, c.Clip = xent.SigmoidFocal, &g }, "clip does not apply"},
		{func(c *Config) { c.Loss, c.Gamma = xent.SigmoidFocal, &neg }, "gamma"},
		{func(c *Config) { c.Loss, c.Clip = xent.Asymmetric, &g }, "clip"},
	} {
		cfg := small(xent.Softmax)
		c.cfg(&cfg)
		if _, err := New(cfg, "stripes", trainSet, testSet); !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", cfg, err, c.want)
		}
	}
	// The numbers reach the loss: γ = 0 is sigmoid-focal without focusing,
	// which with α off (α < 0) is sigmoid, to the bit.
	zero, off := 0.0, -1.0
	focal := small(xent.SigmoidFocal)
	focal.Gamma, focal.Alpha, focal.Epochs = &zero, &off, 1
	a, err := New(focal, "stripes", stripes(64, 1), testSet)
	if err != nil {
		t.Fatal(err)
	}
	b, err := New(Config{Loss: xent.Sigmoid, Epochs: 1, Batch: focal.Batch, LR: focal.LR, Optimizer: "adam", Seed: focal.Seed, Workers: focal.Workers},
		"stripes", stripes(64, 1), testSet)
	if err != nil {
		t.Fatal(err)
	}
	runAll(t, a)
	runAll(t, b)
	if a.Metrics().Epochs[0].TrainLoss != b.Metrics().Epochs[0].TrainLoss {
		t.Errorf("sigmoid-focal with γ = 0 and α off: loss %v, sigmoid %v", a.Metrics().Epochs[0].TrainLoss, b.Metrics().Epochs[0].TrainLoss)
	}
	sameWeights(t, weights(a), weights(b))
}

// multiStripes is a multi-label set of side×side images: image i holds
// band k (a bright quarter of the rows) for each bit k of i%15+1.
func multiStripes(n int, seed uint64) *data.MultiSet {
	one := stripesOf(n, seed, 28, 4)
	s := &data.MultiSet{N: n, Height: 28, Width: 28, Classes: 4, Images: one.Images, Targets: make([]float32, n*4)}
	for i := range n {
		set := i%15 + 1
		img := s.Image(i)
		for p := range img {
			img[p] = 0.3 * float32((p*7+i*13)%10) / 10
			if set>>((p/28)/7)&1 != 0 {
				img[p] += 0.5
			}
		}
		for k := range 4 {
			s.Targets[i*4+k] = float32(set >> k & 1)
		}
	}
	return s
}

// TestMultiLabel trains each multi-label loss on multi-hot targets: the
// loss falls, the run is deterministic, its epochs carry the training
// loss only, and it is not saved.
func TestMultiLabel(t *testing.T) {
	set := multiStripes(240, 3)
	for _, loss := range []xent.Loss{xent.MultiLabelSoftmax, xent.Sigmoid, xent.SigmoidFocal, xent.Asymmetric} {
		cfg := small(loss)
		cfg.Epochs = 3
		var losses [2][]float64
		var runs [2]*Trainer
		for r := range runs {
			tr, err := NewMultiLabel(cfg, "multi-stripes", set)
			if err != nil {
				t.Fatal(err)
			}
			if err := tr.Run(context.Background(), nil, func(e Epoch) { losses[r] = append(losses[r], e.TrainLoss) }); err != nil {
				t.Fatal(err)
			}
			runs[r] = tr
		}
		sameWeights(t, weights(runs[0]), weights(runs[1]))
		l := losses[0]
		if len(l) != 3 || !(l[2] < l[0]) || l[0] != losses[1][0] {
			t.Errorf("%s: epoch losses %v and %v", loss, l, losses[1])
		}
		if e := runs[0].Metrics().Epochs[2]; e.TestLoss != 0 || e.Confusion != nil || e.TrainAccuracy != 0 {
			t.Errorf("%s: epoch %+v has test measures", loss, e)
		}
		if err := runs[0].Save(filepath.Join(t.TempDir(), "x")); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: Save of a multi-label run: %v", loss, err)
		}
	}
	beta := 0.9
	cb := small(xent.Sigmoid)
	cb.ClassBalanced = &beta
	if _, err := NewMultiLabel(cb, "multi-stripes", set); err != nil {
		t.Errorf("class-balanced sigmoid: %v", err)
	}
	for _, c := range []struct {
		cfg  Config
		set  func(*data.MultiSet)
		want string
	}{
		{small(xent.Softmax), nil, "multi-label training takes"},
		{small(xent.Sigmoid), func(s *data.MultiSet) { s.Targets[5] = 2 }, "target 1 of image 1 is 2"},
		{small(xent.Sigmoid), func(s *data.MultiSet) { s.Targets = s.Targets[1:] }, "at least 4×4"},
	} {
		s := multiStripes(8, 1)
		if c.set != nil {
			c.set(s)
		}
		if _, err := NewMultiLabel(c.cfg, "multi-stripes", s); !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want %q", c.cfg.Loss, err, c.want)
		}
	}
}

// wide is a network of its own for WithNetwork: one dense layer.
func wide(in nn.Shape, classes int, seed uint64, workers int) (*nn.Network[float32], error) {
	return nn.NewNetwork(in, seed, workers, nn.Flatten[float32]{}, &nn.Dense[float32]{Out: classes})
}

// TestWithNetwork trains the caller's network, stops, saves and resumes
// with the same option to the uninterrupted run's weights; without the
// option the checkpoint does not fit nn.Classifier.
func TestWithNetwork(t *testing.T) {
	trainSet, testSet := stripes(128, 5), stripes(32, 6)
	c := small(xent.Softmax)
	whole, tr := finishedAndFresh(t, c, trainSet, testSet, WithNetwork(wide))
	if got := len(whole.Network().Layers); got != 2 {
		t.Fatalf("%d layers, want wide's 2", got)
	}
	if acc := whole.Metrics().Epochs[1].TestAccuracy; acc < 0.9 {
		t.Errorf("test accuracy %v on stripes", acc)
	}
	path := stopAndSave(t, tr, Progress{Epoch: 1, Batch: 2})
	if _, err := Resume(path, trainSet, testSet); !errors.Is(err, ErrCheckpoint) {
		t.Errorf("resumed into nn.Classifier: %v, want ErrCheckpoint", err)
	}
	if _, err := LoadModel(path); !errors.Is(err, ErrCheckpoint) {
		t.Errorf("loaded into nn.Classifier: %v, want ErrCheckpoint", err)
	}
	if m, err := LoadModel(path, WithNetwork(wide)); err != nil || len(m.Network.Layers) != 2 {
		t.Errorf("LoadModel with the network: %v", err)
	}
	tr, err := Resume(path, trainSet, testSet, WithNetwork(wide))
	if err != nil {
		t.Fatal(err)
	}
	runAll(t, tr)
	sameWeights(t, weights(whole), weights(tr))
	// A network whose outputs are not the classes is refused.
	three := func(in nn.Shape, _ int, seed uint64, workers int) (*nn.Network[float32], error) {
		return wide(in, 3, seed, workers)
	}
	if _, err := New(c, "stripes", trainSet, testSet, WithNetwork(three)); !errors.Is(err, ErrConfig) {
		t.Errorf("a network of 3 outputs for 4 classes: %v", err)
	}
}

// TestCheckpointWithOptionalNumbers: a run with class-balanced weights and
// a loss number stops, saves, resumes to the uninterrupted run's weights
// and loads as a model. (Its Config's pointers were compared as pointers:
// LoadModel refused every class-balanced checkpoint.)
func TestCheckpointWithOptionalNumbers(t *testing.T) {
	trainSet, testSet := stripes(128, 5), stripes(32, 6)
	beta, gamma := 0.9, 1.5
	c := small(xent.SoftmaxFocal)
	c.ClassBalanced, c.Gamma = &beta, &gamma
	whole, tr := finishedAndFresh(t, c, trainSet, testSet)
	path := stopAndSave(t, tr, Progress{Epoch: 2, Batch: 1})
	m, err := LoadModel(path)
	if err != nil {
		t.Fatalf("LoadModel: %v", err)
	}
	if m.Config.ClassBalanced == nil || *m.Config.ClassBalanced != beta || m.Config.Gamma == nil || *m.Config.Gamma != gamma {
		t.Errorf("the model's config %+v lost β or γ", m.Config)
	}
	if tr, err = Resume(path, trainSet, testSet); err != nil {
		t.Fatal(err)
	}
	runAll(t, tr)
	sameWeights(t, weights(whole), weights(tr))
}

// stopAndSave runs tr until the batch at, stops it there and saves it to
// a file of the test's, whose path it returns.
func stopAndSave(t *testing.T, tr *Trainer, at Progress) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	err := tr.Run(ctx, func(p Progress) {
		if p.Epoch == at.Epoch && p.Batch == at.Batch {
			cancel()
		}
	}, nil)
	cancel()
	if !errors.Is(err, ErrStopped) {
		t.Fatalf("stopping at %+v: %v", at, err)
	}
	path := filepath.Join(t.TempDir(), "run.safetensors")
	if err := tr.Save(path); err != nil {
		t.Fatal(err)
	}
	return path
}

// finishedAndFresh returns a run of c on the sets that has run to its end
// and a new one of the same, to be stopped and resumed.
func finishedAndFresh(t *testing.T, c Config, trainSet, testSet *data.Set, opts ...Option) (whole, fresh *Trainer) {
	t.Helper()
	whole, err := New(c, "stripes", trainSet, testSet, opts...)
	if err != nil {
		t.Fatal(err)
	}
	runAll(t, whole)
	if fresh, err = New(c, "stripes", trainSet, testSet, opts...); err != nil {
		t.Fatal(err)
	}
	return whole, fresh
}
