// Package experiment answers the tutorial's multi-label question by
// experiment: on multi-digit MNIST (data.MultiDigitSplits), the same
// network (nn.Classifier on 56×56), from the same initial weights and in
// the same batch order, is trained with each of
//
//   - multilabel-softmax: softmax cross-entropy with the 1/M factor,
//   - sigmoid: binary cross-entropy per class,
//   - sigmoid-focal: focal loss, α = 0.25, γ = 2,
//
// and measured on the test split: mean average precision over classes,
// micro-F1 at the threshold that maximises it on the validation split,
// precision@M and exact-set accuracy at that threshold. The scores ranked
// and thresholded are the model's probabilities: softmax(x) for
// multilabel-softmax (a class present among M gets about 1/M), σ(x) for
// the sigmoid losses.
package experiment

import (
	"fmt"
	"math"
	"time"

	"github.com/xent-go/xent"
	"github.com/xent-go/xent/data"
	"github.com/xent-go/xent/multilabel"
	"github.com/xent-go/xent/nn"
	"github.com/xent-go/xent/train"
)

// Losses are the losses compared, in the order of the table.
var Losses = []xent.Loss{xent.MultiLabelSoftmax, xent.Sigmoid, xent.SigmoidFocal}

// Config sizes a run.
type Config struct {
	Train, Validation, Test int // images of each split
	Epochs, Batch           int
	LR                      float64 // Adam
	Seed                    uint64
	Workers                 int
}

// Full is the configuration of the README's table.
func Full() Config {
	return Config{Train: 30000, Validation: 5000, Test: 10000, Epochs: 3, Batch: 64, LR: 1e-3, Seed: 1, Workers: 2}
}

// Quick is a run of a few minutes with the same design.
func Quick() Config {
	return Config{Train: 6000, Validation: 1000, Test: 2000, Epochs: 2, Batch: 64, LR: 1e-3, Seed: 1, Workers: 2}
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
	case c.Workers < 1 || c.Workers > train.MaxWorkers:
		return fmt.Errorf("experiment: %d workers: want 1 to %d", c.Workers, train.MaxWorkers)
	}
	return nil
}

// Epoch is one epoch of one loss.
type Epoch struct {
	Epoch         int     `json:"epoch"`
	TrainLoss     float64 `json:"train_loss"`
	ValidationMAP float64 `json:"validation_map"`
}

// Result is one loss's outcome.
type Result struct {
	Loss         xent.Loss `json:"loss"`
	MAP          float64   `json:"map"`
	MicroF1      float64   `json:"micro_f1"`
	Threshold    float64   `json:"threshold"` // chosen on the validation split
	PrecisionAtM float64   `json:"precision_at_m"`
	ExactSet     float64   `json:"exact_set_accuracy"`
	Seconds      float64   `json:"training_seconds"`
	Epochs       []Epoch   `json:"epochs"`
	// PR is the micro-averaged precision–recall curve on the test split.
	PR []multilabel.PRPoint `json:"-"`
}

// Run builds the splits from MNIST's train and test sets and trains and
// measures each of Losses; progress (if not nil) receives a line per epoch.
func Run(cfg Config, train, test *data.Set, progress func(string)) ([]Result, error) {
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	tr, val, te, err := data.MultiDigitSplits(train, test, cfg.Train, cfg.Validation, cfg.Test, cfg.Seed)
	if err != nil {
		return nil, err
	}
	var results []Result
	for _, loss := range Losses {
		r, err := runLoss(cfg, loss, tr, val, te, progress)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", loss, err)
		}
		results = append(results, r)
	}
	return results, nil
}

func runLoss(cfg Config, loss xent.Loss, tr, val, te *data.MultiSet, progress func(string)) (Result, error) {
	in := nn.Shape{C: 1, H: tr.Height, W: tr.Width}
	net, err := nn.Classifier[float32](in, tr.Classes, cfg.Seed, cfg.Workers)
	if err != nil {
		return Result{}, err
	}
	opt := &nn.Adam[float32]{LR: cfg.LR}
	lossCfg := xent.Config[float32]{Loss: loss, Workers: cfg.Workers}
	size, c := in.Size(), tr.Classes
	x := make([]float32, cfg.Batch*size)
	targets := make([]float32, cfg.Batch*c)
	grad := make([]float32, cfg.Batch*c)
	res := Result{Loss: loss}
	start := time.Now()
	batches := (tr.N + cfg.Batch - 1) / cfg.Batch
	var vs, vl []float64 // the validation scores after the latest epoch
	for epoch := range cfg.Epochs {
		order := data.Shuffle(tr.N, cfg.Seed, epoch)
		sum := 0.0
		for b := range batches {
			idx := order[b*cfg.Batch : min(tr.N, (b+1)*cfg.Batch)]
			n := len(idx)
			for i, k := range idx {
				copy(x[i*size:], tr.Image(k))
				copy(targets[i*c:], tr.Targets[k*c:(k+1)*c])
			}
			logits, err := net.Forward(x[:n*size], n)
			if err != nil {
				return Result{}, err
			}
			v, err := xent.Evaluate(lossCfg, []int{n, c}, logits, nil, targets[:n*c], xent.Output[float32]{Grad: grad[:n*c]})
			if err != nil {
				return Result{}, err
			}
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return Result{}, fmt.Errorf("epoch %d batch %d: the loss is %v", epoch+1, b+1, v)
			}
			sum += float64(v)
			net.ZeroGrad()
			if _, err := net.Backward(grad[:n*c]); err != nil {
				return Result{}, err
			}
			if err := opt.Step(net.Params()); err != nil {
				return Result{}, err
			}
		}
		if vs, vl, err = Scores(net, loss, val, cfg.Batch); err != nil {
			return Result{}, err
		}
		m, err := multilabel.MeanAveragePrecision(vs, vl, val.N, c)
		if err != nil {
			return Result{}, err
		}
		res.Epochs = append(res.Epochs, Epoch{Epoch: epoch + 1, TrainLoss: sum / float64(batches), ValidationMAP: m})
		if progress != nil {
			progress(fmt.Sprintf("%s: epoch %d, train loss %.4f, validation mAP %.4f (%s)",
				loss, epoch+1, sum/float64(batches), m, time.Since(start).Round(time.Second)))
		}
	}
	res.Seconds = time.Since(start).Seconds()

	if res.Threshold, _, err = multilabel.BestThreshold(vs, vl, val.N, c); err != nil {
		return Result{}, err
	}
	ts, tl, err := Scores(net, loss, te, cfg.Batch)
	if err != nil {
		return Result{}, err
	}
	if res.MAP, err = multilabel.MeanAveragePrecision(ts, tl, te.N, c); err != nil {
		return Result{}, err
	}
	if res.MicroF1, err = multilabel.MicroF1(ts, tl, te.N, c, res.Threshold); err != nil {
		return Result{}, err
	}
	if res.PrecisionAtM, err = multilabel.PrecisionAtM(ts, tl, te.N, c); err != nil {
		return Result{}, err
	}
	if res.ExactSet, err = multilabel.ExactSetAccuracy(ts, tl, te.N, c, res.Threshold); err != nil {
		return Result{}, err
	}
	if res.PR, err = multilabel.MicroPRCurve(ts, tl, te.N, c); err != nil {
		return Result{}, err
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
