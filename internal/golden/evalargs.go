package golden

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/xent-go/xent"
	"github.com/xent-go/xent/internal/npy"
)

// EvalArgs writes the case's arrays as .npy files into dir and returns the
// arguments of `xent eval` that compute it, without the outputs: the loss,
// the reduction, the logits and targets and every option the case sets.
// Index targets are written as int32 when narrow is true, int64 otherwise;
// floats in the case's dtype.
func EvalArgs(c *Case, dir string, narrow bool) ([]string, error) {
	loss, err := xent.ParseLoss(c.Loss)
	if err != nil {
		return nil, err
	}
	var failed error
	file := func(name string, shape []int, data any) string {
		path := filepath.Join(dir, name)
		if err := npy.WriteFile(path, shape, data); err != nil && failed == nil {
			failed = err
		}
		return path
	}
	floats := func(v []float64) any {
		if c.Dtype == "float32" {
			return Convert[float32](v)
		}
		return v
	}
	args := []string{"eval", "--loss", strings.ReplaceAll(c.Loss, "_", "-"), "--reduction", c.Options.Reduction,
		"--logits", file("x.npy", c.Shape, floats(c.Logits))}
	switch {
	case !loss.IndexTargets():
		args = append(args, "--targets", file("t.npy", c.TargetShape, floats(c.Targets)))
	case narrow:
		indices := make([]int32, len(c.Targets))
		for i, v := range c.Targets {
			indices[i] = int32(v)
		}
		args = append(args, "--targets", file("t.npy", c.TargetShape, indices))
	default:
		args = append(args, "--targets", file("t.npy", c.TargetShape, c.Indices()))
	}
	o := c.Options
	if o.Weight != nil {
		args = append(args, "--weight", file("w.npy", []int{len(o.Weight)}, floats(o.Weight)))
	}
	if o.PosWeight != nil {
		args = append(args, "--pos-weight", file("q.npy", []int{len(o.PosWeight)}, floats(o.PosWeight)))
	}
	if o.IgnoreIndex != nil {
		args = append(args, "--ignore-index", fmt.Sprint(*o.IgnoreIndex))
	}
	if o.LabelSmoothing != nil {
		args = append(args, "--label-smoothing", fmt.Sprint(*o.LabelSmoothing))
	}
	if o.Gamma != nil {
		args = append(args, "--gamma", fmt.Sprint(*o.Gamma))
	}
	if o.Alpha.List != nil {
		if o.Alpha.Scalar {
			args = append(args, "--alpha", fmt.Sprint(o.Alpha.List[0]))
		} else {
			args = append(args, "--alpha-file", file("a.npy", []int{len(o.Alpha.List)}, floats(o.Alpha.List)))
		}
	}
	if c.GradOutput != nil {
		lossShape := slices.Delete(slices.Clone(c.Shape), 1, 2)
		if loss.PerElement() {
			lossShape = c.Shape
		}
		args = append(args, "--grad-output", file("g.npy", lossShape, floats(c.GradOutput)))
	}
	return args, failed
}

// LoadAll reads the cases of every directory in turn.
func LoadAll(dirs ...string) ([]Case, error) {
	var all []Case
	for _, dir := range dirs {
		cases, err := Load(dir)
		if err != nil {
			return nil, err
		}
		all = append(all, cases...)
	}
	return all, nil
}
