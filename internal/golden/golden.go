// Package golden reads the reference cases of testdata/golden (computed with
// PyTorch; the format is in testdata/golden/README.md) and compares results
// against them at the tolerances that README gives.
package golden

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"github.com/xent-go/xent"
)

// Case is one reference case.
type Case struct {
	Name        string    `json:"name"`
	Loss        string    `json:"loss"`
	Dtype       string    `json:"dtype"`
	Shape       []int     `json:"shape"`
	Logits      []float64 `json:"logits"`
	TargetShape []int     `json:"target_shape"`
	Targets     []float64 `json:"targets"`
	Options     Options   `json:"options"`
	// LossValue is the reduced loss, or the per-position (per-element)
	// losses for reduction none.
	LossValue  Values    `json:"loss_value"`
	Grad       []float64 `json:"grad"`
	GradOutput []float64 `json:"grad_output"`
	Note       string    `json:"note"`
}

// Options are a case's options as the reference files spell them.
type Options struct {
	Reduction      string    `json:"reduction"`
	Weight         []float64 `json:"weight"`
	PosWeight      []float64 `json:"pos_weight"`
	IgnoreIndex    *int      `json:"ignore_index"`
	LabelSmoothing *float64  `json:"label_smoothing"`
	Alpha          Values    `json:"alpha"` // a number, or one per class
	Gamma          *float64  `json:"gamma"`
}

// Values is a JSON number or list of numbers; Scalar says which it was.
type Values struct {
	List   []float64
	Scalar bool
}

// UnmarshalJSON accepts a number or a list of numbers.
func (v *Values) UnmarshalJSON(b []byte) error {
	var x float64
	if err := json.Unmarshal(b, &x); err == nil {
		v.List, v.Scalar = []float64{x}, true
		return nil
	}
	v.Scalar = false
	return json.Unmarshal(b, &v.List)
}

// MarshalJSON writes a number for a scalar and a list otherwise.
func (v Values) MarshalJSON() ([]byte, error) {
	if v.Scalar && len(v.List) == 1 {
		return json.Marshal(v.List[0])
	}
	return json.Marshal(v.List)
}

// Load reads every *.json file of dir.
func Load(dir string) ([]Case, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("golden: no *.json file in %s", dir)
	}
	var all []Case
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var cases []Case
		if err := json.Unmarshal(b, &cases); err != nil {
			return nil, fmt.Errorf("golden: %s: %w", f, err)
		}
		all = append(all, cases...)
	}
	return all, nil
}

// Config returns the case's loss and options as an xent.Config in T.
func Config[T xent.Float](c *Case) (xent.Config[T], error) {
	loss, err := xent.ParseLoss(c.Loss)
	if err != nil {
		return xent.Config[T]{}, err
	}
	red, err := xent.ParseReduction(c.Options.Reduction)
	if err != nil {
		return xent.Config[T]{}, err
	}
	cfg := xent.Config[T]{
		Loss: loss, Reduction: red,
		Weight: Convert[T](c.Options.Weight), PosWeight: Convert[T](c.Options.PosWeight),
		IgnoreIndex: c.Options.IgnoreIndex, Gamma: c.Options.Gamma,
		GradOutput: Convert[T](c.GradOutput),
	}
	if c.Options.LabelSmoothing != nil {
		cfg.LabelSmoothing = *c.Options.LabelSmoothing
	}
	if a := c.Options.Alpha; a.List != nil {
		if a.Scalar {
			cfg.Alpha = &a.List[0]
		} else {
			cfg.ClassAlpha = Convert[T](a.List)
		}
	}
	return cfg, nil
}

// Convert converts a float64 slice to T; nil stays nil.
func Convert[T xent.Float](v []float64) []T {
	if v == nil {
		return nil
	}
	out := make([]T, len(v))
	for i, x := range v {
		out[i] = T(x)
	}
	return out
}

// Indices returns the targets as class indices.
func (c *Case) Indices() []int64 {
	out := make([]int64, len(c.Targets))
	for i, t := range c.Targets {
		out[i] = int64(t)
	}
	return out
}

// Tolerance returns the relative tolerance and the absolute tolerance
// factor of dtype: |got − want| ≤ rel·|want| + abs·max(1, max|want|).
func Tolerance(dtype string) (rel, abs float64) {
	if dtype == "float32" {
		return 2e-4, 2e-6
	}
	return 1e-9, 1e-12
}

// Compare reports the first value of got that is not within the tolerance
// of dtype of want, or a length mismatch.
func Compare(what string, got, want []float64, dtype string) error {
	if len(got) != len(want) {
		return fmt.Errorf("%s: %d values, want %d", what, len(got), len(want))
	}
	rel, abs := Tolerance(dtype)
	scale := 1.0
	for _, w := range want {
		scale = math.Max(scale, math.Abs(w))
	}
	for i := range want {
		if d := math.Abs(got[i] - want[i]); !(d <= rel*math.Abs(want[i])+abs*scale) {
			return fmt.Errorf("%s[%d] = %.17g, want %.17g (difference %.3g)", what, i, got[i], want[i], d)
		}
	}
	return nil
}

// Float64s converts a slice of T to float64.
func Float64s[T xent.Float](v []T) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}
