package xent_test

import (
	"encoding/binary"
	"math"
	"testing"

	"github.com/xent-go/xent"
)

// fuzzLoss drives loss with shapes, values, options and buffer lengths
// decoded from the fuzzer's bytes: often inconsistent, often NaN or
// infinite. It fails on a panic, on an error that writes into a buffer, and
// on an accepted call with finite inputs that gives a non-finite value.
func fuzzLoss(f *testing.F, loss xent.Loss) {
	f.Add(uint8(2), uint8(3), uint8(1), uint8(0), uint16(0), []byte("0123456789abcdefghijklmnopqrstuvwxyz0123456789ABCDEF"))
	f.Add(uint8(1), uint8(1), uint8(2), uint8(2), uint16(0xffff), []byte{0, 0, 0, 0, 0, 0, 0xf0, 0x7f, 1, 2, 3})
	f.Add(uint8(0), uint8(4), uint8(0), uint8(3), uint16(7), []byte{})
	f.Add(uint8(3), uint8(4), uint8(2), uint8(0), uint16(0x4628), []byte("sample weights, poly, asymmetric options: 0123456789"))
	f.Fuzz(func(t *testing.T, n, c, d, red uint8, flags uint16, data []byte) {
		shape := []int{int(n % 5), int(c % 6), int(d % 4)}
		if flags&1 != 0 {
			shape = shape[:2]
		}
		if flags&2 != 0 {
			shape[0] -= 1 // sometimes negative
		}
		values := func(k int) []float64 { // k values from data, cycling
			v := make([]float64, k)
			for i := range v {
				if len(data) >= 8 {
					j := (8 * i) % (len(data) - 7)
					v[i] = math.Float64frombits(binary.LittleEndian.Uint64(data[j:]))
				} else if len(data) > 0 {
					v[i] = float64(int8(data[i%len(data)])) / 16
				}
			}
			return v
		}
		elements, positions := 1, 1
		for i, s := range shape {
			elements *= max(s, 0)
			if i != 1 {
				positions *= max(s, 0)
			}
		}
		if flags&4 != 0 {
			elements++ // a length that does not match
		}
		cfg := xent.Config[float64]{Loss: loss, Reduction: xent.Reduction(red % 5)}
		classes := max(shape[1], 0)
		if flags&8 != 0 {
			switch {
			case loss.Takes("weight"):
				cfg.Weight = values(classes + int(flags>>12&1))
			case loss == xent.SoftmaxFocal:
				cfg.ClassAlpha = values(classes)
			}
		}
		if flags&16 != 0 && loss == xent.Sigmoid {
			cfg.PosWeight = values(classes)
		}
		if flags&32 != 0 {
			switch loss {
			case xent.Softmax, xent.SoftmaxProb:
				cfg.LabelSmoothing = values(1)[0]
			case xent.SigmoidFocal:
				cfg.Alpha, cfg.Gamma = new(values(2)[0]), new(values(2)[1])
			case xent.SoftmaxFocal:
				cfg.Gamma = new(values(1)[0])
			case xent.Asymmetric:
				v := values(3)
				cfg.GammaPos, cfg.GammaNeg, cfg.Clip = new(v[0]), new(v[1]), new(math.Mod(v[2], 1))
				cfg.DetachFocalWeight = flags&2048 != 0
			}
		}
		if flags&1024 != 0 && loss.Takes("poly_epsilon") {
			cfg.PolyEpsilon = values(2)[1]
		}
		if flags&512 != 0 { // sometimes of the wrong length
			cfg.SampleWeight = values(positions + int(flags>>13&1))
			if flags&16384 != 0 {
				for i := range cfg.SampleWeight {
					cfg.SampleWeight[i] = math.Abs(math.Mod(cfg.SampleWeight[i], 4))
				}
			}
		}
		if flags&64 != 0 && loss.IndexTargets() {
			cfg.IgnoreIndex = new(int(int8(flags >> 8)))
		}
		perLoss := positions
		if loss.PerElement() {
			perLoss = elements
		}
		if flags&128 != 0 {
			cfg.GradOutput = values(perLoss)
		}
		logits := values(elements)
		var indices []int64
		var targets []float64
		if loss.IndexTargets() {
			indices = make([]int64, positions)
			for i, v := range values(positions) {
				if !math.IsNaN(v) && math.Abs(v) < 1e6 {
					indices[i] = int64(v) % 8
				}
			}
		} else {
			targets = values(elements)
			if flags&256 != 0 {
				for i := range targets {
					targets[i] = math.Abs(math.Mod(targets[i], 1))
				}
			}
		}
		out := xent.Output[float64]{Grad: filled(elements), Losses: filled(perLoss)}
		v, err := xent.Evaluate(cfg, shape, logits, indices, targets, out)
		if err != nil {
			for i := range out.Grad {
				if out.Grad[i] != 7 {
					t.Fatalf("error %v, and grad[%d] was written", err, i)
				}
			}
			for i := range out.Losses {
				if out.Losses[i] != 7 {
					t.Fatalf("error %v, and losses[%d] was written", err, i)
				}
			}
			return
		}
		finite := true
		for _, x := range append(append(append([]float64(nil), logits...), targets...), cfg.GradOutput...) {
			if math.IsNaN(x) || math.Abs(x) > 1e100 {
				finite = false
			}
		}
		if finite && math.IsNaN(v) {
			t.Fatalf("finite inputs give NaN: %+v", cfg)
		}
	})
}

func FuzzSoftmax(f *testing.F)           { fuzzLoss(f, xent.Softmax) }
func FuzzSoftmaxProb(f *testing.F)       { fuzzLoss(f, xent.SoftmaxProb) }
func FuzzMultiLabelSoftmax(f *testing.F) { fuzzLoss(f, xent.MultiLabelSoftmax) }
func FuzzSigmoid(f *testing.F)           { fuzzLoss(f, xent.Sigmoid) }
func FuzzSigmoidFocal(f *testing.F)      { fuzzLoss(f, xent.SigmoidFocal) }
func FuzzSoftmaxFocal(f *testing.F)      { fuzzLoss(f, xent.SoftmaxFocal) }
func FuzzAsymmetric(f *testing.F)        { fuzzLoss(f, xent.Asymmetric) }
