package main

import (
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/xent-go/xent"
	"github.com/xent-go/xent/internal/gradcheck"
)

const gradcheckSynopsis = `--loss NAME [--shape NxC[xD…]] [flags]

Draws random logits in [−4, 4] and targets for the loss (a fifth of the
index targets ignored, soft targets for the sigmoid losses), computes the
gradient in float64, and compares it with a five-point central difference.
A per-class option takes a .npy file, as in xent eval, or the word random:
--weight random draws a weight in [0.1, 2.1] for each class.
Prints the worst relative error |fd − an| / max(|an|, 1e-3·max|an|) and
where it occurs; exits 1 when it is above --tolerance.`

func runGradcheck(stdout, stderr io.Writer, args []string) error {
	fs := newFlagSet("gradcheck", gradcheckSynopsis)
	var f lossFlags
	f.register(fs)
	shapeFlag := fs.String("shape", "4x5x3", "logits shape `NxC[xD…]`")
	seed := fs.Uint64("seed", 1, "random `seed`")
	upstream := fs.Bool("upstream", false, "draw a random upstream gradient (--reduction none)")
	tolerance := fs.Float64("tolerance", 1e-6, "largest relative error that passes")
	if err := parseFlags(fs, stdout, args); err != nil {
		return err
	}
	ch, err := f.choose(fs)
	if err != nil {
		return err
	}
	if !(*tolerance >= 0) || math.IsInf(*tolerance, 0) {
		return usagef("gradcheck: --tolerance %v: want a finite number ≥ 0", *tolerance)
	}
	shape, err := parseShape(*shapeFlag)
	if err != nil {
		return err
	}
	if n := elementsOf(shape); n > maxGradcheckLogits {
		return usagef("gradcheck: --shape %s has %d logits; finite differences evaluate the loss four times per logit, so at most %d are checked", *shapeFlag, n, maxGradcheckLogits)
	}
	rng := rand.New(rand.NewPCG(*seed, 0x9e3779b97f4a7c15))
	cfg, err := configOf[float64](&f, ch, shape, rng)
	if err != nil {
		return err
	}
	logits, indices, targets := gradcheck.RandomInputs(rng, cfg.Loss, shape)
	if cfg.IgnoreIndex != nil {
		for p := range indices {
			if indices[p] == xent.DefaultIgnoreIndex {
				indices[p] = int64(*cfg.IgnoreIndex)
			}
		}
	}
	if *upstream {
		if cfg.Reduction != xent.None {
			return usagef("--upstream needs --reduction none")
		}
		n := len(logits)
		if !cfg.Loss.PerElement() {
			n /= shape[1]
		}
		cfg.GradOutput = make([]float64, n)
		for i := range cfg.GradOutput {
			cfg.GradOutput[i] = 4*rng.Float64() - 2
		}
	}
	r, err := gradcheck.Check(cfg, shape, logits, indices, targets)
	if err != nil {
		return err
	}
	verdict := "ok"
	if !(r.WorstRelative <= *tolerance) {
		verdict = "FAIL"
	}
	fmt.Fprintf(stdout, "%s %s %s, %d logits: worst relative error %.3g at logit %d (analytic %.12g, finite difference %.12g): %s\n",
		cfg.Loss, cfg.Reduction, shapeString(shape), len(logits), r.WorstRelative, r.WorstAt, r.Analytic, r.Numeric, verdict)
	if verdict != "ok" {
		return fmt.Errorf("gradcheck: relative error %.3g is above the tolerance %.3g", r.WorstRelative, *tolerance)
	}
	return nil
}

// maxGradcheckLogits bounds gradcheck's shape: its work grows as the
// square of the logits (four evaluations of the whole loss per logit).
const maxGradcheckLogits = 1 << 16

// elementsOf returns the number of elements of a tensor of the shape.
func elementsOf(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// parseShape reads "4x10" or "2x3x8x8": at least two positive dimensions
// whose product, a tensor's size, fits in 2^31.
func parseShape(s string) ([]int, error) {
	shape, err := parseDims(s)
	if err != nil {
		return nil, err
	}
	total := 1
	for _, d := range shape {
		if int64(total) > (1<<31)/int64(d) {
			return nil, usagef("shape %q has more than 2^31 elements", s)
		}
		total *= d
	}
	return shape, nil
}

// parseDims reads at least two positive dimensions separated by x.
func parseDims(s string) ([]int, error) {
	parts := strings.Split(s, "x")
	if len(parts) < 2 {
		return nil, usagef("shape %q: want NxC[xD…], such as 4x10", s)
	}
	shape := make([]int, len(parts))
	for i, p := range parts {
		d, err := strconv.Atoi(p)
		if err != nil || d < 1 || d > 1<<30 {
			return nil, usagef("shape %q: dimension %q is not a whole number from 1 to 2^30", s, p)
		}
		shape[i] = d
	}
	return shape, nil
}
