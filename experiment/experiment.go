// Package experiment answers the tutorial's multi-label question by
// experiment, with statistics: on multi-digit MNIST
// (data.MultiDigitSplitsOf), the same network (nn.Classifier on 56×56) is
// trained with each of Methods from Config.Seeds seeds — for one seed,
// the same images, initial weights and batch order for every method — and
// measured on the test split: mean average precision over classes,
// micro-F1 at the threshold that maximises it on the validation split,
// precision@M and exact-set accuracy at that threshold, each class's
// average precision, and all of them by the number of labels M.
//
// Each metric is reported as its mean ± standard deviation over seeds, and
// each method's paired difference from Baseline with a 95% interval by
// Student's t over seeds (PairedDifference).
//
// With Config.LongTail the training images' digits are drawn with
// frequencies that fall off geometrically from digit 0 to digit 9, digit 0
// LongTailRatio times as frequent as digit 9 (data.LongTail); the
// validation and test images stay balanced, so the average precision of
// the head and the tail classes is measured on equal footing.
//
// The scores ranked and thresholded are the model's probabilities:
// softmax(x) for multilabel-softmax (a class present among M gets about
// 1/M), σ(x) for the sigmoid losses.
package experiment

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/xent-go/xent"
	"github.com/xent-go/xent/data"
	"github.com/xent-go/xent/multilabel"
	"github.com/xent-go/xent/nn"
	"github.com/xent-go/xent/train"
)

// Method is one way of training the network: a loss and its options.
type Method struct {
	Name string    `json:"name"`
	Loss xent.Loss `json:"loss"`
	// Alpha and Gamma: sigmoid-focal.
	Alpha *float64 `json:"alpha,omitempty"`
	Gamma *float64 `json:"gamma,omitempty"`
	// GammaPos, GammaNeg and Clip: asymmetric.
	GammaPos *float64 `json:"gamma_pos,omitempty"`
	GammaNeg *float64 `json:"gamma_neg,omitempty"`
	Clip     *float64 `json:"clip,omitempty"`
	// ClassBalanced is β of xent.ClassBalancedWeights, computed from the
	// training split's number of images holding each class; 0 for none.
	ClassBalanced float64 `json:"class_balanced_beta,omitempty"`
}

// Methods are the methods compared, in the order of the tables.
var Methods = []Method{
	{Name: "multilabel-softmax", Loss: xent.MultiLabelSoftmax},
	{Name: "sigmoid", Loss: xent.Sigmoid},
	{Name: "sigmoid-focal", Loss: xent.SigmoidFocal, Alpha: new(0.25), Gamma: new(2.0)},
	{Name: "asymmetric", Loss: xent.Asymmetric, GammaPos: new(0.0), GammaNeg: new(4.0), Clip: new(0.05)},
	{Name: "sigmoid-class-balanced", Loss: xent.Sigmoid, ClassBalanced: 0.999},
}

// Baseline is the method every other is compared with.
const Baseline = "sigmoid"

// LongTailRatio is how many times as frequent digit 0 is as digit 9 in
// the long-tail training images.
const LongTailRatio = 100

// MaxLabels is the most labels an image has (four cells).
const MaxLabels = 4

// HeadTail is how many of the most and of the least frequent classes make
// the head and the tail whose average precision a long-tail run reports:
// digits 0–2 and 7–9.
const HeadTail = 3

// Settings describes m's options in words, for the report.
func (m Method) Settings() string {
	switch {
	case m.Loss == xent.MultiLabelSoftmax:
		return "softmax cross-entropy against the targets scaled by 1/M"
	case m.Alpha != nil || m.Gamma != nil:
		return fmt.Sprintf("focal loss, α = %g, γ = %g", deref(m.Alpha, xent.DefaultFocalAlpha), deref(m.Gamma, xent.DefaultFocalGamma))
	case m.Loss == xent.Asymmetric:
		return fmt.Sprintf("asymmetric loss, γ+ = %g, γ− = %g, m = %g", deref(m.GammaPos, xent.DefaultAsymmetricGammaPos),
			deref(m.GammaNeg, xent.DefaultAsymmetricGammaNeg), deref(m.Clip, xent.DefaultAsymmetricClip))
	case m.ClassBalanced > 0:
		return fmt.Sprintf("binary cross-entropy with class-balanced weights, β = %g", m.ClassBalanced)
	}
	return "binary cross-entropy per class"
}

func deref(p *float64, def float64) float64 {
	if p == nil {
		return def
	}
	return *p
}

// trainConfig is m's training run under cfg from seed.
func (m Method) trainConfig(cfg Config, seed uint64) train.Config {
	c := train.Defaults()
	c.Loss, c.Epochs, c.Batch, c.LR, c.Optimizer, c.Seed, c.Workers = m.Loss, cfg.Epochs, cfg.Batch, cfg.LR, "adam", seed, cfg.Workers
	c.Alpha, c.Gamma, c.GammaPos, c.GammaNeg, c.Clip = m.Alpha, m.Gamma, m.GammaPos, m.GammaNeg, m.Clip
	if m.ClassBalanced > 0 {
		c.ClassBalanced = &m.ClassBalanced
	}
	return c
}

// Config sizes a run.
type Config struct {
	Train      int     `json:"train"` // images of each split
	Validation int     `json:"validation"`
	Test       int     `json:"test"`
	Epochs     int     `json:"epochs"`
	Batch      int     `json:"batch"`
	LR         float64 `json:"learning_rate"` // Adam
	Seed       uint64  `json:"first_seed"`    // the seeds are Seed, Seed+1, …, Seed+Seeds−1
	Seeds      int     `json:"seeds"`
	LongTail   bool    `json:"long_tail"`
	Workers    int     `json:"workers"`
}

// MaxSeeds bounds Config.Seeds.
const MaxSeeds = 100

// Full is the configuration of the README's tables.
func Full() Config {
	return Config{Train: 30000, Validation: 5000, Test: 10000, Epochs: 3, Batch: 64, LR: 1e-3, Seed: 1, Seeds: 3, Workers: 2}
}

// Quick is a run of a few minutes with the same design.
func Quick() Config {
	return Config{Train: 6000, Validation: 1000, Test: 2000, Epochs: 2, Batch: 64, LR: 1e-3, Seed: 1, Seeds: 3, Workers: 2}
}

// Check reports the first field out of range.
func (c Config) Check() error {
	switch {
	case c.Train < 1 || c.Validation < 1 || c.Test < 1:
		return fmt.Errorf("experiment: split sizes %d, %d, %d: want at least 1 each", c.Train, c.Validation, c.Test)
	case c.Epochs < 1 || c.Batch < 1:
		return fmt.Errorf("experiment: %d epochs of batch %d: want at least 1 each", c.Epochs, c.Batch)
	case !(c.LR > 0) || math.IsInf(c.LR, 0):
		return fmt.Errorf("experiment: learning rate %v", c.LR)
	case c.Seeds < 1 || c.Seeds > MaxSeeds:
		return fmt.Errorf("experiment: %d seeds: want 1 to %d", c.Seeds, MaxSeeds)
	case c.Seed > math.MaxUint64-MaxSeeds:
		return fmt.Errorf("experiment: first seed %d: want at most %d", c.Seed, uint64(math.MaxUint64-MaxSeeds))
	case c.Workers < 1 || c.Workers > train.MaxWorkers:
		return fmt.Errorf("experiment: %d workers: want 1 to %d", c.Workers, train.MaxWorkers)
	}
	return nil
}

// Epoch is one epoch of one run.
type Epoch struct {
	Epoch         int     `json:"epoch"`
	TrainLoss     float64 `json:"train_loss"`
	ValidationMAP float64 `json:"validation_map"`
}

// Trial is one method trained from one seed, measured on the test split.
type Trial struct {
	Method       string  `json:"method"`
	Seed         uint64  `json:"seed"`
	MAP          float64 `json:"map"`
	MicroF1      float64 `json:"micro_f1"`
	Threshold    float64 `json:"threshold"` // chosen on the validation split
	PrecisionAtM float64 `json:"precision_at_m"`
	ExactSet     float64 `json:"exact_set_accuracy"`
	// ClassAP is each class's average precision.
	ClassAP []float64 `json:"class_ap"`
	// ByM are the measures of the test images of each label count 1…MaxLabels.
	ByM     []multilabel.CountMetrics `json:"by_label_count"`
	Seconds float64                   `json:"training_seconds"`
	Epochs  []Epoch                   `json:"epochs"`
	// PR is the micro-averaged precision–recall curve on the test split.
	PR []multilabel.PRPoint `json:"-"`
}

// Results are a whole experiment.
type Results struct {
	Config  Config   `json:"config"`
	Methods []Method `json:"methods"`
	// DigitFrequency is the share of filled training cells meant to hold
	// each digit (data.LongTail's, or uniform); ClassShare the share of
	// training images that hold each class, the mean over seeds.
	DigitFrequency []float64 `json:"digit_frequency"`
	ClassShare     []float64 `json:"training_class_share"`
	// Trials[i][k] is Methods[i] from seed Config.Seed + k.
	Trials [][]Trial `json:"trials"`
}

// Progress is what Run reports after each epoch.
type Progress struct {
	Seed             uint64
	SeedIndex, Seeds int // the seed's place, 1…Seeds
	Method           string
	MethodIndex, Of  int // the method's place, 1…Of
	Epoch, Epochs    int
	TrainLoss, MAP   float64       // the epoch's mean training loss and validation mAP
	Elapsed, Left    time.Duration // Left: for the whole experiment, from the mean epoch so far
}

// String is Progress as one line of a log.
func (p Progress) String() string {
	return fmt.Sprintf("seed %d (%d/%d), %s (%d/%d), epoch %d/%d: train loss %.4f, validation mAP %.4f; %s elapsed, about %s left",
		p.Seed, p.SeedIndex, p.Seeds, p.Method, p.MethodIndex, p.Of, p.Epoch, p.Epochs,
		p.TrainLoss, p.MAP, p.Elapsed.Round(time.Second), p.Left.Round(time.Second))
}

// Run builds each seed's splits from MNIST's train and test sets and
// trains and measures each of Methods on them; progress (if not nil)
// receives a report after each epoch, with the time left for the whole
// experiment estimated from the epochs so far.
func Run(cfg Config, trainSet, testSet *data.Set, progress func(Progress)) (*Results, error) {
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	if trainSet == nil || testSet == nil {
		return nil, fmt.Errorf("experiment: no source images")
	}
	classes := trainSet.Classes
	freq := make([]float64, classes)
	for k := range freq {
		freq[k] = 1 / float64(classes)
	}
	var tail []float64
	if cfg.LongTail {
		var err error
		if tail, err = data.LongTail(classes, LongTailRatio); err != nil {
			return nil, err
		}
		freq = tail
	}
	res := &Results{Config: cfg, Methods: Methods, DigitFrequency: freq, ClassShare: make([]float64, classes),
		Trials: make([][]Trial, len(Methods))}
	start, done, total := time.Now(), 0, cfg.Seeds*len(Methods)*cfg.Epochs
	for k := range cfg.Seeds {
		seed := cfg.Seed + uint64(k)
		tr, val, te, err := data.MultiDigitSplitsOf(trainSet, testSet, cfg.Train, cfg.Validation, cfg.Test, seed, tail)
		if err != nil {
			return nil, err
		}
		counts := make([]int64, classes)
		for i, t := range tr.Targets {
			counts[i%classes] += int64(t)
		}
		for c, n := range counts {
			res.ClassShare[c] += float64(n) / float64(tr.N) / float64(cfg.Seeds)
		}
		for i, m := range Methods {
			report := func(epoch int, loss, valMAP float64) {
				done++
				if progress == nil {
					return
				}
				elapsed := time.Since(start)
				left := time.Duration(float64(elapsed) / float64(done) * float64(total-done))
				progress(Progress{Seed: seed, SeedIndex: k + 1, Seeds: cfg.Seeds, Method: Methods[i].Name, MethodIndex: i + 1,
					Of: len(Methods), Epoch: epoch, Epochs: cfg.Epochs, TrainLoss: loss, MAP: valMAP, Elapsed: elapsed, Left: left})
			}
			r, err := runMethod(cfg, m, seed, tr, val, te, report)
			if err != nil {
				return nil, fmt.Errorf("%s, seed %d: %w", m.Name, seed, err)
			}
			res.Trials[i] = append(res.Trials[i], r)
		}
	}
	return res, nil
}

func runMethod(cfg Config, m Method, seed uint64, tr, val, te *data.MultiSet, report func(epoch int, loss, valMAP float64)) (Trial, error) {
	t, err := train.NewMultiLabel(m.trainConfig(cfg, seed), "multi-digit MNIST", tr)
	if err != nil {
		return Trial{}, err
	}
	net, c := t.Network(), tr.Classes
	res := Trial{Method: m.Name, Seed: seed}
	start := time.Now()
	var vs, vl []float64 // the validation scores after the latest epoch
	// Each epoch is measured on the validation split; a failure there
	// stops the run.
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	var measureErr error
	err = t.Run(ctx, nil, func(e train.Epoch) {
		var vm float64
		if vs, vl, measureErr = Scores(net, m.Loss, val, cfg.Batch); measureErr == nil {
			vm, measureErr = multilabel.MeanAveragePrecision(vs, vl, val.N, c)
		}
		if measureErr != nil {
			stop()
			return
		}
		res.Epochs = append(res.Epochs, Epoch{Epoch: e.Epoch, TrainLoss: e.TrainLoss, ValidationMAP: vm})
		report(e.Epoch, e.TrainLoss, vm)
	})
	if measureErr != nil {
		return Trial{}, measureErr
	}
	if err != nil {
		return Trial{}, err
	}
	res.Seconds = time.Since(start).Seconds()

	if res.Threshold, _, err = multilabel.BestThreshold(vs, vl, val.N, c); err != nil {
		return Trial{}, err
	}
	ts, tl, err := Scores(net, m.Loss, te, cfg.Batch)
	if err != nil {
		return Trial{}, err
	}
	if res.ClassAP, err = multilabel.ClassAveragePrecision(ts, tl, te.N, c); err != nil {
		return Trial{}, err
	}
	if res.MAP, err = multilabel.MeanAveragePrecision(ts, tl, te.N, c); err != nil {
		return Trial{}, err
	}
	if res.MicroF1, err = multilabel.MicroF1(ts, tl, te.N, c, res.Threshold); err != nil {
		return Trial{}, err
	}
	if res.PrecisionAtM, err = multilabel.PrecisionAtM(ts, tl, te.N, c); err != nil {
		return Trial{}, err
	}
	if res.ExactSet, err = multilabel.ExactSetAccuracy(ts, tl, te.N, c, res.Threshold); err != nil {
		return Trial{}, err
	}
	if res.ByM, err = multilabel.ByLabelCount(ts, tl, te.N, c, res.Threshold, MaxLabels); err != nil {
		return Trial{}, err
	}
	if res.PR, err = multilabel.MicroPRCurve(ts, tl, te.N, c); err != nil {
		return Trial{}, err
	}
	return res, nil
}

// Scores returns the network's probabilities on every image of s, as the
// loss defines them (softmax for multilabel-softmax, σ otherwise), and the
// targets, both as float64 rows.
func Scores(net *nn.Network[float32], loss xent.Loss, s *data.MultiSet, batch int) (scores, labels []float64, err error) {
	size, c := s.Height*s.Width, s.Classes
	scores, labels = make([]float64, s.N*c), make([]float64, s.N*c)
	for lo := 0; lo < s.N; lo += batch {
		n := min(batch, s.N-lo)
		logits, err := net.Forward(s.Images[lo*size:(lo+n)*size], n)
		if err != nil {
			return nil, nil, err
		}
		for i := range n {
			row, out := logits[i*c:(i+1)*c], scores[(lo+i)*c:(lo+i+1)*c]
			Probabilities(loss, row, out)
		}
	}
	for i, t := range s.Targets {
		labels[i] = float64(t)
	}
	return scores, labels, nil
}

// Probabilities writes the probabilities of one row of logits into out:
// softmax for MultiLabelSoftmax (max-shifted), σ for every other loss.
func Probabilities(loss xent.Loss, logits []float32, out []float64) {
	if loss != xent.MultiLabelSoftmax {
		for j, v := range logits {
			out[j] = 1 / (1 + math.Exp(-float64(v)))
		}
		return
	}
	m := math.Inf(-1)
	for _, v := range logits {
		m = math.Max(m, float64(v))
	}
	sum := 0.0
	for j, v := range logits {
		out[j] = math.Exp(float64(v) - m)
		sum += out[j]
	}
	for j := range out {
		out[j] /= sum
	}
}
