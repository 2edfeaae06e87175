package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"runtime"
	"time"

	"github.com/xent-go/xent"
	"github.com/xent-go/xent/internal/memlimit"
	"github.com/xent-go/xent/linear"
)

// linearReport is what xent bench --loss linear-softmax prints.
type linearReport struct {
	Loss         string  `json:"loss"`
	Shape        []int   `json:"shape"` // N, D, C
	Dtype        string  `json:"dtype"`
	Workers      int     `json:"workers"`
	Path         string  `json:"path"`
	Materialized bool    `json:"materialized"`
	ChunkRows    int     `json:"chunk_rows,omitempty"`
	MsPerCall    float64 `json:"ms_per_call"`
	GFlopPerS    float64 `json:"gflop_per_s"` // of the three matrix products, 6·N·D·C flops
	ExtraBytes   int     `json:"extra_bytes"` // N×C-shaped scratch: chunks, or the whole logits and gradient
	MaxRSSBytes  int64   `json:"max_rss_bytes"`
	AllocsPerOp  float64 `json:"allocs_per_op"`
	Runs         int     `json:"runs"`
}

// runBenchLinear times linear.SoftmaxCrossEntropy (or, with materialized,
// linear.Materialized) with all three gradients on random data of shape
// NxDxC, and reports the process's peak resident memory, so that the two
// are compared in separate processes.
func runBenchLinear(stdout io.Writer, shapeFlag, dtype string, workers, runs int, minTime time.Duration, materialized bool, chunk int, asJSON bool) error {
	shape, err := parseDims(shapeFlag) // N, D and C, not a tensor's shape
	if err != nil {
		return err
	}
	if len(shape) != 3 {
		return usagef("bench: linear-softmax takes --shape NxDxC, not %q", shapeFlag)
	}
	if dtype != "float32" && dtype != "float64" {
		return usagef("bench: --dtype %q: want float32 or float64", dtype)
	}
	n, d, c := shape[0], shape[1], shape[2]
	size := 4
	if dtype == "float64" {
		size = 8
	}
	// H and its gradient, W and its gradient, the bias, the labels, and the
	// N×C-shaped scratch of the chunks or of the materialized logits.
	var elements uint64
	for _, e := range []uint64{memlimit.Bytes(n, 2*d), memlimit.Bytes(c, 2*d+2), memlimit.Bytes(n, 1), memlimit.Bytes(n, 2*c)} {
		elements = memlimit.Add(elements, e)
	}
	if err := memlimit.Check(memlimit.Bytes(int(min(elements, math.MaxInt/8)), size), "linear-softmax at "+shapeFlag); err != nil {
		return err
	}
	if workers == 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	var r linearReport
	if dtype == "float32" {
		r, err = benchLinear[float32](shape, workers, runs, minTime, materialized, chunk)
	} else {
		r, err = benchLinear[float64](shape, workers, runs, minTime, materialized, chunk)
	}
	if err != nil {
		return err
	}
	if asJSON {
		return json.NewEncoder(stdout).Encode(r)
	}
	how := "chunked"
	if materialized {
		how = "materialized"
	}
	fmt.Fprintf(stdout, "linear-softmax %s %s, %s, %s, path %s: %.1f ms/call, %.1f GFLOP/s, extra %.1f MiB, peak RSS %.1f MiB, %s\n",
		shapeString(r.Shape), r.Dtype, how, plural(r.Workers, "worker"), r.Path, r.MsPerCall, r.GFlopPerS, float64(r.ExtraBytes)/(1<<20), float64(r.MaxRSSBytes)/(1<<20), medianOf(r.Runs))
	return nil
}

func benchLinear[T xent.Float](shape []int, workers, runs int, minTime time.Duration, materialized bool, chunk int) (linearReport, error) {
	n, d, c := shape[0], shape[1], shape[2]
	rng := rand.New(rand.NewPCG(1, 2))
	h, w, b, y := make([]T, n*d), make([]T, c*d), make([]T, c), make([]int64, n)
	for i := range h {
		h[i] = T(rng.NormFloat64())
	}
	for i := range w {
		w[i] = T(0.05 * rng.NormFloat64())
	}
	for i := range y {
		y[i] = int64(rng.IntN(c))
	}
	out := linear.Output[T]{H: make([]T, n*d), W: make([]T, c*d), Bias: make([]T, c)}
	call := func() error {
		_, err := linear.SoftmaxCrossEntropy(n, d, c, h, w, b, y, linear.Options[T]{Workers: workers, ChunkRows: chunk}, out)
		return err
	}
	extra := linear.ScratchBytes[T](n, c, chunk)
	if materialized {
		call = func() error {
			linear.Materialized(n, d, c, h, w, b, y, xent.SoftmaxOptions[T]{}, workers)
			return nil
		}
		var zero T
		extra = 2 * n * c * int(sizeOf(zero))
	}
	if err := call(); err != nil {
		return linearReport{}, err
	}
	times := make([]float64, runs)
	var allocs float64
	for i := range runs {
		var err error
		if times[i], allocs, err = timePerOp(call, minTime); err != nil {
			return linearReport{}, err
		}
	}
	t := median(times)
	return linearReport{
		Loss: "linear-softmax", Shape: shape, Dtype: dtypeOf[T](), Workers: workers, Path: xent.KernelPath(),
		Materialized: materialized, ChunkRows: chunkRows(materialized, chunk, n, c), MsPerCall: t * 1e3, GFlopPerS: 6 * float64(n) * float64(d) * float64(c) / t / 1e9,
		ExtraBytes: extra, MaxRSSBytes: maxRSS(), AllocsPerOp: allocs, Runs: runs,
	}, nil
}

// chunkRows is the chunk of the chunked path (none for the materialized).
func chunkRows(materialized bool, chunk, n, c int) int {
	if materialized {
		return 0
	}
	if chunk == 0 {
		return linear.ChunkRows[float32](n, c)
	}
	return chunk
}
