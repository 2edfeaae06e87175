package check

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
)

// TestErrors: each constructor wraps its sentinel, and the message has
// the package's prefix.
func TestErrors(t *testing.T) {
	for _, c := range []struct {
		err  error
		kind error
	}{{Shape("a %d", 1), ErrShape}, {Target("b"), ErrTarget}, {Option("c"), ErrOption}} {
		if !errors.Is(c.err, c.kind) || !strings.HasPrefix(c.err.Error(), "xent: ") {
			t.Errorf("%v: not %v", c.err, c.kind)
		}
	}
	if got := Shape("a %d", 1).Error(); got != "xent: a 1" {
		t.Errorf("message %q", got)
	}
}

func TestClassWeights(t *testing.T) {
	for _, c := range []struct {
		w    []float64
		kind error
		msg  string
	}{
		{nil, nil, ""},
		{[]float64{0, 1, 2}, nil, ""},
		{[]float64{1, 2}, ErrShape, "w has 2 values; want one per class, C = 3"},
		{[]float64{1, -1, 2}, ErrOption, "w[1] = -1 is not a finite number ≥ 0"},
		{[]float64{1, 2, math.Inf(1)}, ErrOption, "w[2] = +Inf"},
		{[]float64{math.NaN(), 1, 2}, ErrOption, "w[0] = NaN"},
	} {
		err := ClassWeights("w", c.w, 3)
		if !errors.Is(err, c.kind) || c.kind == nil && err != nil || err != nil && !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%v: %v, want %v %q", c.w, err, c.kind, c.msg)
		}
	}
}

func TestScalars(t *testing.T) {
	for _, eps := range []float64{0, 0.5, 1} {
		if err := LabelSmoothing(eps); err != nil {
			t.Errorf("ε = %v: %v", eps, err)
		}
	}
	for _, eps := range []float64{-0.1, 1.5, math.NaN()} {
		if err := LabelSmoothing(eps); !errors.Is(err, ErrOption) {
			t.Errorf("ε = %v accepted", eps)
		}
	}
	for r := range 4 {
		if err := Reduction(r); err != nil {
			t.Errorf("reduction %d: %v", r, err)
		}
	}
	if err := Reduction(4); !errors.Is(err, ErrOption) || err.Error() != "xent: reduction 4 is not Mean, Sum, None or BatchMean" {
		t.Errorf("reduction 4: %v", err)
	}
	if IgnoreIndex(nil) != DefaultIgnoreIndex || IgnoreIndex(new(255)) != 255 {
		t.Error("IgnoreIndex")
	}
}

func TestIndexTargets(t *testing.T) {
	where := func(p int) string { return fmt.Sprintf("row %d", p) }
	n, err := IndexTargets([]int32{0, 2, -100, 1}, -100, 3, []float64{0.5, 1, 2}, nil, where)
	if err != nil || n != (Counted{Positions: 3, Weight: 0.5 + 2 + 1, Samples: 3}) {
		t.Errorf("counted %+v, %v", n, err)
	}
	if n, _ := IndexTargets([]uint8{0, 1, 1}, 1, 3, []float64(nil), nil, where); n != (Counted{Positions: 1, Weight: 1, Samples: 1}) {
		t.Errorf("ignore 1: %+v", n)
	}
	// With sample weights: Σ s·w_y and Σ s over the counted positions.
	n, _ = IndexTargets([]int64{0, 2, -100, 1}, -100, 3, []float64{0.5, 1, 2}, []float64{2, 0.25, 8, 4}, where)
	if n != (Counted{Positions: 3, Weight: 2*0.5 + 0.25*2 + 4*1, Samples: 2 + 0.25 + 4}) {
		t.Errorf("sample weights: %+v", n)
	}
	if n, _ := IndexTargets([]int64{1, 1}, -100, 3, []float64(nil), []float64{3, 0.5}, where); n != (Counted{Positions: 2, Weight: 3.5, Samples: 3.5}) {
		t.Errorf("sample weights without class weights: %+v", n)
	}
	for _, bad := range [][]int64{{0, 3}, {-1}, {-101}} {
		_, err := IndexTargets(bad, -100, 3, []float64(nil), nil, where)
		if !errors.Is(err, ErrTarget) || !strings.Contains(err.Error(), fmt.Sprintf("target %d at row %d is outside [0, 3)", bad[len(bad)-1], len(bad)-1)) {
			t.Errorf("%v: %v", bad, err)
		}
	}
}

func TestOverlap(t *testing.T) {
	buf := make([]float64, 10)
	in := []Named[float64]{{"logits", buf[0:4]}, {"weight", nil}}
	if err := Overlap([]Named[float64]{{"grad", buf[4:8]}, {"losses", buf[8:10]}}, in); err != nil {
		t.Errorf("disjoint: %v", err)
	}
	for _, c := range []struct {
		outputs []Named[float64]
		want    string
	}{
		{[]Named[float64]{{"grad", buf[3:7]}}, "the grad shares memory with the logits"},
		{[]Named[float64]{{"grad", buf[4:8]}, {"losses", buf[7:9]}}, "the grad shares memory with the losses"},
		{[]Named[float64]{{"grad", nil}, {"losses", buf[0:1]}}, "the losses shares memory with the logits"},
	} {
		if err := Overlap(c.outputs, in); !errors.Is(err, ErrShape) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want %q", c.outputs, err, c.want)
		}
	}
}
