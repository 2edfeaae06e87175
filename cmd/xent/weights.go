package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/xent-go/xent"
	"github.com/xent-go/xent/internal/memlimit"
	"github.com/xent-go/xent/internal/npy"
	"github.com/xent-go/xent/internal/outfile"
)

const weightsSynopsis = `(--counts N0,N1,… | --targets T.npy [--classes C]) [--beta 0.999] [--out W.npy]

Prints the class-balanced weights of Cui et al. (2019) for the class
counts n_c: w_c = (1 − β)/(1 − β^n_c), normalised so that they add up to
the number of classes C (β = 0 gives every class 1; β near 1 approaches
inverse class frequencies). --targets counts them instead: class indices
(any integer type; the ignore index and any value outside [0, C) are not
counted, C = --classes or the largest index + 1), or multi-hot targets of
shape (N, C, d1…dk), where a class counts at each position its target is
positive. --out writes the weights as a float64 .npy of shape (C,), for
xent eval --weight.`

func runWeights(stdout, stderr io.Writer, args []string) error {
	fs := newFlagSet("weights", weightsSynopsis)
	countsFlag := fs.String("counts", "", "the class counts `N0,N1,…`, each ≥ 1")
	targets := fs.String("targets", "", "count the classes of the targets `T.npy` instead")
	classes := fs.Int("classes", 0, "the number of classes `C` of index targets (0: the largest index + 1)")
	ignore := fs.Int("ignore-index", xent.DefaultIgnoreIndex, "the index target that is not counted")
	beta := fs.Float64("beta", 0.999, "`β` in [0, 1)")
	out := fs.String("out", "", "write the weights to `W.npy`")
	if err := parseFlags(fs, stdout, args); err != nil {
		return err
	}
	if (*countsFlag == "") == (*targets == "") {
		return usagef("weights: give --counts or --targets, one of them")
	}
	if *classes < 0 || *classes > maxClasses {
		return usagef("weights: --classes %d: want 0 to %d", *classes, maxClasses)
	}
	var files outfile.Set
	if *targets != "" {
		files.Input(*targets)
	}
	var w []float64 // the weights, once computed, for the file
	if *out != "" {
		if err := files.Add("--out", *out, func(dst io.Writer) error { return npy.Write(dst, []int{len(w)}, w) }); err != nil {
			return usagef("weights: %v", err)
		}
	}
	return weightsTo(stdout, &files, *countsFlag, *targets, *classes, *ignore, *beta, &w)
}

// maxClasses bounds --classes and the classes counted from index targets.
const maxClasses = 1 << 24

// weightsTo counts, computes the weights into *w, and writes the table and
// the output file, all or none.
func weightsTo(stdout io.Writer, files *outfile.Set, countsFlag, targets string, classes, ignore int, beta float64, w *[]float64) error {
	var counts []int64
	var err error
	if countsFlag != "" {
		counts, err = parseCounts(countsFlag)
	} else {
		counts, err = countTargets(targets, classes, int64(ignore))
	}
	if err != nil {
		return err
	}
	if *w, err = xent.ClassBalancedWeights(counts, beta); err != nil {
		return err
	}
	var table bytes.Buffer
	fmt.Fprintf(&table, "class-balanced weights, β = %v, %s (they add up to %d)\n", beta, plural(len(counts), "class"), len(counts))
	fmt.Fprintf(&table, "%8s %12s %12s\n", "class", "count", "weight")
	for c, n := range counts {
		fmt.Fprintf(&table, "%8d %12d %12.6g\n", c, n, (*w)[c])
	}
	return files.Commit(func() error { return writeStdout(stdout, table.Bytes()) })
}

// parseCounts reads "500,50,5".
func parseCounts(s string) ([]int64, error) {
	parts := strings.Split(s, ",")
	if len(parts) > maxClasses {
		return nil, usagef("weights: --counts has %d classes; at most %d", len(parts), maxClasses)
	}
	counts := make([]int64, len(parts))
	for i, p := range parts {
		n, err := strconv.ParseInt(strings.TrimSpace(p), 10, 64)
		if err != nil {
			return nil, usagef("weights: --counts: class %d's count %q is not a whole number", i, p)
		}
		counts[i] = n
	}
	return counts, nil
}

// countTargets counts the classes of index or multi-hot targets.
func countTargets(path string, classes int, ignore int64) ([]int64, error) {
	t, err := npy.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if t.Kind == 'i' || t.Kind == 'u' {
		idx, err := t.Int64s()
		if err != nil {
			if re := (*npy.RangeError)(nil); errors.As(err, &re) {
				return nil, fmt.Errorf("%s: target %d at position %d is too large to count", path, re.Value, re.Index)
			}
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if classes == 0 {
			for _, y := range idx {
				if y != ignore && y >= 0 {
					if y >= maxClasses {
						return nil, fmt.Errorf("%s: class index %d is above %d; give --classes", path, y, maxClasses-1)
					}
					classes = max(classes, int(y)+1)
				}
			}
		}
		counts := make([]int64, classes)
		for _, y := range idx {
			if y != ignore && y >= 0 && y < int64(classes) {
				counts[y]++
			}
		}
		return counts, nil
	}
	if len(t.Shape) < 2 || t.Shape[1] == 0 {
		return nil, fmt.Errorf("%s: multi-hot targets of shape %s; want (N, C, d1…dk)", path, shapeString(t.Shape))
	}
	if err := memlimit.Check(memlimit.Bytes(t.Len(), 8), "counting "+path); err != nil {
		return nil, err
	}
	v, err := readAnyFloats[float64](t, path)
	if err != nil {
		return nil, err
	}
	c := t.Shape[1]
	inner := t.Len() / max(1, t.Shape[0]*c)
	counts := make([]int64, c)
	for i, x := range v {
		if math.IsNaN(x) {
			return nil, fmt.Errorf("%s: target %d is NaN", path, i)
		}
		if x > 0 {
			counts[(i/inner)%c]++
		}
	}
	return counts, nil
}
