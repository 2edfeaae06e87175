package golden

import (
	"fmt"
	"maps"
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
	for _, name := range slices.Sorted(maps.Keys(c.Options.Values)) {
		o, ok := loss.Option(name)
		if !ok {
			return nil, fmt.Errorf("golden: %s: loss %s takes no option %q", c.Name, loss, name)
		}
		v := c.Options.Values[name]
		switch {
		case o.Kind == xent.PerClass && !v.Scalar:
			args = append(args, "--"+o.Flag, file(o.Flag+".npy", []int{len(v.List)}, floats(v.List)))
		case o.Kind == xent.PerPosition && !v.Scalar:
			args = append(args, "--"+o.Flag, file(o.Flag+".npy", slices.Delete(slices.Clone(c.Shape), 1, 2), floats(v.List)))
		case o.Kind == xent.PerClass && o.Broadcast != "":
			args = append(args, "--"+o.Broadcast, fmt.Sprint(v.List[0]))
		case o.Kind == xent.Switch && v.Bool:
			args = append(args, fmt.Sprintf("--%s=%v", o.Flag, v.List[0] != 0))
		case v.Scalar && !v.Bool:
			args = append(args, "--"+o.Flag, fmt.Sprint(v.List[0]))
		default:
			return nil, fmt.Errorf("golden: %s: option %s is %s, not a list", c.Name, name, o.Kind)
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
