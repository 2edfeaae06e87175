package xent_test

import (
	"testing"

	"github.com/xent-go/xent"
	"github.com/xent-go/xent/internal/golden"
	"github.com/xent-go/xent/internal/kernel"
)

// loadGolden loads the shared reference cases (testdata/golden) and those
// of tools/refgen (testdata/refgen): batchmean for every loss, K-dim shapes
// for every loss, ignore index with smoothing and no weights, more γ.
func loadGolden(t *testing.T) []golden.Case {
	t.Helper()
	var all []golden.Case
	for _, dir := range []string{"testdata/golden", "testdata/refgen", "testdata/golden-v2", "testdata/refgen-v2"} {
		cases, err := golden.Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, cases...)
	}
	return all
}

// TestEveryLossHasReferenceCases: each loss of the registry has reference
// cases computed with PyTorch, in float32 and in float64.
func TestEveryLossHasReferenceCases(t *testing.T) {
	count := map[string]int{}
	for _, c := range loadGolden(t) {
		loss, err := xent.ParseLoss(c.Loss)
		if err != nil {
			t.Fatalf("case %s: %v", c.Name, err)
		}
		count[string(loss)+" "+c.Dtype]++
	}
	for _, s := range xent.Specs() {
		for _, dtype := range []string{"float32", "float64"} {
			if count[string(s.Loss)+" "+dtype] == 0 {
				t.Errorf("loss %s has no %s reference case", s.Loss, dtype)
			}
		}
	}
}

// TestGolden runs every reference case in the precision it names, through
// the fused call, and checks value, gradient and per-position losses, on
// every kernel path this build has (assembly and plain Go).
// testdata/golden/README.md gives the format and the tolerances.
func TestGolden(t *testing.T) {
	cases := loadGolden(t)
	for _, path := range kernelPaths() {
		restore, _ := kernel.Use(path)
		for _, c := range cases {
			t.Run(path.String()+"/"+c.Name, func(t *testing.T) {
				if c.Dtype == "float32" {
					checkGolden[float32](t, &c)
				} else {
					checkGolden[float64](t, &c)
				}
			})
		}
		restore()
	}
}

// kernelPaths returns every kernel path this build and machine run: the
// assembly ones (AVX-512, AVX2) and the plain Go one.
func kernelPaths() []kernel.Path {
	var paths []kernel.Path
	for _, p := range []kernel.Path{kernel.AVX512, kernel.AVX2, kernel.Go} {
		if kernel.Supported(p) {
			paths = append(paths, p)
		}
	}
	return paths
}

// assemblyPaths returns the assembly paths among kernelPaths.
func assemblyPaths() []kernel.Path {
	paths := kernelPaths()
	return paths[:len(paths)-1]
}

func checkGolden[T xent.Float](t *testing.T, c *golden.Case) {
	t.Helper()
	cfg, err := golden.Config[T](c)
	if err != nil {
		t.Fatal(err)
	}
	logits := golden.Convert[T](c.Logits)
	var indices []int64
	var targets []T
	if cfg.Loss.IndexTargets() {
		indices = c.Indices()
	} else {
		targets = golden.Convert[T](c.Targets)
	}
	perLoss := len(indices)
	if cfg.Loss.PerElement() {
		perLoss = len(logits)
	} else if perLoss == 0 {
		perLoss = len(logits) / c.Shape[1]
	}
	out := xent.Output[T]{Grad: make([]T, len(logits)), Losses: make([]T, perLoss)}
	value, err := xent.Evaluate(cfg, c.Shape, logits, indices, targets, out)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Reduction == xent.None {
		if err := golden.Compare("losses", golden.Float64s(out.Losses), c.LossValue.List, c.Dtype); err != nil {
			t.Error(err)
		}
	} else if err := golden.Compare("loss", []float64{float64(value)}, c.LossValue.List, c.Dtype); err != nil {
		t.Error(err)
	}
	if err := golden.Compare("grad", golden.Float64s(out.Grad), c.Grad, c.Dtype); err != nil {
		t.Error(err)
	}

	// The value-only call gives the same value and losses, to the bit.
	valueOnly := xent.Output[T]{Losses: make([]T, perLoss)}
	v2, err := xent.Evaluate(cfg, c.Shape, logits, indices, targets, valueOnly)
	if err != nil {
		t.Fatal(err)
	}
	if v2 != value && !(v2 != v2 && value != value) {
		t.Errorf("value-only call gives %v, fused call %v", v2, value)
	}
	for i := range out.Losses {
		if out.Losses[i] != valueOnly.Losses[i] {
			t.Fatalf("losses[%d]: value-only %v, fused %v", i, valueOnly.Losses[i], out.Losses[i])
		}
	}
}

// TestClassBalancedWeights checks every class-balanced reference case.
func TestClassBalancedWeights(t *testing.T) {
	cases, err := golden.LoadClassBalanced("testdata/golden-v2")
	if err != nil || len(cases) == 0 {
		t.Fatalf("%d cases, %v", len(cases), err)
	}
	for _, c := range cases {
		w, err := xent.ClassBalancedWeights(c.Counts, c.Beta)
		if err != nil {
			t.Errorf("%s: %v", c.Name, err)
			continue
		}
		if err := golden.Compare(c.Name, w, c.Weights, "float64"); err != nil {
			t.Error(err)
		}
	}
}
