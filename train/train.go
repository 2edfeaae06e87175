// Package train trains a network (nn.Classifier on the images' shape, or
// the caller's: WithNetwork) with one of xent's classification losses:
// shuffled mini-batches, Adam or SGD. On a labelled image set (New) it
// measures each epoch's test loss, accuracy and confusion matrix, and
// writes checkpoints that a run can stop at (between two batches) and
// resume from with the same result to the bit as a run that never
// stopped. On a multi-label set (NewMultiLabel) it trains against the
// multi-hot targets and leaves the measuring to the epoch callback.
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
	// (xent.ClassBalancedWeights) from the training labels' counts (on a
	// multi-label set, the images holding each class): the class weights
	// of softmax, sigmoid and asymmetric, softmax-focal's α.
	ClassBalanced *float64 `json:"class_balanced,omitempty"`
	// Alpha and Gamma (sigmoid-focal; Gamma softmax-focal too), GammaPos,
	// GammaNeg and Clip (asymmetric): the loss's numbers, nil for xent's
	// defaults; the loss checks their ranges.
	Alpha    *float64 `json:"alpha,omitempty"`
	Gamma    *float64 `json:"gamma,omitempty"`
	GammaPos *float64 `json:"gamma_pos,omitempty"`
	GammaNeg *float64 `json:"gamma_neg,omitempty"`
	Clip     *float64 `json:"clip,omitempty"`
}

// same reports whether c and d are the same run's configuration: their
// optional numbers compared by value, not by pointer (a Config decoded
// twice from one checkpoint holds two sets of pointers).
func (c Config) same(d Config) bool {
	eq := func(a, b *float64) bool { return a == nil && b == nil || a != nil && b != nil && *a == *b }
	pointers := [][2]*float64{{c.ClassBalanced, d.ClassBalanced}, {c.Alpha, d.Alpha}, {c.Gamma, d.Gamma},
		{c.GammaPos, d.GammaPos}, {c.GammaNeg, d.GammaNeg}, {c.Clip, d.Clip}}
	for _, p := range pointers {
		if !eq(p[0], p[1]) {
			return false
		}
	}
	c.ClassBalanced, c.Alpha, c.Gamma, c.GammaPos, c.GammaNeg, c.Clip = nil, nil, nil, nil, nil, nil
	d.ClassBalanced, d.Alpha, d.Gamma, d.GammaPos, d.GammaNeg, d.Clip = nil, nil, nil, nil, nil, nil
	return c == d
}

// numbers are Config's loss numbers by their xent option names.
func (c Config) numbers() []struct {
	name string
	v    *float64
} {
	return []struct {
		name string
		v    *float64
	}{{"alpha", c.Alpha}, {"gamma", c.Gamma}, {"gamma_pos", c.GammaPos}, {"gamma_neg", c.GammaNeg}, {"clip", c.Clip}}
}

// lossConfig is the xent configuration of c's loss, without class weights.
func (c Config) lossConfig() (xent.Config[float32], error) {
	cfg := xent.Config[float32]{Loss: c.Loss, PolyEpsilon: c.PolyEpsilon, Workers: c.Workers}
	for _, n := range c.numbers() {
		if n.v == nil {
			continue
		}
		if err := cfg.SetNumber(n.name, *n.v); err != nil {
			return cfg, fmt.Errorf("%w: %v", ErrConfig, err)
		}
	}
	return cfg, nil
}

// MaxWorkers bounds Config.Workers.
const MaxWorkers = 4096

// Defaults is the configuration of `xent train` without flags.
func Defaults() Config {
	return Config{Loss: xent.Softmax, Epochs: 5, Batch: 64, LR: 1e-3, Optimizer: "adam", Momentum: 0.9, Seed: 1, Workers: 2}
}

// Check reports the first field out of range for a labelled set, wrapping
// ErrConfig.
func (c Config) Check() error {
	switch c.Loss {
	case xent.Softmax, xent.Sigmoid, xent.SoftmaxFocal, xent.SigmoidFocal, xent.Asymmetric:
	default:
		return fmt.Errorf("%w: loss %q: training takes softmax, sigmoid, softmax-focal, sigmoid-focal or asymmetric", ErrConfig, c.Loss)
	}
	return c.check()
}

// CheckMultiLabel is Check for a multi-label set.
func (c Config) CheckMultiLabel() error {
	switch c.Loss {
	case xent.MultiLabelSoftmax, xent.Sigmoid, xent.SigmoidFocal, xent.Asymmetric:
	default:
		return fmt.Errorf("%w: loss %q: multi-label training takes multilabel-softmax, sigmoid, sigmoid-focal or asymmetric", ErrConfig, c.Loss)
	}
	return c.check()
}

// check is Check's part for either set.
func (c Config) check() error {
	if _, err := c.lossConfig(); err != nil {
		return err
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
	cfg     Config
	dataset string
	train   *data.Set      // a labelled set, or nil
	multi   *data.MultiSet // a multi-label set, or nil
	test    *data.Set      // with train
	net     *nn.Network[float32]
	opt     nn.Optimizer[float32]
	metrics Metrics
	lossCfg xent.Config[float32] // the loss, its class weights included

	// Position: the next batch is batch of epoch (0-based), with the
	// epoch's running sums so far.
	epoch, batch    int
	lossSum         float64
	correct, images int

	x, grad, targets []float32
	labels           []int64
}

// NetworkFunc builds a run's network for inputs of shape in and classes
// outputs, its weights drawn from seed, its layers on workers goroutines.
type NetworkFunc func(in nn.Shape, classes int, seed uint64, workers int) (*nn.Network[float32], error)

// An Option sets a part of a run that is code rather than data, and so
// not in Config or a checkpoint: Resume takes the same options again.
type Option func(*options)

type options struct{ network NetworkFunc }

// WithNetwork trains the network f builds instead of nn.Classifier.
func WithNetwork(f NetworkFunc) Option { return func(o *options) { o.network = f } }

// buildNetwork returns the network the options build: nn.Classifier
// unless WithNetwork says otherwise.
func buildNetwork(opts []Option) NetworkFunc {
	var o options
	for _, f := range opts {
		f(&o)
	}
	if o.network == nil {
		return nn.Classifier[float32]
	}
	return o.network
}

// New starts a run of cfg on the labelled sets, named dataset in the
// metrics.
func New(cfg Config, dataset string, trainSet, testSet *data.Set, opts ...Option) (*Trainer, error) {
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	if err := checkSets(trainSet, testSet); err != nil {
		return nil, err
	}
	counts := make([]int64, trainSet.Classes)
	for _, l := range trainSet.Labels {
		counts[l]++
	}
	t := &Trainer{cfg: cfg, dataset: dataset, train: trainSet, test: testSet}
	return t, t.start(inputShape(trainSet), trainSet.Classes, counts, opts)
}

// NewMultiLabel starts a run of cfg on a multi-label set, its targets the
// multi-hot rows, named dataset in the metrics. Its epochs record the
// training loss only (there is no test set; TrainAccuracy is 0): the epoch
// callback measures what the caller needs, through Network. Such a run
// cannot be saved.
func NewMultiLabel(cfg Config, dataset string, trainSet *data.MultiSet, opts ...Option) (*Trainer, error) {
	if err := cfg.CheckMultiLabel(); err != nil {
		return nil, err
	}
	s := trainSet
	if s == nil || s.N < 1 || s.Height < MinImageSize || s.Width < MinImageSize || s.Classes < 2 ||
		len(s.Images) != s.N*s.Height*s.Width || len(s.Targets) != s.N*s.Classes {
		return nil, fmt.Errorf("%w: the network takes sets of images of at least %d×%d pixels with at least 2 classes", ErrConfig, MinImageSize, MinImageSize)
	}
	counts := make([]int64, s.Classes)
	for i, v := range s.Targets {
		if !(v >= 0 && v <= 1) {
			return nil, fmt.Errorf("%w: target %d of image %d is %v, not in [0, 1]", ErrConfig, i%s.Classes, i/s.Classes, v)
		}
		if v > 0 {
			counts[i%s.Classes]++
		}
	}
	t := &Trainer{cfg: cfg, dataset: dataset, multi: s}
	return t, t.start(nn.Shape{C: 1, H: s.Height, W: s.Width}, s.Classes, counts, opts)
}

// start builds t's network, optimiser and loss for inputs of shape in and
// classes classes, counts images holding each.
func (t *Trainer) start(in nn.Shape, classes int, counts []int64, opts []Option) error {
	var err error
	if t.lossCfg, err = t.cfg.lossConfig(); err != nil {
		return err
	}
	// The loss checks its numbers' ranges itself, before anything is built.
	if err := t.lossCfg.Check(classes); err != nil {
		return fmt.Errorf("%w: %v", ErrConfig, err)
	}
	if t.cfg.ClassBalanced != nil {
		w, err := xent.ClassBalancedWeights(counts, *t.cfg.ClassBalanced)
		if err != nil {
			return fmt.Errorf("%w: class-balanced weights of the training labels: %v", ErrConfig, err)
		}
		weights := make([]float32, len(w))
		for i, v := range w {
			weights[i] = float32(v)
		}
		if t.cfg.Loss == xent.SoftmaxFocal {
			t.lossCfg.ClassAlpha = weights
		} else {
			t.lossCfg.Weight = weights
		}
	}
	if t.net, err = buildNetwork(opts)(in, classes, t.cfg.Seed, t.cfg.Workers); err != nil {
		return err
	}
	if t.net.In != in || t.net.Out.Size() != classes {
		return fmt.Errorf("%w: a network from %v to %v for %v images of %d classes", ErrConfig, t.net.In, t.net.Out, in, classes)
	}
	t.metrics = Metrics{Dataset: t.dataset, Config: t.cfg, Epochs: []Epoch{}}
	if t.cfg.Optimizer == "adam" {
		t.opt = &nn.Adam[float32]{LR: t.cfg.LR}
	} else {
		t.opt = &nn.SGD[float32]{LR: t.cfg.LR, Momentum: t.cfg.Momentum}
	}
	return nil
}

// size returns the training images, the values of one and the classes.
func (t *Trainer) size() (n, image, classes int) {
	if t.multi != nil {
		return t.multi.N, t.multi.Height * t.multi.Width, t.multi.Classes
	}
	return t.train.N, t.train.ImageSize(), t.train.Classes
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
	n, _, _ := t.size()
	b := t.cfg.Batch
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
		var e Epoch
		if t.test != nil {
			var err error
			if e, err = t.evaluate(); err != nil {
				return err
			}
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

// loadMulti copies the images idx of the multi-label set and their target
// rows into the batch buffers.
func (t *Trainer) loadMulti(idx []int, size, classes int) (x, targets []float32) {
	if cap(t.x) < len(idx)*size {
		t.x = make([]float32, len(idx)*size)
	}
	if cap(t.targets) < len(idx)*classes {
		t.targets = make([]float32, len(idx)*classes)
	}
	x, targets = t.x[:len(idx)*size], t.targets[:len(idx)*classes]
	for i, k := range idx {
		copy(x[i*size:], t.multi.Image(k))
		copy(targets[i*classes:], t.multi.Targets[k*classes:(k+1)*classes])
	}
	return x, targets
}

// loss evaluates the configured loss (mean reduction) of the logits, with
// its gradient in grad when grad is not nil: against labels, which the
// losses of probability targets take one-hot, or against the rows of
// targets when labels is nil.
func (t *Trainer) loss(logits []float32, labels []int64, targets []float32, grad []float32) (float64, error) {
	_, _, classes := t.size()
	shape := []int{len(logits) / classes, classes}
	out := xent.Output[float32]{Grad: grad}
	if labels != nil && t.cfg.Loss.IndexTargets() {
		v, err := xent.Evaluate(t.lossCfg, shape, logits, labels, nil, out)
		return float64(v), err
	}
	if labels != nil {
		if cap(t.targets) < len(logits) {
			t.targets = make([]float32, len(logits))
		}
		targets = t.targets[:len(logits)]
		clear(targets)
		for i, l := range labels {
			targets[i*classes+int(l)] = 1
		}
	}
	v, err := xent.Evaluate(t.lossCfg, shape, logits, nil, targets, out)
	return float64(v), err
}

// step trains on one batch and returns its loss and, on a labelled set,
// the number of images the network classified right before the update.
func (t *Trainer) step(idx []int) (float64, int, error) {
	_, size, classes := t.size()
	n := len(idx) * classes // logits, and gradients
	if cap(t.grad) < n {
		t.grad = make([]float32, n)
	}
	var x, targets []float32
	var labels []int64
	if t.multi != nil {
		x, targets = t.loadMulti(idx, size, classes)
	} else {
		x, labels = t.load(t.train, idx)
	}
	correct := 0
	loss, err := Step(t.net, t.opt, x, len(idx), t.grad[:n], func(logits, grad []float32) (float64, error) {
		if labels != nil {
			correct = countCorrect(logits, labels, classes, nil)
		}
		return t.loss(logits, labels, targets, grad)
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
		loss, err := t.loss(logits, labels, nil, nil)
		if err != nil {
			return Epoch{}, err
		}
		lossSum += loss * float64(len(idx))
		correct += countCorrect(logits, labels, classes, confusion)
	}
	return Epoch{TestLoss: lossSum / float64(s.N), TestAccuracy: float64(correct) / float64(s.N), Confusion: confusion}, nil
}
