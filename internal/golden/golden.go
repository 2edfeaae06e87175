// Package golden reads the reference cases of testdata/golden (computed with
// PyTorch; the format is in testdata/golden/README.md) and compares results
// against them at the tolerances that README gives.
package golden

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"

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

// Options are a case's options as the reference files spell them: the
// reduction, and the others by the names of the registry (xent.Option.Name),
// each a number or a list of numbers.
type Options struct {
	Reduction string
	Values    map[string]Values // the other options by name
}

// UnmarshalJSON reads the options object.
func (o *Options) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	*o = Options{Values: map[string]Values{}}
	for name, v := range raw {
		if name == "reduction" {
			if err := json.Unmarshal(v, &o.Reduction); err != nil {
				return fmt.Errorf("options.reduction: %w", err)
			}
			continue
		}
		var vals Values
		if err := json.Unmarshal(v, &vals); err != nil {
			return fmt.Errorf("options.%s: %w", name, err)
		}
		o.Values[name] = vals
	}
	return nil
}

// Values is a JSON number, list of numbers or boolean; Scalar and Bool say
// which it was (a boolean is in List as 0 or 1).
type Values struct {
	List   []float64
	Scalar bool
	Bool   bool
}

// UnmarshalJSON accepts a number, a list of numbers or a boolean.
func (v *Values) UnmarshalJSON(b []byte) error {
	var x float64
	if err := json.Unmarshal(b, &x); err == nil {
		*v = Values{List: []float64{x}, Scalar: true}
		return nil
	}
	var on bool
	if err := json.Unmarshal(b, &on); err == nil {
		*v = Values{List: []float64{0}, Scalar: true, Bool: true}
		if on {
			v.List[0] = 1
		}
		return nil
	}
	*v = Values{}
	return json.Unmarshal(b, &v.List)
}

// MarshalJSON writes a number for a scalar, a boolean for a boolean and a
// list otherwise.
func (v Values) MarshalJSON() ([]byte, error) {
	switch {
	case v.Bool && len(v.List) == 1:
		return json.Marshal(v.List[0] != 0)
	case v.Scalar && len(v.List) == 1:
		return json.Marshal(v.List[0])
	}
	return json.Marshal(v.List)
}

// ClassBalancedCase is a case of class_balanced.json: class counts, β and
// the class-balanced weights (float64).
type ClassBalancedCase struct {
	Name    string    `json:"name"`
	Counts  []int64   `json:"counts"`
	Beta    float64   `json:"beta"`
	Weights []float64 `json:"weights"`
}

// classBalancedFile is the file of dir that holds class-balanced cases, not
// loss cases.
const classBalancedFile = "class_balanced.json"

// LoadClassBalanced reads dir's class_balanced.json.
func LoadClassBalanced(dir string) ([]ClassBalancedCase, error) {
	b, err := os.ReadFile(filepath.Join(dir, classBalancedFile))
	if err != nil {
		return nil, err
	}
	var cases []ClassBalancedCase
	if err := json.Unmarshal(b, &cases); err != nil {
		return nil, fmt.Errorf("golden: %s: %w", classBalancedFile, err)
	}
	return cases, nil
}

// Load reads every *.json file of dir but class_balanced.json: the loss
// cases.
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
		if filepath.Base(f) == classBalancedFile {
			continue
		}
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

// Config returns the case's loss and options as an xent.Config in T: each
// option goes where the loss's registry entry says, and an option the loss
// does not take, or one of the wrong kind, is an error.
func Config[T xent.Float](c *Case) (xent.Config[T], error) {
	loss, err := xent.ParseLoss(c.Loss)
	if err != nil {
		return xent.Config[T]{}, err
	}
	red, err := xent.ParseReduction(c.Options.Reduction)
	if err != nil {
		return xent.Config[T]{}, err
	}
	cfg := xent.Config[T]{Loss: loss, Reduction: red, GradOutput: Convert[T](c.GradOutput)}
	for _, name := range slices.Sorted(maps.Keys(c.Options.Values)) {
		if err := set(&cfg, name, c.Options.Values[name]); err != nil {
			return xent.Config[T]{}, fmt.Errorf("golden: %s: %w", c.Name, err)
		}
	}
	return cfg, nil
}

// set sets one option of cfg from its reference value.
func set[T xent.Float](cfg *xent.Config[T], name string, v Values) error {
	o, ok := cfg.Loss.Option(name)
	if !ok {
		return fmt.Errorf("loss %s takes no option %q", cfg.Loss, name)
	}
	switch {
	case (o.Kind == xent.PerClass || o.Kind == xent.PerPosition) && !v.Scalar:
		return cfg.SetPerClass(name, Convert[T](v.List))
	case o.Kind == xent.Number && v.Scalar && !v.Bool:
		return cfg.SetNumber(name, v.List[0])
	case o.Kind == xent.Integer && v.Scalar && !v.Bool && v.List[0] == math.Trunc(v.List[0]):
		return cfg.SetInteger(name, int(v.List[0]))
	case o.Kind == xent.Switch && v.Bool:
		return cfg.SetSwitch(name, v.List[0] != 0)
	}
	return fmt.Errorf("option %s of loss %s is %s, not %v", name, cfg.Loss, o.Kind, v)
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
