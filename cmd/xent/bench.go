package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/xent-go/xent"
	"github.com/xent-go/xent/internal/gradcheck"
	"github.com/xent-go/xent/internal/memlimit"
)

const benchSynopsis = `--loss NAME --shape NxC[xD…] [loss flags] [--dtype float32|float64] [--workers W] [--json]
       xent bench --suite cnn|options [--dtype float32|float64] [--workers W] [--json]
       xent bench --loss linear-softmax --shape NxDxC [--materialized] [--chunk R] [--json]

Times the fused value+gradient call of a loss on random inputs of the
shape, with the options the flags give (xent eval's; a per-class or
per-position file may be the word random: values drawn in [0.1, 2.1]),
and, interleaved in the same process, a copy of the logits into the
gradient buffer on as many goroutines: the same bytes read and written,
the memory-bus ceiling. Prints the medians of --runs runs, each at least
--min-time long; copy_ratio is the copy's time over the loss's.

With --suite it times a matrix of cases in one process instead, round by
round (each round every case and its copy once), and prints each case's
medians and the medians over rounds of its ratios: cnn, the shapes
convolutional networks train on (dense (N, C, H, W) maps, few classes,
long rows); options, the asymmetric loss, Poly-1 and sample weights each
against the call without them. The report names the CPU.

With --loss linear-softmax it times package linear's fused linear layer +
softmax cross-entropy (H N×D, W C×D, all three gradients) instead, or with
--materialized the same computation holding all N×C logits, and reports
the N×C-shaped scratch and the process's peak resident memory: run each in
a process of its own (bench/linear.sh does) to compare them.`

// benchReport is what xent bench prints; with --json, one object.
type benchReport struct {
	Loss         string   `json:"loss"`
	Options      []string `json:"options,omitempty"` // the option flags given
	Shape        []int    `json:"shape"`
	Dtype        string   `json:"dtype"`
	Workers      int      `json:"workers"`
	Path         string   `json:"path"`
	NsPerElement float64  `json:"ns_per_element"`
	GBPerS       float64  `json:"gb_per_s"`
	AllocsPerOp  float64  `json:"allocs_per_op"`
	CopyGBPerS   float64  `json:"copy_gb_per_s"`
	CopyRatio    float64  `json:"copy_ratio"`
	Runs         int      `json:"runs"`
}

func runBench(stdout, stderr io.Writer, args []string) error {
	fs := newFlagSet("bench", benchSynopsis)
	var lf lossFlags
	lf.register(fs) // --loss also takes linear-softmax with --shape NxDxC: the fused linear layer
	shapeFlag := fs.String("shape", "4096x1000", "logits shape `NxC[xD…]`")
	dtype := fs.String("dtype", "float32", "float32 or float64")
	workers := fs.Int("workers", 0, "goroutines (0: GOMAXPROCS)")
	runs := fs.Int("runs", 5, "timed runs; the median is printed")
	minTime := fs.Duration("min-time", 200*time.Millisecond, "least duration of one run")
	path := fs.String("path", "", "kernel path: go, avx2 or avx512, as the machine runs them; default the fastest")
	asJSON := fs.Bool("json", false, "print one JSON object")
	materialized := fs.Bool("materialized", false, "linear-softmax: time the direct path that holds all N×C logits instead")
	chunk := fs.Int("chunk", 0, "linear-softmax: rows per chunk (0: chosen from the shapes)")
	suite := fs.String("suite", "", "time a suite of cases in one run: "+strings.Join(suiteNames(), " or "))
	if err := parseFlags(fs, stdout, args); err != nil {
		return err
	}
	if *suite != "" {
		return runBenchSuite(stdout, fs, *suite, *dtype, *workers, *runs, *minTime, *path, *asJSON)
	}
	if lf.loss == "" {
		return usagef("bench: --loss is required")
	}
	if err := checkBenchFlags(*runs, *minTime, *workers); err != nil {
		return err
	}
	if *chunk < 0 {
		return usagef("bench: --chunk %d: want 0 (chosen from the shapes) or more", *chunk)
	}
	var given []string // the option flags, for the report
	fs.Visit(func(f *flag.Flag) {
		if _, _, known := optionOfFlag("", f.Name); known || f.Name == "reduction" {
			given = append(given, "--"+f.Name+" "+f.Value.String())
		}
	})
	if lf.loss == "linear-softmax" {
		if len(given) > 0 {
			return usagef("bench: %s: linear-softmax takes no loss options", given[0])
		}
		return runBenchLinear(stdout, *shapeFlag, *dtype, *workers, *runs, *minTime, *materialized, *chunk, *asJSON)
	}
	if *materialized || setFlags(fs)["chunk"] {
		return usagef("bench: --materialized and --chunk apply to --loss linear-softmax")
	}
	ch, err := lf.choose(fs)
	if err != nil {
		return err
	}
	shape, err := parseShape(*shapeFlag)
	if err != nil {
		return err
	}
	restore, err := useBenchPath(*path)
	if err != nil {
		return err
	}
	defer restore()
	w := *workers
	if w == 0 {
		w = runtime.GOMAXPROCS(0)
	}
	var r benchReport
	switch *dtype {
	case "float32":
		r, err = benchLoss[float32](&lf, ch, shape, w, *runs, *minTime)
	case "float64":
		r, err = benchLoss[float64](&lf, ch, shape, w, *runs, *minTime)
	default:
		return usagef("bench: --dtype %q: want float32 or float64", *dtype)
	}
	if err != nil {
		return err
	}
	r.Options = given
	if *asJSON {
		return json.NewEncoder(stdout).Encode(r)
	}
	options := ""
	if len(given) > 0 {
		options = " " + strings.Join(given, " ")
	}
	fmt.Fprintf(stdout, "%s%s %s %s, %s, path %s: %.3f ns/element, %.1f GB/s (copy %.1f GB/s: %.0f%%), %.0f allocs/op, %s\n",
		r.Loss, options, shapeString(r.Shape), r.Dtype, plural(r.Workers, "worker"), r.Path, r.NsPerElement, r.GBPerS, r.CopyGBPerS, 100*r.CopyRatio, r.AllocsPerOp, medianOf(r.Runs))
	return nil
}

// runBenchSuite checks the flags of bench --suite and runs the suite.
func runBenchSuite(stdout io.Writer, fs *flag.FlagSet, name, dtype string, workers, runs int, minTime time.Duration, path string, asJSON bool) error {
	suite, ok := benchSuites[name]
	if !ok {
		return usagef("bench: --suite %q: want %s", name, strings.Join(suiteNames(), " or "))
	}
	for f := range setFlags(fs) {
		switch f {
		case "suite", "dtype", "workers", "runs", "min-time", "path", "json":
		default:
			return usagef("bench: --%s does not go with --suite, whose cases set their own losses and shapes", f)
		}
	}
	if err := checkBenchFlags(runs, minTime, workers); err != nil {
		return err
	}
	if dtype != "float32" && dtype != "float64" {
		return usagef("bench: --dtype %q: want float32 or float64", dtype)
	}
	restore, err := useBenchPath(path)
	if err != nil {
		return err
	}
	defer restore()
	if workers == 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	return runSuite(stdout, name, suite, dtype, workers, runs, minTime, asJSON)
}

// useBenchPath switches the losses to the kernel path --path names (none:
// the fastest) and returns the function that switches back.
func useBenchPath(path string) (restore func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	if restore, err = xent.UseKernelPath(path); err != nil {
		return nil, usagef("bench: %v", err)
	}
	return restore, nil
}

// checkBenchFlags checks the flags that bound a measurement.
func checkBenchFlags(runs int, minTime time.Duration, workers int) error {
	switch {
	case runs < 1 || runs > maxRuns:
		return usagef("bench: --runs %d: want 1 to %d", runs, maxRuns)
	case minTime <= 0 || minTime > maxMinTime:
		return usagef("bench: --min-time %v: want more than 0 and at most %v", minTime, maxMinTime)
	case workers < 0 || workers > maxWorkers:
		return usagef("bench: --workers %d: want 0 (GOMAXPROCS) to %d", workers, maxWorkers)
	}
	return nil
}

// The bounds of bench's flags: enough for any measurement, and small
// enough that no flag can make the command allocate without bound.
const (
	maxRuns    = 1000
	maxMinTime = time.Hour
	maxWorkers = 4096
)

func benchLoss[T xent.Float](lf *lossFlags, ch choice, shape []int, workers, runs int, minTime time.Duration) (benchReport, error) {
	c, err := newBenchCase[T](lf, ch, shape, workers)
	if err != nil {
		return benchReport{}, err
	}
	lossTimes, copyTimes := make([]float64, runs), make([]float64, runs)
	var allocs float64
	for i := range runs { // interleaved, so that both see the same machine
		var err error
		if lossTimes[i], copyTimes[i], allocs, err = c.time(minTime); err != nil {
			return benchReport{}, err
		}
	}
	return c.report(median(lossTimes), median(copyTimes), allocs, runs), nil
}

// benchCase is one loss call ready to time, with its copy ceiling.
type benchCase struct {
	loss           xent.Loss
	shape          []int
	dtype          string
	workers        int
	elements       int
	bytes          float64      // read and written by one call
	call, copyOnce func() error // the loss; the copy of the logits into the gradient buffer
}

// newBenchCase draws the inputs of the choice at the shape and checks
// that the call runs.
func newBenchCase[T xent.Float](lf *lossFlags, ch choice, shape []int, workers int) (*benchCase, error) {
	loss := ch.loss
	elements := elementsOf(shape)
	var zero T
	// float64 logits and targets drawn, their T copies, and the gradient.
	need := memlimit.Bytes(elements, 8+8+3*int(sizeOf(zero)))
	if err := memlimit.Check(need, fmt.Sprintf("bench at shape %s", shapeString(shape))); err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(1, 2))
	logits64, indices, targets64 := gradcheck.RandomInputs(rng, loss, shape)
	logits, targets := convert[T](logits64), convert[T](targets64)
	grad := make([]T, len(logits))
	cfg, err := configOf[T](lf, ch, shape, rng)
	if err != nil {
		return nil, err
	}
	cfg.Workers = workers
	if cfg.Reduction == xent.None {
		cfg.GradOutput = nil // all ones
	}
	c := &benchCase{loss: loss, shape: slices.Clone(shape), dtype: dtypeOf[T](), workers: workers, elements: elements,
		bytes: float64(2 * elements * int(sizeOf(zero)))}
	c.call = func() error {
		_, err := xent.Evaluate(cfg, shape, logits, indices, targets, xent.Output[T]{Grad: grad})
		return err
	}
	if err := c.call(); err != nil {
		return nil, err
	}
	// The ceiling copies the logits into the gradient buffer: the very
	// bytes, pages and cache state the loss reads and writes, on as many
	// goroutines as the loss may use, each its share.
	c.copyOnce = func() error { parallelCopy(grad, logits, workers); return nil }
	return c, nil
}

// time runs the loss and then the copy for at least minTime each and
// returns their seconds per call and the loss's allocations per call.
func (c *benchCase) time(minTime time.Duration) (lossT, copyT, allocs float64, err error) {
	if lossT, allocs, err = timePerOp(c.call, minTime); err != nil {
		return 0, 0, 0, err
	}
	copyT, _, _ = timePerOp(c.copyOnce, minTime)
	return lossT, copyT, allocs, nil
}

// report is the case's report from its loss and copy times.
func (c *benchCase) report(lossT, copyT, allocs float64, runs int) benchReport {
	return benchReport{
		Path: xent.KernelPath(),
		Loss: string(c.loss), Shape: slices.Clone(c.shape), Dtype: c.dtype, Workers: c.workers,
		NsPerElement: lossT * 1e9 / float64(c.elements), GBPerS: c.bytes / lossT / 1e9,
		AllocsPerOp: allocs, CopyGBPerS: c.bytes / copyT / 1e9, CopyRatio: copyT / lossT, Runs: runs,
	}
}

// parallelCopy copies src into dst in workers equal parts at once.
func parallelCopy[T any](dst, src []T, workers int) {
	if workers <= 1 {
		copy(dst, src)
		return
	}
	var wg sync.WaitGroup
	part := (len(src) + workers - 1) / workers
	for lo := 0; lo < len(src); lo += part {
		hi := min(lo+part, len(src))
		wg.Add(1)
		go func() {
			defer wg.Done()
			copy(dst[lo:hi], src[lo:hi])
		}()
	}
	wg.Wait()
}

func sizeOf[T xent.Float](v T) uintptr {
	if _, ok := any(v).(float32); ok {
		return 4
	}
	return 8
}

// timePerOp calls f repeatedly for at least minTime and returns the
// seconds and the heap allocations per call.
func timePerOp(f func() error, minTime time.Duration) (float64, float64, error) {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	n := 0
	start := time.Now()
	for time.Since(start) < minTime {
		if err := f(); err != nil {
			return 0, 0, err
		}
		n++
	}
	elapsed := time.Since(start)
	runtime.ReadMemStats(&after)
	return elapsed.Seconds() / float64(n), float64(after.Mallocs-before.Mallocs) / float64(n), nil
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
