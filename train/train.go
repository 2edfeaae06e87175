// Package train trains nn.Classifier (nn.DefaultNetwork on 28×28 images) on
// a labelled image set with one of xent's classification losses: shuffled
// mini-batches, Adam or SGD, per-epoch test accuracy and a confusion matrix,
// and checkpoints that a run can stop at (between two batches) and resume
// from with the same result to the bit as a run that never stopped.
//
// A run is deterministic: the same Config (seed and workers included)
// gives the same weights and the same Metrics, because the batch order is
// drawn from the seed and epoch alone and every kernel underneath gives
// the same bits for a given worker count.
package train

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/xent-go/xent"
	"github.com/xent-go/xent/data"
	"github.com/xent-go/xent/nn"
)

// ErrConfig is wrapped by every error about a Config.
var ErrConfig = errors.New("train: bad configuration")

// ErrStopped is returned by Run when its context was cancelled: the
// trainer stopped between two batches and can be saved and resumed.
var ErrStopped = errors.New("train: stopped")

// Config is what a run is made of; Defaults gives `xent train`'s.
type Config struct {
	Loss      xent.Loss `json:"loss"` // Softmax, Sigmoid, SoftmaxFocal, SigmoidFocal or Asymmetric, mean reduction
	Epochs    int       `json:"epochs"`
	Batch     int       `json:"batch"`
	LR        float64   `json:"lr"`
	Optimizer string    `json:"optimizer"` // "adam" or "sgd"
	Momentum  float64   `json:"momentum"`  // SGD only
	Seed      uint64    `json:"seed"`
	// Workers is the number of goroutines. The results depend on it (the
	// order of some sums does), so it is part of the run.
	Workers int `json:"workers"`
	// PolyEpsilon is Poly-1's ε_poly for the softmax loss (0: none).
	PolyEpsilon float64 `json:"poly_epsilon,omitempty"`
	// ClassBalanced, when not nil, is the β of class-balanced weights
	// (xent.ClassBalancedWeights) from the training labels' counts: the
	// class weights of softmax, sigmoid and asymmetric, softmax-focal's α.
	ClassBalanced *float64 `json:"class_balanced,omitempty"`
}

// MaxWorkers bounds Config.Workers.
const MaxWorkers = 4096

// Defaults is the configuration of `xent train` without flags.
func Defaults() Config {
	return Config{Loss: xent.Softmax, Epochs: 5, Batch: 64, LR: 1e-3, Optimizer: "adam", Momentum: 0.9, Seed: 1, Workers: 2}
}

// Check reports the first field out of range, wrapping ErrConfig.
func (c Config) Check() error {
	switch c.Loss {
	case xent.Softmax, xent.Sigmoid, xent.SoftmaxFocal, xent.SigmoidFocal, xent.Asymmetric:
	default:
		return fmt.Errorf("%w: loss %q: training takes softmax, sigmoid, softmax-focal, sigmoid-focal or asymmetric", ErrConfig, c.Loss)
	}
	if c.PolyEpsilon != 0 && !c.Loss.Takes("poly_epsilon") {
		return fmt.Errorf("%w: poly epsilon applies to the softmax loss, not %s", ErrConfig, c.Loss)
	}
	if e := c.PolyEpsilon; !(e >= -1) || math.IsInf(e, 1) {
		return fmt.Errorf("%w: poly epsilon %v: want a finite number ≥ -1", ErrConfig, e)
	}
	if b := c.ClassBalanced; b != nil {
		if !c.Loss.Takes("weight") && !c.Loss.Takes("alpha") || c.Loss == xent.SigmoidFocal {
			return fmt.Errorf("%w: class-balanced weights apply to softmax, sigmoid, asymmetric and softmax-focal, not %s", ErrConfig, c.Loss)
		}
		if !(*b >= 0 && *b < 1) {
			return fmt.Errorf("%w: class-balanced β %v: want 0 ≤ β < 1", ErrConfig, *b)
		}
	}
	switch {
	case c.Epochs < 1:
		return fmt.Errorf("%w: epochs %d: want at least 1", ErrConfig, c.Epochs)
	case c.Batch < 1:
		return fmt.Errorf("%w: batch %d: want at least 1", ErrConfig, c.Batch)
	case !(c.LR > 0) || math.IsInf(c.LR, 0):
		return fmt.Errorf("%w: learning rate %v: want a finite number > 0", ErrConfig, c.LR)
	case c.Optimizer != "adam" && c.Optimizer != "sgd":
		return fmt.Errorf("%w: optimizer %q: want adam or sgd", ErrConfig, c.Optimizer)
	case !(c.Momentum >= 0 && c.Momentum < 1):
		return fmt.Errorf("%w: momentum %v: want 0 ≤ μ < 1", ErrConfig, c.Momentum)
	case c.Workers < 1 || c.Workers > MaxWorkers:
		return fmt.Errorf("%w: workers %d: want 1 to %d", ErrConfig, c.Workers, MaxWorkers)
	}
	return nil
}

// Epoch is what one epoch measured.
type Epoch struct {
	Epoch         int     `json:"epoch"`
	TrainLoss     float64 `json:"train_loss"` // mean over the epoch's batches
	TrainAccuracy float64 `json:"train_accuracy"`
	TestLoss      float64 `json:"test_loss"`
	TestAccuracy  float64 `json:"test_accuracy"`
	// Confusion[i][j] counts test images of class i predicted as j.
	Confusion [][]int `json:"confusion"`
}

// Metrics is the record of a run: its configuration and its epochs so
// far. It holds no timings, so that the same run gives the same bytes.
type Metrics struct {
	Dataset string  `json:"dataset"`
	Config  Config  `json:"config"`
	Epochs  []Epoch `json:"epochs"`
}

// Progress is reported after every batch.
type Progress struct {
	Epoch, Batch, Batches int     // Batch of Batches done in epoch Epoch (1-based)
	Loss, Accuracy        float64 // running means over the epoch so far
}

// Trainer holds a run in progress.
type Trainer struct {
	cfg         Config
	dataset     string
	train, test *data.Set
	net         *nn.Network[float32]
	opt         nn.Optimizer[float32]
	metrics     Metrics

	// Position: the next batch is batch of epoch (0-based), with the
	// epoch's running sums so far.
	epoch, batch    int
	lossSum         float64
	correct, images int

	x, grad, targets []float32
	labels           []int64
	classWeights     []float32 // class-balanced weights, or nil
}

// New starts a run of cfg on the sets, named dataset in the metrics.
func New(cfg Config, dataset string, trainSet, testSet *data.Set) (*Trainer, error) {
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	if err := checkSets(trainSet, testSet); err != nil {
		return nil, err
	}
	// nn.DefaultNetwork on 28×28 images; the same layers on other sizes.
	net, err := nn.Classifier[float32](inputShape(trainSet), trainSet.Classes, cfg.Seed, cfg.Workers)
	if err != nil {
		return nil, err
	}
	t := &Trainer{cfg: cfg, dataset: dataset, train: trainSet, test: testSet, net: net,
		metrics: Metrics{Dataset: dataset, Config: cfg, Epochs: []Epoch{}}}
	if cfg.ClassBalanced != nil {
		counts := make([]int64, trainSet.Classes)
		for _, l := range trainSet.Labels {
			counts[l]++
		}
		w, err := xent.ClassBalancedWeights(counts, *cfg.ClassBalanced)
		if err != nil {
			return nil, fmt.Errorf("%w: class-balanced weights of the training labels: %v", ErrConfig, err)
		}
		t.classWeights = make([]float32, len(w))
		for i, v := range w {
			t.classWeights[i] = float32(v)
		}
	}
	if cfg.Optimizer == "adam" {
		t.opt = &nn.Adam[float32]{LR: cfg.LR}
	} else {
		t.opt = &nn.SGD[float32]{LR: cfg.LR, Momentum: cfg.Momentum}
	}
	return t, nil
}

// batchCount is the number of batches of b in n images, the last one
// partial: ⌈n/b⌉, without the overflow of (n+b−1)/b for a b near MaxInt.
func batchCount(n, b int) int {
	if n == 0 {
		return 0
	}
	return (n-1)/b + 1
}

// inputShape is the network's input shape for the images of s.
func inputShape(s *data.Set) nn.Shape {
	return nn.Shape{C: s.ChannelCount(), H: s.Height, W: s.Width}
}

// MinImageSize is the smallest height and width the network takes: its
// two 2×2 max pools leave at least one pixel.
const MinImageSize = 4

func checkSets(trainSet, testSet *data.Set) error {
	for _, s := range []*data.Set{trainSet, testSet} {
		if s == nil || s.N < 1 || s.Height < MinImageSize || s.Width < MinImageSize || s.Classes < 2 ||
			len(s.Images) != s.N*s.ImageSize() || len(s.Labels) != s.N {
			return fmt.Errorf("%w: the network takes sets of images of at least %d×%d pixels with at least 2 classes", ErrConfig, MinImageSize, MinImageSize)
		}
		for i, l := range s.Labels {
			if int(l) >= s.Classes {
				return fmt.Errorf("%w: label %d of image %d is not below the %d classes", ErrConfig, l, i, s.Classes)
			}
		}
	}
	if trainSet.Classes != testSet.Classes || inputShape(trainSet) != inputShape(testSet) {
		return fmt.Errorf("%w: %d training classes of %v images, %d test classes of %v", ErrConfig,
			trainSet.Classes, inputShape(trainSet), testSet.Classes, inputShape(testSet))
	}
	return nil
}

// Metrics returns the record so far.
func (t *Trainer) Metrics() Metrics { return t.metrics }

// Network returns the network being trained.
func (t *Trainer) Network() *nn.Network[float32] { return t.net }

// Done reports whether every epoch has run.
func (t *Trainer) Done() bool { return t.epoch >= t.cfg.Epochs }

// Run trains until the last epoch ends or ctx is cancelled, calling
// progress (if not nil) after each batch and epoch after each epoch's test;
// a Save from epoch resumes at the next epoch. On cancellation it returns
// ErrStopped at a batch boundary.
func (t *Trainer) Run(ctx context.Context, progress func(Progress), epoch func(Epoch)) error {
	n, b := t.train.N, t.cfg.Batch
	batches := batchCount(n, b)
	for t.epoch < t.cfg.Epochs {
		order := data.Shuffle(n, t.cfg.Seed, t.epoch)
		for ; t.batch < batches; t.batch++ {
			if ctx.Err() != nil {
				return ErrStopped
			}
			idx := order[t.batch*b : t.batch*b+min(n-t.batch*b, b)]
			loss, correct, err := t.step(idx)
			if err != nil {
				return err
			}
			t.lossSum += loss
			t.correct += correct
			t.images += len(idx)
			if progress != nil {
				progress(Progress{Epoch: t.epoch + 1, Batch: t.batch + 1, Batches: batches,
					Loss: t.lossSum / float64(t.batch+1), Accuracy: float64(t.correct) / float64(t.images)})
			}
		}
		e, err := t.evaluate()
		if err != nil {
			return err
		}
		e.Epoch = t.epoch + 1
		e.TrainLoss = t.lossSum / float64(batches)
		e.TrainAccuracy = float64(t.correct) / float64(t.images)
		t.metrics.Epochs = append(t.metrics.Epochs, e)
		// The position moves to the next epoch before the callback, so that
		// a checkpoint saved there resumes after this epoch.
		t.epoch++
		t.batch, t.lossSum, t.correct, t.images = 0, 0, 0, 0
		if epoch != nil {
			epoch(e)
		}
	}
	return nil
}

// load copies the images idx of s into the batch buffers.
func (t *Trainer) load(s *data.Set, idx []int) (x []float32, labels []int64) {
	size := s.ImageSize()
	if cap(t.x) < len(idx)*size {
		t.x = make([]float32, len(idx)*size)
		t.labels = make([]int64, len(idx))
	}
	x, labels = t.x[:len(idx)*size], t.labels[:len(idx)]
	for i, k := range idx {
		copy(x[i*size:], s.Image(k))
		labels[i] = int64(s.Labels[k])
	}
	return x, labels
}

// loss evaluates the configured loss (mean reduction) of the logits, with
// its gradient in grad when grad is not nil. The sigmoid losses take the
// labels one-hot.
func (t *Trainer) loss(logits []float32, labels []int64, grad []float32) (float64, error) {
	classes := t.train.Classes
	shape := []int{len(labels), classes}
	cfg := xent.Config[float32]{Loss: t.cfg.Loss, PolyEpsilon: t.cfg.PolyEpsilon, Workers: t.cfg.Workers}
	if t.classWeights != nil {
		if t.cfg.Loss == xent.SoftmaxFocal {
			cfg.ClassAlpha = t.classWeights
		} else {
			cfg.Weight = t.classWeights
		}
	}
	out := xent.Output[float32]{Grad: grad}
	var v float32
	var err error
	if t.cfg.Loss.IndexTargets() {
		v, err = xent.Evaluate(cfg, shape, logits, labels, nil, out)
	} else {
		if cap(t.targets) < len(logits) {
			t.targets = make([]float32, len(logits))
		}
		targets := t.targets[:len(logits)]
		clear(targets)
		for i, l := range labels {
			targets[i*classes+int(l)] = 1
		}
		v, err = xent.Evaluate(cfg, shape, logits, nil, targets, out)
	}
	return float64(v), err
}

// step trains on one batch and returns its loss and the number of images
// the network classified right before the update.
func (t *Trainer) step(idx []int) (float64, int, error) {
	x, labels := t.load(t.train, idx)
	n := len(idx) * t.train.Classes // logits, and gradients
	if cap(t.grad) < n {
		t.grad = make([]float32, n)
	}
	correct := 0
	loss, err := Step(t.net, t.opt, x, len(idx), t.grad[:n], func(logits, grad []float32) (float64, error) {
		correct = countCorrect(logits, labels, t.train.Classes, nil)
		return t.loss(logits, labels, grad)
	})
	if err != nil {
		return 0, 0, fmt.Errorf("epoch %d batch %d: %w", t.epoch+1, t.batch+1, err)
	}
	return loss, correct, nil
}

// ErrLoss is wrapped by Step's error for a loss that is NaN or infinite.
var ErrLoss = errors.New("train: the loss is not finite")

// Step is one step of training, the one that Trainer and the multi-label
// experiment share: the forward pass of the n inputs x, the loss of the
// logits with its gradient written into grad (len(grad) = the logits'),
// the backward pass and the optimiser's update. It returns the loss; an
// error wrapping ErrLoss when it is NaN or infinite (before any update).
func Step(net *nn.Network[float32], opt nn.Optimizer[float32], x []float32, n int, grad []float32,
	loss func(logits, grad []float32) (float64, error)) (float64, error) {
	logits, err := net.Forward(x, n)
	if err != nil {
		return 0, err
	}
	if len(grad) != len(logits) {
		return 0, fmt.Errorf("%w: a gradient of %d values for %d logits", ErrConfig, len(grad), len(logits))
	}
	v, err := loss(logits, grad)
	if err != nil {
		return 0, err
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("%w: %v; lower the learning rate", ErrLoss, v)
	}
	net.ZeroGrad()
	if _, err := net.Backward(grad); err != nil {
		return 0, err
	}
	return v, opt.Step(net.Params())
}

// countCorrect counts the rows whose largest logit (the first, on a tie)
// is the label, and adds each row to confusion when it is not nil.
func countCorrect(logits []float32, labels []int64, classes int, confusion [][]int) int {
	correct := 0
	for i, l := range labels {
		best := argmax(logits[i*classes : (i+1)*classes])
		if int64(best) == l {
			correct++
		}
		if confusion != nil {
			confusion[l][best]++
		}
	}
	return correct
}

// evalBatch is the batch size of the test pass; it does not change the
// results, which are per image.
const evalBatch = 500

// evaluate measures the test set: the mean loss over images, the
// accuracy and the confusion matrix.
func (t *Trainer) evaluate() (Epoch, error) {
	s, classes := t.test, t.test.Classes
	confusion := make([][]int, classes)
	for i := range confusion {
		confusion[i] = make([]int, classes)
	}
	var lossSum float64
	correct := 0
	idx := make([]int, 0, evalBatch)
	for lo := 0; lo < s.N; lo += evalBatch {
		idx = idx[:0]
		for k := lo; k < min(s.N, lo+evalBatch); k++ {
			idx = append(idx, k)
		}
		x, labels := t.load(s, idx)
		logits, err := t.net.Forward(x, len(idx))
		if err != nil {
			return Epoch{}, err
		}
		loss, err := t.loss(logits, labels, nil)
		if err != nil {
			return Epoch{}, err
		}
		lossSum += loss * float64(len(idx))
		correct += countCorrect(logits, labels, classes, confusion)
	}
	return Epoch{TestLoss: lossSum / float64(s.N), TestAccuracy: float64(correct) / float64(s.N), Confusion: confusion}, nil
}
