package train

import (
	"fmt"
	"math"
	"strconv"

	"github.com/xent-go/xent/data"
	"github.com/xent-go/xent/nn"
)

// Model is a trained network, loaded from a checkpoint alone.
type Model struct {
	Network *nn.Network[float32]
	Input   nn.Shape // channels × height × width of an image
	Classes int
	Dataset string
	Config  Config  // the run that trained it; Config.Loss says how to read its outputs
	Metrics Metrics // the run's record up to the checkpoint
}

// LoadModel reads the network of a checkpoint Save wrote, without the
// data it was trained on. It makes every check Resume makes that needs no
// data set — the structure, the metadata keys, the network's tensors and
// shapes, the optimiser's tensors (all of them or, before the first step,
// none), the checksum, finite values and a consistent record — and wraps
// ErrCheckpoint in every error. opts are the options the run was started
// with (WithNetwork: the network the weights are of).
func LoadModel(path string, opts ...Option) (*Model, error) {
	c, err := openCheckpoint(path)
	if err != nil {
		return nil, err
	}
	defer c.f.Close()
	var cfg Config
	if err := strictJSON(c.meta["config"], &cfg); err != nil {
		return nil, c.bad("config: %v", err)
	}
	if err := cfg.Check(); err != nil {
		return nil, c.bad("%v", err)
	}
	in, classes, err := c.network()
	if err != nil {
		return nil, err
	}
	net, err := buildNetwork(opts)(in, classes, cfg.Seed, cfg.Workers)
	if err != nil {
		return nil, c.bad("%v", err)
	}
	var wants []want
	params := net.Params()
	names, err := tensorNames(net)
	if err != nil {
		return nil, c.bad("%v", err)
	}
	for k, name := range names {
		wants = append(wants, want{name, params[k].Shape, params[k].Value})
	}
	// The optimiser's state is checked and then left: a model does not train.
	var state []want
	for k, p := range params {
		names := []string{"sgd.buf." + strconv.Itoa(k)}
		if cfg.Optimizer == "adam" {
			names = []string{"adam.m." + strconv.Itoa(k), "adam.v." + strconv.Itoa(k)}
		}
		for _, name := range names {
			state = append(state, want{name, []int{len(p.Value)}, make([]float32, len(p.Value))})
		}
	}
	what := fmt.Sprintf("the network (and %d more for %s's state)", len(state), cfg.Optimizer)
	if len(c.h.Tensors) == len(wants)+len(state) {
		wants = append(wants, state...)
	}
	body, err := c.readWanted(wants, what)
	if err != nil {
		return nil, err
	}
	m := &Model{Network: net, Input: in, Classes: classes, Dataset: c.meta["dataset"], Config: cfg}
	epochs, err := strconv.Atoi(c.meta["epoch"])
	if err != nil || epochs < 0 || epochs > cfg.Epochs {
		return nil, c.bad("epoch %q", c.meta["epoch"])
	}
	if err := strictJSON(c.meta["metrics"], &m.Metrics); err != nil {
		return nil, c.bad("metrics: %v", err)
	}
	if err := m.Metrics.check(cfg, m.Dataset, epochs, classes, -1); err != nil {
		return nil, c.bad("metrics: %v", err)
	}
	if err := c.load(wants, body); err != nil {
		return nil, err
	}
	return m, nil
}

// Sigmoid reports whether the model's outputs are read with σ per class
// (it was trained with a sigmoid loss on one-hot targets) rather than
// softmax over the classes.
func (m *Model) Sigmoid() bool { return !m.Config.Loss.IndexTargets() }

// Predict runs the network on the images of s in batches and returns, per
// image, the class probabilities (softmax over the logits, or σ of each
// for a model trained with a sigmoid loss) and the predicted class: the
// largest logit, the first on a tie, as training counts its accuracy.
func (m *Model) Predict(s *data.Set) (probs []float32, predicted []int, err error) {
	if s == nil || s.N < 0 || inputShape(s) != m.Input || len(s.Images) != s.N*s.ImageSize() {
		return nil, nil, fmt.Errorf("%w: images of %v, the network takes %v", ErrConfig, inputShape(s), m.Input)
	}
	probs, predicted = make([]float32, s.N*m.Classes), make([]int, s.N)
	size := s.ImageSize()
	for lo := 0; lo < s.N; lo += evalBatch {
		n := min(evalBatch, s.N-lo)
		logits, err := m.Network.Forward(s.Images[lo*size:(lo+n)*size], n)
		if err != nil {
			return nil, nil, err
		}
		for i := range n {
			row := logits[i*m.Classes : (i+1)*m.Classes]
			predicted[lo+i] = argmax(row)
			probabilities(row, probs[(lo+i)*m.Classes:(lo+i+1)*m.Classes], m.Sigmoid())
		}
	}
	return probs, predicted, nil
}

// argmax returns the index of the largest value, the first on a tie.
func argmax(row []float32) int {
	best := 0
	for j, v := range row {
		if v > row[best] {
			best = j
		}
	}
	return best
}

// probabilities writes softmax(logits), or σ of each logit, into p,
// computed in float64.
func probabilities(logits, p []float32, sigmoid bool) {
	if sigmoid {
		for j, x := range logits {
			p[j] = float32(1 / (1 + math.Exp(-float64(x))))
		}
		return
	}
	peak := float64(logits[argmax(logits)])
	var sum float64
	for _, x := range logits {
		sum += math.Exp(float64(x) - peak)
	}
	for j, x := range logits {
		p[j] = float32(math.Exp(float64(x)-peak) / sum)
	}
}
