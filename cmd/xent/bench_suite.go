package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/xent-go/xent"
)

// A benchSuite is a matrix of cases that `xent bench --suite` times in one
// process, round by round (each round times every case and its copy
// ceiling once, in order), so that every figure and every ratio comes
// from the same run of the same machine: a ratio's median is the median
// over rounds of the two cases' times in that round.
type benchSuite struct {
	about  string
	cases  []suiteCase
	ratios []suiteRatio
}

// suiteCase is a case by its name and its xent bench flags (all but the
// dtype, workers and path, which the suite's flags set for every case).
type suiteCase struct{ name, args string }

// suiteRatio is the time of case a over that of case b.
type suiteRatio struct{ name, a, b string }

// benchSuites are the suites by name.
var benchSuites = map[string]benchSuite{
	// The shapes convolutional networks train on, and long rows.
	"cnn": {about: "the shapes CNNs train on: dense (N, C, H, W) maps, few classes, long rows", cases: []suiteCase{
		{"softmax 16x21x64x64", "--loss softmax --shape 16x21x64x64"},
		{"softmax 8x19x128x128", "--loss softmax --shape 8x19x128x128"},
		{"softmax-focal 16x21x64x64", "--loss softmax-focal --shape 16x21x64x64"},
		{"multilabel-softmax 16x21x64x64", "--loss multilabel-softmax --shape 16x21x64x64"},
		{"softmax 65536x10", "--loss softmax --shape 65536x10"},
		{"softmax 65536x21", "--loss softmax --shape 65536x21"},
		{"softmax 4096x1000", "--loss softmax --shape 4096x1000"},
		{"softmax-prob 4096x1000", "--loss softmax-prob --shape 4096x1000"},
		{"multilabel-softmax 4096x1000", "--loss multilabel-softmax --shape 4096x1000"},
		{"sigmoid 4096x1000", "--loss sigmoid --shape 4096x1000"},
		{"sigmoid-focal 4096x1000", "--loss sigmoid-focal --shape 4096x1000"},
		{"sigmoid-focal 16x80x32x32", "--loss sigmoid-focal --shape 16x80x32x32"},
	}},
	// What the added losses and options cost against the calls without
	// them.
	"options": {about: "the asymmetric loss, Poly-1 and sample weights against the calls without them", cases: []suiteCase{
		{"sigmoid-focal 4096x1000", "--loss sigmoid-focal --shape 4096x1000"},
		{"asymmetric 4096x1000", "--loss asymmetric --shape 4096x1000"},
		{"softmax 65536x10", "--loss softmax --shape 65536x10"},
		{"softmax poly 65536x10", "--loss softmax --shape 65536x10 --poly-epsilon 1"},
		{"softmax sw 65536x10", "--loss softmax --shape 65536x10 --sample-weight random"},
		{"softmax 16x21x64x64", "--loss softmax --shape 16x21x64x64"},
		{"softmax poly 16x21x64x64", "--loss softmax --shape 16x21x64x64 --poly-epsilon 1"},
		{"softmax sw 16x21x64x64", "--loss softmax --shape 16x21x64x64 --sample-weight random"},
		{"softmax 4096x1000", "--loss softmax --shape 4096x1000"},
		{"softmax poly 4096x1000", "--loss softmax --shape 4096x1000 --poly-epsilon 1"},
		{"softmax sw 4096x1000", "--loss softmax --shape 4096x1000 --sample-weight random"},
		{"sigmoid 4096x1000", "--loss sigmoid --shape 4096x1000"},
		{"sigmoid sw 4096x1000", "--loss sigmoid --shape 4096x1000 --sample-weight random"},
		{"sigmoid-focal sw 4096x1000", "--loss sigmoid-focal --shape 4096x1000 --sample-weight random"},
		{"asymmetric sw 4096x1000", "--loss asymmetric --shape 4096x1000 --sample-weight random"},
	}, ratios: []suiteRatio{
		{"asymmetric / sigmoid-focal, 4096x1000", "asymmetric 4096x1000", "sigmoid-focal 4096x1000"},
		{"Poly-1 / softmax, 65536x10", "softmax poly 65536x10", "softmax 65536x10"},
		{"Poly-1 / softmax, 16x21x64x64", "softmax poly 16x21x64x64", "softmax 16x21x64x64"},
		{"Poly-1 / softmax, 4096x1000", "softmax poly 4096x1000", "softmax 4096x1000"},
		{"sample weights / none, softmax 65536x10", "softmax sw 65536x10", "softmax 65536x10"},
		{"sample weights / none, softmax 16x21x64x64", "softmax sw 16x21x64x64", "softmax 16x21x64x64"},
		{"sample weights / none, softmax 4096x1000", "softmax sw 4096x1000", "softmax 4096x1000"},
		{"sample weights / none, sigmoid 4096x1000", "sigmoid sw 4096x1000", "sigmoid 4096x1000"},
		{"sample weights / none, sigmoid-focal 4096x1000", "sigmoid-focal sw 4096x1000", "sigmoid-focal 4096x1000"},
		{"sample weights / none, asymmetric 4096x1000", "asymmetric sw 4096x1000", "asymmetric 4096x1000"},
	}},
}

// suiteNames lists the suites, sorted.
func suiteNames() []string {
	var names []string
	for n := range benchSuites {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// suiteReport is what xent bench --suite prints; with --json, one object.
type suiteReport struct {
	Suite   string        `json:"suite"`
	CPU     string        `json:"cpu"`
	Dtype   string        `json:"dtype"`
	Workers int           `json:"workers"`
	Path    string        `json:"path"`
	Runs    int           `json:"runs"`
	Cases   []suiteResult `json:"cases"`
	Ratios  []ratioResult `json:"ratios,omitempty"`
}

// suiteResult is one case's medians.
type suiteResult struct {
	Name string `json:"name"`
	benchReport
}

// ratioResult is one ratio's median over the rounds, and its range.
type ratioResult struct {
	Name   string  `json:"name"`
	Median float64 `json:"median"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
}

// runSuite times the suite's cases round by round and prints the report.
func runSuite(stdout io.Writer, name string, suite benchSuite, dtype string, workers, runs int, minTime time.Duration, asJSON bool) error {
	cases := make([]*benchCase, len(suite.cases))
	index := map[string]int{}
	for i, sc := range suite.cases {
		c, err := suiteCaseOf(sc, dtype, workers)
		if err != nil {
			return fmt.Errorf("bench --suite %s: %s: %w", name, sc.name, err)
		}
		cases[i], index[sc.name] = c, i
	}
	for _, q := range suite.ratios {
		for _, c := range []string{q.a, q.b} {
			if _, ok := index[c]; !ok {
				return fmt.Errorf("bench --suite %s: ratio %s names no case %q", name, q.name, c)
			}
		}
	}
	lossT, copyT := make([][]float64, len(cases)), make([][]float64, len(cases))
	allocs := make([]float64, len(cases))
	for range runs {
		for i, c := range cases {
			l, cp, a, err := c.time(minTime)
			if err != nil {
				return fmt.Errorf("bench --suite %s: %s: %w", name, suite.cases[i].name, err)
			}
			lossT[i], copyT[i], allocs[i] = append(lossT[i], l), append(copyT[i], cp), a
		}
	}
	r := suiteReport{Suite: name, CPU: cpuName(), Dtype: dtype, Workers: workers, Path: xent.KernelPath(), Runs: runs}
	for i, c := range cases {
		r.Cases = append(r.Cases, suiteResult{suite.cases[i].name, c.report(median(lossT[i]), median(copyT[i]), allocs[i], runs)})
	}
	for _, q := range suite.ratios {
		a, b := index[q.a], index[q.b]
		v := make([]float64, runs)
		for k := range v {
			v[k] = lossT[a][k] / lossT[b][k]
		}
		r.Ratios = append(r.Ratios, ratioResult{Name: q.name, Median: median(v), Min: slices.Min(v), Max: slices.Max(v)})
	}
	if asJSON {
		return json.NewEncoder(stdout).Encode(r)
	}
	fmt.Fprintf(stdout, "xent bench --suite %s (%s)\n%s, %s, %s, path %s, %s\n\n", name, suite.about, r.CPU, r.Dtype,
		plural(r.Workers, "worker"), r.Path, medianOf(runs))
	// Names left-aligned (padded to one width), numbers right-aligned.
	left := func(names []string) func(string) string {
		w := 0
		for _, n := range names {
			w = max(w, len([]rune(n)))
		}
		return func(n string) string { return n + strings.Repeat(" ", w-len([]rune(n))) }
	}
	var names []string
	for _, c := range r.Cases {
		names = append(names, c.Name)
	}
	pad := left(append(names, "case"))
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "%s\tns/element\tGB/s\tcopy GB/s\tof copy\tallocs/op\t\n", pad("case"))
	for _, c := range r.Cases {
		fmt.Fprintf(tw, "%s\t%.3f\t%.1f\t%.1f\t%.0f%%\t%.0f\t\n", pad(c.Name), c.NsPerElement, c.GBPerS, c.CopyGBPerS, 100*c.CopyRatio, c.AllocsPerOp)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(r.Ratios) == 0 {
		return nil
	}
	names = []string{"ratio of times, same rounds"}
	for _, q := range r.Ratios {
		names = append(names, q.Name)
	}
	pad = left(names)
	fmt.Fprintln(stdout)
	tw = tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "%s\tmedian\tmin\tmax\t\n", pad(names[0]))
	for _, q := range r.Ratios {
		fmt.Fprintf(tw, "%s\t%.3f\t%.3f\t%.3f\t\n", pad(q.Name), q.Median, q.Min, q.Max)
	}
	return tw.Flush()
}

// suiteCaseOf parses a case's flags as xent bench does and prepares it.
func suiteCaseOf(sc suiteCase, dtype string, workers int) (*benchCase, error) {
	fs := newFlagSet("bench", benchSynopsis)
	var lf lossFlags
	lf.register(fs)
	shapeFlag := fs.String("shape", "", "")
	if err := fs.Parse(strings.Fields(sc.args)); err != nil {
		return nil, err
	}
	ch, err := lf.choose(fs)
	if err != nil {
		return nil, err
	}
	shape, err := parseShape(*shapeFlag)
	if err != nil {
		return nil, err
	}
	if dtype == "float64" {
		return newBenchCase[float64](&lf, ch, shape, workers)
	}
	return newBenchCase[float32](&lf, ch, shape, workers)
}

// cpuName is the processor's model name as Linux's /proc/cpuinfo gives
// it, or the architecture where that cannot be read.
func cpuName() string {
	f, err := os.Open("/proc/cpuinfo")
	if err == nil {
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				return strings.TrimSpace(v)
			}
		}
	}
	return "an unnamed " + runtime.GOARCH + " processor"
}
