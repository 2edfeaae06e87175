package linear

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/xent-go/xent"
	"github.com/xent-go/xent/internal/golden"
)

// refCase is a case of testdata/linear (made by tools/refgen --linear with
// PyTorch: F.linear, cross_entropy, autograd).
type refCase struct {
	Name    string    `json:"name"`
	Dtype   string    `json:"dtype"`
	N, D, C int       `json:"-"`
	H, W    []float64 `json:"-"`
	Bias    []float64 `json:"bias"`
	Targets []int64   `json:"targets"`
	Options struct {
		Reduction      string    `json:"reduction"`
		IgnoreIndex    int       `json:"ignore_index"`
		LabelSmoothing float64   `json:"label_smoothing"`
		ZLoss          float64   `json:"z_loss"`
		SoftCap        float64   `json:"soft_cap"`
		Weight         []float64 `json:"weight"`
	} `json:"options"`
	LossValue float64   `json:"loss_value"`
	Losses    []float64 `json:"losses"`
	GradH     []float64 `json:"grad_h"`
	GradW     []float64 `json:"grad_w"`
	GradBias  []float64 `json:"grad_bias"`
}

func (c *refCase) UnmarshalJSON(b []byte) error {
	type plain refCase
	var aux struct {
		plain
		N int       `json:"n"`
		D int       `json:"d"`
		C int       `json:"c"`
		H []float64 `json:"h"`
		W []float64 `json:"w"`
	}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	*c = refCase(aux.plain)
	c.N, c.D, c.C, c.H, c.W = aux.N, aux.D, aux.C, aux.H, aux.W
	return nil
}

func loadCases(t *testing.T) []refCase {
	t.Helper()
	b, err := os.ReadFile("../testdata/linear/linear.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []refCase
	if err := json.Unmarshal(b, &cases); err != nil {
		t.Fatal(err)
	}
	return cases
}

// TestAgainstPyTorch runs every reference case in its dtype with chunks of
// 1 and 3 rows and the default, and compares the loss, the per-row losses
// and the three gradients at the golden tolerances.
func TestAgainstPyTorch(t *testing.T) {
	cases := loadCases(t)
	if len(cases) < 100 {
		t.Fatalf("only %d cases", len(cases))
	}
	for _, c := range cases {
		for _, chunk := range []int{1, 3, 0} {
			t.Run(fmt.Sprintf("%s/chunk=%d", c.Name, chunk), func(t *testing.T) {
				if c.Dtype == "float32" {
					checkCase[float32](t, &c, chunk)
				} else {
					checkCase[float64](t, &c, chunk)
				}
			})
		}
	}
}

func checkCase[T Float](t *testing.T, c *refCase, chunk int) {
	red, err := xent.ParseReduction(c.Options.Reduction)
	if err != nil {
		t.Fatal(err)
	}
	opts := Options[T]{Reduction: red, Weight: golden.Convert[T](c.Options.Weight), IgnoreIndex: new(c.Options.IgnoreIndex),
		LabelSmoothing: c.Options.LabelSmoothing, ZLoss: c.Options.ZLoss, SoftCap: c.Options.SoftCap, ChunkRows: chunk}
	out := Output[T]{Losses: make([]T, c.N), H: make([]T, c.N*c.D), W: make([]T, c.C*c.D)}
	if c.Bias != nil {
		out.Bias = make([]T, c.C)
	}
	v, err := SoftmaxCrossEntropy(c.N, c.D, c.C, golden.Convert[T](c.H), golden.Convert[T](c.W), golden.Convert[T](c.Bias), c.Targets, opts, out)
	if err != nil {
		t.Fatal(err)
	}
	for _, cmp := range []struct {
		what      string
		got, want []float64
	}{
		{"loss", []float64{float64(v)}, []float64{c.LossValue}},
		{"losses", golden.Float64s(out.Losses), c.Losses},
		{"grad H", golden.Float64s(out.H), c.GradH},
		{"grad W", golden.Float64s(out.W), c.GradW},
		{"grad bias", golden.Float64s(out.Bias), c.GradBias},
	} {
		if cmp.want == nil {
			continue
		}
		if err := golden.Compare(cmp.what, cmp.got, cmp.want, c.Dtype); err != nil {
			t.Error(err)
		}
	}
}

// TestSampleWeights: with sample weights the chunked loss equals the
// materialized one with xent's SampleWeight (checked against PyTorch), for
// every reduction, in float64; all ones give the unweighted bits.
func TestSampleWeights(t *testing.T) {
	rng := rand.New(rand.NewPCG(73, 74))
	n, d, c := 23, 7, 11
	h32, w32, b32, y := randomProblem(rng, n, d, c)
	h, w, b := golden.Float64s(h32), golden.Float64s(w32), golden.Float64s(b32)
	y[3] = xent.DefaultIgnoreIndex
	s := make([]float64, n)
	for i := range s {
		s[i] = 2 * rng.Float64() * float64(rng.IntN(4)%3)
	}
	weight := make([]float64, c)
	for i := range weight {
		weight[i] = 0.5 + rng.Float64()
	}
	for _, red := range []xent.Reduction{xent.Mean, xent.Sum, xent.None, xent.BatchMean} {
		out := Output[float64]{H: make([]float64, n*d), W: make([]float64, c*d), Bias: make([]float64, c)}
		v, err := SoftmaxCrossEntropy(n, d, c, h, w, b, y, Options[float64]{Reduction: red, Weight: weight, LabelSmoothing: 0.1,
			SampleWeight: s, ChunkRows: 5}, out)
		if err != nil {
			t.Fatal(err)
		}
		mred := red
		if red == xent.None {
			mred = xent.Sum // linear's None returns the sum, with its gradient
		}
		mv, mh, mw, mb := Materialized(n, d, c, h, w, b, y, xent.SoftmaxOptions[float64]{Reduction: mred, Weight: weight,
			LabelSmoothing: 0.1, SampleWeight: s}, 0)
		for _, cmp := range []struct {
			what      string
			got, want []float64
		}{{"loss", []float64{v}, []float64{mv}}, {"H", out.H, mh}, {"W", out.W, mw}, {"bias", out.Bias, mb}} {
			if err := golden.Compare(fmt.Sprint(red, " ", cmp.what), cmp.got, cmp.want, "float64"); err != nil {
				t.Error(err)
			}
		}
	}
	ones := make([]float32, n)
	for i := range ones {
		ones[i] = 1
	}
	for _, z := range []float64{0, 1e-3} {
		plain := Output[float32]{H: make([]float32, n*d), Losses: make([]float32, n)}
		weighted := Output[float32]{H: make([]float32, n*d), Losses: make([]float32, n)}
		a, _ := SoftmaxCrossEntropy(n, d, c, h32, w32, b32, y, Options[float32]{ZLoss: z, ChunkRows: 5}, plain)
		bv, _ := SoftmaxCrossEntropy(n, d, c, h32, w32, b32, y, Options[float32]{ZLoss: z, ChunkRows: 5, SampleWeight: ones}, weighted)
		if a != bv || !slices.Equal(plain.H, weighted.H) || !slices.Equal(plain.Losses, weighted.Losses) {
			t.Errorf("z-loss %v: sample weights of 1 change the result: %v, %v", z, a, bv)
		}
	}
}

// TestMatchesMaterialized compares the chunked computation with the
// materialized one (all logits, xent.SoftmaxCrossEntropy, the products)
// on a larger float32 shape.
func TestMatchesMaterialized(t *testing.T) {
	rng := rand.New(rand.NewPCG(71, 72))
	n, d, c := 300, 64, 1000
	h, w, b, y := randomProblem(rng, n, d, c)
	out := Output[float32]{H: make([]float32, n*d), W: make([]float32, c*d), Bias: make([]float32, c)}
	v, err := SoftmaxCrossEntropy(n, d, c, h, w, b, y, Options[float32]{ChunkRows: 37, LabelSmoothing: 0.1}, out)
	if err != nil {
		t.Fatal(err)
	}
	mv, mh, mw, mb := Materialized(n, d, c, h, w, b, y, xent.SoftmaxOptions[float32]{LabelSmoothing: 0.1}, 0)
	for _, cmp := range []struct {
		what      string
		got, want []float32
	}{{"loss", []float32{v}, []float32{mv}}, {"H", out.H, mh}, {"W", out.W, mw}, {"bias", out.Bias, mb}} {
		if err := golden.Compare(cmp.what, golden.Float64s(cmp.got), golden.Float64s(cmp.want), "float32"); err != nil {
			t.Error(err)
		}
	}
}

func randomProblem(rng *rand.Rand, n, d, c int) (h, w, b []float32, y []int64) {
	h, w, b, y = make([]float32, n*d), make([]float32, c*d), make([]float32, c), make([]int64, n)
	for i := range h {
		h[i] = float32(rng.NormFloat64())
	}
	for i := range w {
		w[i] = float32(0.1 * rng.NormFloat64())
	}
	for i := range b {
		b[i] = float32(0.1 * rng.NormFloat64())
	}
	for i := range y {
		y[i] = int64(rng.IntN(c))
	}
	return h, w, b, y
}

// TestBadInput: errors name the problem, wrap xent's sentinels, and leave
// the outputs untouched.
func TestBadInput(t *testing.T) {
	n, d, c := 2, 3, 4
	h, w := make([]float64, n*d), make([]float64, c*d)
	y := []int64{0, 3}
	for _, tc := range []struct {
		name     string
		n, d, c  int
		h, w, b  []float64
		y        []int64
		opts     Options[float64]
		sentinel error
		want     string
	}{
		{"short H", n, d, c, h[:5], w, nil, y, Options[float64]{}, xent.ErrShape, "H has 5 values"},
		{"W", n, d, c, h, w[:11], nil, y, Options[float64]{}, xent.ErrShape, "W has 11 values"},
		{"bias", n, d, c, h, w, make([]float64, 3), y, Options[float64]{}, xent.ErrShape, "bias has 3 values"},
		{"targets", n, d, c, h, w, nil, []int64{0}, Options[float64]{}, xent.ErrShape, "targets has 1 values"},
		{"d = 0", n, 0, c, nil, nil, nil, y, Options[float64]{}, xent.ErrShape, "d = 0"},
		{"target", n, d, c, h, w, nil, []int64{0, 4}, Options[float64]{}, xent.ErrTarget, "target 4 at row 1 is outside [0, 4)"},
		{"weight", n, d, c, h, w, nil, y, Options[float64]{Weight: []float64{1, 1, -1, 1}}, xent.ErrOption, "weight[2] = -1"},
		{"smoothing", n, d, c, h, w, nil, y, Options[float64]{LabelSmoothing: 2}, xent.ErrOption, "label smoothing 2"},
		{"z-loss", n, d, c, h, w, nil, y, Options[float64]{ZLoss: -1}, xent.ErrOption, "z-loss -1"},
		{"cap", n, d, c, h, w, nil, y, Options[float64]{SoftCap: -2}, xent.ErrOption, "soft cap -2"},
		{"reduction", n, d, c, h, w, nil, y, Options[float64]{Reduction: 7}, xent.ErrOption, "reduction 7"},
		{"sample weights length", n, d, c, h, w, nil, y, Options[float64]{SampleWeight: []float64{1}}, xent.ErrShape, "sample weights has 1 values"},
		{"sample weight NaN", n, d, c, h, w, nil, y, Options[float64]{SampleWeight: []float64{1, math.NaN()}}, xent.ErrOption, "sample weight NaN at row 1"},
	} {
		gh := []float64{9, 9, 9, 9, 9, 9} // n·d values
		_, err := SoftmaxCrossEntropy(tc.n, tc.d, tc.c, tc.h, tc.w, tc.b, tc.y, tc.opts, Output[float64]{H: gh})
		if !errors.Is(err, tc.sentinel) || !strings.Contains(fmt.Sprint(err), tc.want) {
			t.Errorf("%s: %v, want %v saying %q", tc.name, err, tc.sentinel, tc.want)
		}
		for i, v := range gh {
			if v != 9 {
				t.Fatalf("%s: output %d written", tc.name, i)
			}
		}
	}
}

// TestOverlappingBuffers: an output that shares memory with an input or
// with another output is an ErrShape error naming both, and nothing is
// written; buffers apart in one array are fine.
func TestOverlappingBuffers(t *testing.T) {
	n, d, c := 2, 3, 4
	y := []int64{0, 3}
	// at holds where each buffer starts in one array, apart until a case
	// moves one onto another: H (6 values), W (12), bias (4), weight (4),
	// their gradients (6, 12, 4) and the losses (2).
	type at struct{ h, w, b, weight, gh, gw, gb, losses int }
	for _, tc := range []struct {
		name string
		move func(a *at)
		want string
	}{
		{"apart", func(a *at) {}, ""},
		{"gradient of H is H", func(a *at) { a.gh = a.h }, "gradient of H shares memory with the matrix H"},
		{"gradient of W from W's last value", func(a *at) { a.gw = a.w + 11 }, "gradient of W shares memory with the matrix W"},
		{"gradient of the bias is the weight", func(a *at) { a.gb = a.weight }, "gradient of the bias shares memory with the weight"},
		{"losses in the gradient of W", func(a *at) { a.losses = a.gw + 4 }, "gradient of W shares memory with the losses buffer"},
	} {
		buf := make([]float64, 80)
		for i := range buf {
			buf[i] = float64(i%7) / 7
		}
		a := at{h: 0, w: 8, b: 22, weight: 28, gh: 34, gw: 42, gb: 56, losses: 62}
		tc.move(&a)
		cut := func(from, k int) []float64 { return buf[from : from+k : from+k] }
		before := slices.Clone(buf)
		_, err := SoftmaxCrossEntropy(n, d, c, cut(a.h, n*d), cut(a.w, c*d), cut(a.b, c), y,
			Options[float64]{Weight: cut(a.weight, c)},
			Output[float64]{H: cut(a.gh, n*d), W: cut(a.gw, c*d), Bias: cut(a.gb, c), Losses: cut(a.losses, n)})
		if tc.want == "" {
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
			}
			continue
		}
		if !errors.Is(err, xent.ErrShape) || !strings.Contains(fmt.Sprint(err), tc.want) {
			t.Errorf("%s: %v, want ErrShape saying %q", tc.name, err, tc.want)
		}
		if !slices.Equal(buf, before) {
			t.Errorf("%s: a buffer was written", tc.name)
		}
	}
}

// TestSampleWeightsZLoss: with sample weights and a z-loss, the gradient
// with respect to H is the derivative of the value (central differences,
// float64), for Mean, whose z terms divide by Σ s of the counted rows.
func TestSampleWeightsZLoss(t *testing.T) {
	rng := rand.New(rand.NewPCG(75, 76))
	n, d, c := 5, 3, 6
	h32, w32, b32, y := randomProblem(rng, n, d, c)
	h, w, b := golden.Float64s(h32), golden.Float64s(w32), golden.Float64s(b32)
	y[1] = xent.DefaultIgnoreIndex
	s := []float64{0.5, 2, 0, 1.5, 0.25}
	opts := Options[float64]{ZLoss: 0.05, SampleWeight: s, SoftCap: 4}
	dh := make([]float64, n*d)
	if _, err := SoftmaxCrossEntropy(n, d, c, h, w, b, y, opts, Output[float64]{H: dh}); err != nil {
		t.Fatal(err)
	}
	value := func() float64 {
		v, err := SoftmaxCrossEntropy(n, d, c, h, w, b, y, opts, Output[float64]{})
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for i := range h {
		x, eps := h[i], 1e-6
		h[i] = x + eps
		up := value()
		h[i] = x - eps
		down := value()
		h[i] = x
		if fd := (up - down) / (2 * eps); math.Abs(fd-dh[i]) > 1e-7*math.Max(1, math.Abs(fd)) {
			t.Errorf("dH[%d] = %v, finite difference %v", i, dh[i], fd)
		}
	}
}
