package xent_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/xent-go/xent"
	"github.com/xent-go/xent/internal/golden"
	"github.com/xent-go/xent/internal/gradcheck"
	"github.com/xent-go/xent/internal/kernel"
)

// pathResult is everything a call returns and writes.
type pathResult struct {
	value        float32
	grad, losses []float32
	err          error
}

// evaluateOn runs cfg on the kernel path p.
func evaluateOn(p kernel.Path, cfg xent.Config[float32], shape []int, logits []float32, indices []int64, targets []float32) pathResult {
	restore, ok := kernel.Use(p)
	if !ok {
		panic("unsupported path")
	}
	defer restore()
	n := len(logits)
	if !cfg.Loss.PerElement() && shape[1] > 0 {
		n /= shape[1]
	}
	r := pathResult{grad: make([]float32, len(logits)), losses: make([]float32, n)}
	r.value, r.err = xent.Evaluate(cfg, shape, logits, indices, targets, xent.Output[float32]{Grad: r.grad, Losses: r.losses})
	return r
}

// agree reports how the assembly path's results a differ from the Go
// path's g beyond float32 accuracy: relative 2e-4 plus 2e-6·max(1, max|g|)
// (the golden tolerance), NaN where the other has NaN.
func agree(a, g pathResult) error {
	if (a.err == nil) != (g.err == nil) {
		return fmt.Errorf("errors differ: %v, %v", a.err, g.err)
	}
	if a.err != nil {
		return nil
	}
	check := func(what string, x, y []float32) error {
		scale := 1.0
		for _, v := range y {
			if f := math.Abs(float64(v)); !math.IsInf(f, 0) && !math.IsNaN(f) {
				scale = math.Max(scale, f)
			}
		}
		for i := range y {
			p, q := float64(x[i]), float64(y[i])
			if math.IsNaN(p) || math.IsNaN(q) || math.IsInf(p, 0) || math.IsInf(q, 0) {
				if !(math.IsNaN(p) && math.IsNaN(q)) && p != q {
					return fmt.Errorf("%s[%d]: %v, Go %v", what, i, p, q)
				}
				continue
			}
			if math.Abs(p-q) > 2e-4*math.Abs(q)+2e-6*scale {
				return fmt.Errorf("%s[%d]: %v, Go %v", what, i, p, q)
			}
		}
		return nil
	}
	if err := check("value", []float32{a.value}, []float32{g.value}); err != nil {
		return err
	}
	if err := check("grad", a.grad, g.grad); err != nil {
		return err
	}
	return check("losses", a.losses, g.losses)
}

// extremeLogits draws logits with ±1e4, ±Inf and NaN sprinkled in.
func extremeLogits(rng *rand.Rand, logits []float64, rate int) []float32 {
	out := make([]float32, len(logits))
	for i, v := range logits {
		out[i] = float32(v)
		if rate > 0 {
			switch rng.IntN(rate) {
			case 0:
				out[i] = 1e4
			case 1:
				out[i] = -1e4
			case 2:
				out[i] = float32(math.Inf(1))
			case 3:
				out[i] = float32(math.Inf(-1))
			case 4:
				out[i] = float32(math.NaN())
			}
		}
	}
	return out
}

// TestAssemblyAgreesWithGo compares each assembly path with the Go path on
// rows of every length 0 … 70 and some large ones, for every loss and
// reduction, with and without extreme values, and with sample weights.
func TestAssemblyAgreesWithGo(t *testing.T) {
	if kernel.Best() == kernel.Go {
		t.Skip("no assembly path in this build")
	}
	rng := rand.New(rand.NewPCG(21, 22))
	var lengths []int
	for c := 1; c <= 70; c++ {
		lengths = append(lengths, c)
	}
	lengths = append(lengths, 127, 1000, 4099)
	for _, loss := range xent.Losses {
		for _, c := range lengths {
			for _, rate := range []int{0, 50, -1} { // −1: no extreme values, sample weights
				for _, red := range []xent.Reduction{xent.Mean, xent.None} {
					shape := []int{3, c}
					if c > 1000 {
						shape[0] = 1
					}
					logits, indices, targets := gradcheck.RandomInputs(rng, loss, shape)
					x := extremeLogits(rng, logits, max(rate, 0))
					cfg := xent.Config[float32]{Loss: loss, Reduction: red}
					if rate < 0 {
						cfg.SampleWeight = []float32{0.5, 2, 1.25}[:shape[0]]
					}
					g := evaluateOn(kernel.Go, cfg, shape, x, indices, golden.Convert[float32](targets))
					for _, p := range assemblyPaths() {
						a := evaluateOn(p, cfg, shape, x, indices, golden.Convert[float32](targets))
						if err := agree(a, g); err != nil {
							t.Fatalf("%v: %s C=%d extreme=%v %v: %v", p, loss, c, rate > 0, red, err)
						}
					}
				}
			}
		}
	}
}

// TestStreamingAgreesWithGo runs softmax cross-entropy on a gradient large
// enough, in rows long enough, for the streaming kernel (with ignored rows
// between counted ones, and extreme values) against the Go path.
func TestStreamingAgreesWithGo(t *testing.T) {
	if kernel.Best() == kernel.Go {
		t.Skip("no assembly path in this build")
	}
	rng := rand.New(rand.NewPCG(23, 24))
	c := kernel.StreamMinRowBytes/4 + 7
	shape := []int{(4<<20)/(4*c) + 3, c}
	if !kernel.Streams[float32](c) && kernel.Best() == kernel.AVX512 {
		t.Fatalf("rows of %d float32 are not streamed", c)
	}
	for _, rate := range []int{0, 50} {
		logits, indices, _ := gradcheck.RandomInputs(rng, xent.Softmax, shape)
		x := extremeLogits(rng, logits, rate)
		for _, red := range []xent.Reduction{xent.Mean, xent.None} {
			cfg := xent.Config[float32]{Loss: xent.Softmax, Reduction: red}
			g := evaluateOn(kernel.Go, cfg, shape, x, indices, nil)
			for _, p := range assemblyPaths() {
				a := evaluateOn(p, cfg, shape, x, indices, nil)
				if err := agree(a, g); err != nil {
					t.Fatalf("%v: %v extreme=%v %v: %v", p, shape, rate > 0, red, err)
				}
			}
		}
	}
}

// FuzzAssemblyAgreesWithGo: the fuzzer picks the loss, the shape, the seed
// of the values and how many of them are extreme.
func FuzzAssemblyAgreesWithGo(f *testing.F) {
	f.Add(uint8(0), uint8(3), uint16(17), uint64(1), uint8(20))
	f.Add(uint8(3), uint8(1), uint16(70), uint64(2), uint8(0))
	f.Add(uint8(5), uint8(64), uint16(1), uint64(3), uint8(5))
	f.Fuzz(func(t *testing.T, lossIndex, n uint8, c uint16, seed uint64, rate uint8) {
		if kernel.Best() == kernel.Go {
			t.Skip("no assembly path in this build")
		}
		loss := xent.Losses[int(lossIndex)%len(xent.Losses)]
		shape := []int{int(n%8) + 1, int(c%5000) + 1}
		rng := rand.New(rand.NewPCG(seed, 7))
		logits, indices, targets := gradcheck.RandomInputs(rng, loss, shape)
		x := extremeLogits(rng, logits, int(rate))
		for _, red := range []xent.Reduction{xent.Mean, xent.Sum, xent.None} {
			cfg := xent.Config[float32]{Loss: loss, Reduction: red}
			g := evaluateOn(kernel.Go, cfg, shape, x, indices, golden.Convert[float32](targets))
			for _, p := range assemblyPaths() {
				a := evaluateOn(p, cfg, shape, x, indices, golden.Convert[float32](targets))
				if err := agree(a, g); err != nil {
					t.Fatalf("%v: %s %v %v: %v", p, loss, shape, red, err)
				}
			}
		}
	})
}

// TestWorkersBitIdentical: 1, 2 and 8 workers give the same value,
// gradient and losses to the bit, for every loss, in both precisions, on
// shapes of many blocks.
func TestWorkersBitIdentical(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	for _, loss := range xent.Losses {
		shapes := [][]int{{700, 300}, {9, 7, 40, 50}}
		if loss == xent.Softmax { // rows that stream, in blocks of rows/8
			shapes = append(shapes, []int{70, kernel.StreamMinRowBytes/4 + 1})
		}
		for _, shape := range shapes {
			logits, indices, targets := gradcheck.RandomInputs(rng, loss, shape)
			for _, red := range []xent.Reduction{xent.Mean, xent.None} {
				var ref pathResult
				for i, w := range []int{1, 2, 8} {
					cfg := xent.Config[float32]{Loss: loss, Reduction: red, Workers: w}
					r := evaluateOn(kernel.Active(), cfg, shape, golden.Convert[float32](logits), indices, golden.Convert[float32](targets))
					if r.err != nil {
						t.Fatal(r.err)
					}
					if i == 0 {
						ref = r
						continue
					}
					if math.Float32bits(r.value) != math.Float32bits(ref.value) {
						t.Errorf("%s %v %v: %d workers give %v, 1 worker %v", loss, shape, red, w, r.value, ref.value)
					}
					for k := range r.grad {
						if math.Float32bits(r.grad[k]) != math.Float32bits(ref.grad[k]) {
							t.Fatalf("%s %v %v: %d workers: grad[%d] %v, 1 worker %v", loss, shape, red, w, k, r.grad[k], ref.grad[k])
						}
					}
					for k := range r.losses {
						if math.Float32bits(r.losses[k]) != math.Float32bits(ref.losses[k]) {
							t.Fatalf("%s %v %v: %d workers: losses[%d] differ", loss, shape, red, w, k)
						}
					}
				}
			}
			// float64 too, through the plain Go kernels.
			var ref float64
			for i, w := range []int{1, 2, 8} {
				v, err := xent.Evaluate(xent.Config[float64]{Loss: loss, Workers: w}, shape, logits, indices, targets, xent.Output[float64]{Grad: make([]float64, len(logits))})
				if err != nil {
					t.Fatal(err)
				}
				if i == 0 {
					ref = v
				} else if math.Float64bits(v) != math.Float64bits(ref) {
					t.Errorf("%s %v float64: %d workers give %v, 1 worker %v", loss, shape, w, v, ref)
				}
			}
		}
	}
}
