package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/xent-go/xent"
	"github.com/xent-go/xent/internal/golden"
	"github.com/xent-go/xent/internal/npy"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// TestMain lets the test binary act as the xent command, so that
// TestBinary can run it as a real process.
func TestMain(m *testing.M) {
	if os.Getenv("XENT_TEST_RUN_MAIN") == "1" {
		main()
	}
	os.Exit(m.Run())
}

// runCLI runs the command in-process and returns stdout, stderr as main
// would print it, and the exit status.
func runCLI(args ...string) (string, string, int) {
	var stdout, stderr bytes.Buffer
	err := run(&stdout, &stderr, args)
	if err != nil {
		msg := err.Error()
		if !strings.HasPrefix(msg, "xent: ") {
			msg = "xent: " + msg
		}
		fmt.Fprintln(&stderr, msg)
	}
	return stdout.String(), stderr.String(), exitCode(err)
}

func writeNpy(t *testing.T, path string, shape []int, data any) string {
	t.Helper()
	if err := npy.WriteFile(path, shape, data); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestEvalGolden runs every reference case through xent eval on .npy
// files and compares the loss and gradient it writes.
func TestEvalGolden(t *testing.T) {
	cases, err := golden.LoadAll("../../testdata/golden", "../../testdata/refgen", "../../testdata/golden-v2", "../../testdata/refgen-v2")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			file := func(name string) string { return filepath.Join(dir, name) }
			args, err := golden.EvalArgs(&c, dir, len(c.Name)%2 == 0) // both integer widths
			if err != nil {
				t.Fatal(err)
			}
			args = append(args, "--out-loss", file("l.npy"), "--out-grad", file("d.npy"))
			stdout, stderr, code := runCLI(args...)
			if code != 0 {
				t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
			}
			if !strings.Contains(stdout, "gradient written to") {
				t.Errorf("stdout: %s", stdout)
			}
			gotLoss, gotGrad := readFloats64(t, file("l.npy"), c.Dtype), readFloats64(t, file("d.npy"), c.Dtype)
			if err := golden.Compare("loss", gotLoss, c.LossValue.List, c.Dtype); err != nil {
				t.Error(err)
			}
			if err := golden.Compare("grad", gotGrad, c.Grad, c.Dtype); err != nil {
				t.Error(err)
			}
		})
	}
}

// readFloats64 reads a .npy file that must have the given dtype.
func readFloats64(t *testing.T, path, dtype string) []float64 {
	t.Helper()
	a, err := npy.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if dtype == "float32" {
		v, err := a.Float32s()
		if err != nil {
			t.Fatal(err)
		}
		return golden.Float64s(v)
	}
	v, err := a.Float64s()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestEvalBadInvocations: each bad invocation or input exits 2 or 1 with a
// one-line "xent:" message on stderr saying what is wrong, prints nothing
// on stdout, and writes no output file.
func TestEvalBadInvocations(t *testing.T) {
	dir := t.TempDir()
	f := func(name string) string { return filepath.Join(dir, name) }
	x := writeNpy(t, f("x.npy"), []int{2, 3}, []float32{1, 2, 3, 4, 5, 6})
	x64 := writeNpy(t, f("x64.npy"), []int{2, 3}, []float64{1, 2, 3, 4, 5, 6})
	xInt := writeNpy(t, f("xint.npy"), []int{2, 3}, []int64{1, 2, 3, 4, 5, 6})
	x1d := writeNpy(t, f("x1d.npy"), []int{6}, []float32{1, 2, 3, 4, 5, 6})
	idx := writeNpy(t, f("idx.npy"), []int{2}, []int64{0, 2})
	idx3f := writeNpy(t, f("s3.npy"), []int{3}, []float32{1, 1, 1})
	sNeg := writeNpy(t, f("sneg.npy"), []int{2}, []float32{1, -1})
	idxBad := writeNpy(t, f("idxbad.npy"), []int{2}, []int64{0, 3})
	idx3 := writeNpy(t, f("idx3.npy"), []int{3}, []int64{0, 2, 1})
	idxFloat := writeNpy(t, f("idxf.npy"), []int{2}, []float32{0, 2})
	prob := writeNpy(t, f("p.npy"), []int{2, 3}, []float32{0, 1, 0, 1, 0, 0})
	prob64 := writeNpy(t, f("p64.npy"), []int{2, 3}, []float64{0, 1, 0, 1, 0, 0})
	probBad := writeNpy(t, f("pbad.npy"), []int{2, 3}, []float32{0, 1, 0, 1, 2, 0})
	w2 := writeNpy(t, f("w2.npy"), []int{2}, []float32{1, 1})
	wNeg := writeNpy(t, f("wneg.npy"), []int{3}, []float32{1, -1, 1})
	g := writeNpy(t, f("g.npy"), []int{3}, []float32{1, 1, 1})
	corrupt := f("corrupt.npy")
	if err := os.WriteFile(corrupt, []byte("\x93NUMPY\x01\x00garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := []string{"--out-loss", f("out-l.npy"), "--out-grad", f("out-d.npy")}
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"eval"}, 2, "--loss is required"},
		{[]string{"eval", "--loss", "softmax"}, 2, "--logits and --targets are required"},
		{[]string{"eval", "--loss", "hinge", "--logits", x, "--targets", idx}, 2, `loss "hinge" is not one of`},
		{[]string{"eval", "--loss", "softmax", "--reduction", "avg", "--logits", x, "--targets", idx}, 2, `reduction "avg"`},
		{[]string{"eval", "--loss", "softmax", "--logits", x, "--targets", idx, "--gamma", "1"}, 2, "--gamma does not apply to loss softmax"},
		{[]string{"eval", "--loss", "sigmoid", "--logits", x, "--targets", prob, "--ignore-index", "0"}, 2, "--ignore-index does not apply"},
		{[]string{"eval", "--loss", "sigmoid-focal", "--logits", x, "--targets", prob, "--alpha-file", w2}, 2, "--alpha-file does not apply to loss sigmoid-focal"},
		{[]string{"eval", "--loss", "softmax", "--logits", x, "--targets", idx, "--pos-weight", w2}, 2, "--pos-weight does not apply"},
		{[]string{"eval", "--loss", "softmax", "--logits", x, "--targets", idx, "--label-smoothing", "2"}, 2, "label smoothing 2 is outside [0, 1]"},
		{[]string{"eval", "--loss", "sigmoid-focal", "--logits", x, "--targets", prob, "--gamma", "-1"}, 2, "gamma -1"},
		{[]string{"eval", "--loss", "softmax", "--logits", x, "--targets", idx, "--grad-output", g}, 2, "--grad-output needs --reduction none"},
		{[]string{"eval", "--loss", "softmax", "--logits", x, "--targets", idx, "extra"}, 2, `unexpected argument "extra"`},
		{[]string{"eval", "--loss", "softmax", "--logits", x, "--targets", idx, "--frobnicate"}, 2, "flag provided but not defined: -frobnicate"},
		{[]string{"eval", "--loss", "softmax", "--logits", f("missing.npy"), "--targets", idx}, 1, "missing.npy: no such file"},
		{[]string{"eval", "--loss", "softmax", "--logits", corrupt, "--targets", idx}, 1, "corrupt.npy: npy: unsupported or malformed file"},
		{[]string{"eval", "--loss", "softmax", "--logits", xInt, "--targets", idx}, 1, "logits of dtype <i8; xent eval takes float32 (<f4) or float64 (<f8)"},
		{[]string{"eval", "--loss", "softmax", "--logits", x1d, "--targets", idx}, 1, "logits of shape (6,); want (N, C, d1…dk)"},
		{[]string{"eval", "--loss", "softmax", "--logits", x, "--targets", idx3}, 1, "targets of shape (3,); logits (2, 3) need class indices of shape (2,)"},
		{[]string{"eval", "--loss", "softmax", "--logits", x, "--targets", idxFloat}, 1, "targets of dtype <f4; softmax takes integer class indices"},
		{[]string{"eval", "--loss", "softmax", "--logits", x, "--targets", idxBad}, 1, "target 3 at position 1 is outside [0, 3)"},
		{[]string{"eval", "--loss", "sigmoid", "--logits", x, "--targets", prob64}, 1, "targets of dtype <f8; sigmoid takes targets of the logits' dtype float32"},
		{[]string{"eval", "--loss", "sigmoid", "--logits", x64, "--targets", prob}, 1, "targets of dtype <f4; sigmoid takes targets of the logits' dtype float64"},
		{[]string{"eval", "--loss", "sigmoid", "--logits", x, "--targets", idx}, 1, "targets of shape (2,); sigmoid takes targets of the logits' shape (2, 3)"},
		{[]string{"eval", "--loss", "sigmoid", "--logits", x, "--targets", probBad}, 1, "target 2 at element [1 1] is outside [0, 1]"},
		{[]string{"eval", "--loss", "softmax", "--logits", x, "--targets", idx, "--weight", w2}, 1, "weight of shape (2,); want one per class, (3,)"},
		{[]string{"eval", "--loss", "softmax", "--logits", x, "--targets", idx, "--weight", wNeg}, 2, "weight[1] = -1"},
		{[]string{"eval", "--loss", "softmax", "--reduction", "none", "--logits", x, "--targets", idx, "--grad-output", g}, 1, "upstream gradient of shape (3,); softmax's losses have shape (2,)"},
		{[]string{"eval", "--loss", "asymmetric", "--logits", x, "--targets", prob, "--clip", "1"}, 2, "clip 1 is outside [0, 1)"},
		{[]string{"eval", "--loss", "asymmetric", "--logits", x, "--targets", prob, "--gamma-pos", "-1"}, 2, "gamma_pos -1 is not a finite number ≥ 0"},
		{[]string{"eval", "--loss", "asymmetric", "--logits", x, "--targets", probBad}, 1, "target 2 at element [1 1] is outside [0, 1]"},
		{[]string{"eval", "--loss", "softmax", "--logits", x, "--targets", idx, "--detach-focal-weight"}, 2, "--detach-focal-weight does not apply to loss softmax"},
		{[]string{"eval", "--loss", "sigmoid", "--logits", x, "--targets", prob, "--poly-epsilon", "1"}, 2, "--poly-epsilon does not apply to loss sigmoid"},
		{[]string{"eval", "--loss", "softmax", "--logits", x, "--targets", idx, "--poly-epsilon", "-2"}, 2, "poly epsilon -2 is not a finite number ≥ -1"},
		{[]string{"eval", "--loss", "softmax", "--logits", x, "--targets", idx, "--sample-weight", idx3f}, 1, "sample_weight of shape (3,); want one per position, (2,)"},
		{[]string{"eval", "--loss", "sigmoid", "--logits", x, "--targets", prob, "--sample-weight", sNeg}, 2, "sample weight -1 at position 1 is not a finite number ≥ 0"},
		{[]string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{[]string{"help", "frobnicate"}, 2, `help: unknown command "frobnicate"`},
		{[]string{"gradcheck", "--loss", "softmax", "--shape", "4"}, 2, `shape "4": want NxC`},
		{[]string{"gradcheck", "--loss", "softmax", "--shape", "4x0"}, 2, `dimension "0"`},
		{[]string{"gradcheck", "--loss", "softmax", "--pos-weight", "random"}, 2, "--pos-weight does not apply to loss softmax"},
		{[]string{"gradcheck", "--loss", "softmax", "--upstream"}, 2, "--upstream needs --reduction none"},
		{[]string{"gradcheck", "--loss", "sigmoid", "--alpha-file", "random"}, 2, "--alpha-file does not apply to loss sigmoid"},
		{[]string{"gradcheck", "--loss", "softmax", "--tolerance", "0"}, 1, "relative error"},
	}
	for _, c := range cases {
		name := strings.Join(c.args, " ")
		args := c.args
		if args[0] == "eval" {
			args = append(slices.Clone(args), out...)
		}
		stdout, stderr, code := runCLI(args...)
		if code != c.code {
			t.Errorf("%s: exit %d, want %d (stderr %q)", name, code, c.code, stderr)
		}
		lines := strings.Split(strings.TrimSpace(stderr), "\n")
		last := lines[len(lines)-1]
		if !strings.HasPrefix(last, "xent: ") || !strings.Contains(last, c.want) {
			t.Errorf("%s: stderr %q, want an xent: line saying %q", name, stderr, c.want)
		}
		if c.args[0] == "eval" && stdout != "" {
			t.Errorf("%s: stdout %q on failure", name, stdout)
		}
		for _, o := range []string{f("out-l.npy"), f("out-d.npy")} {
			if _, err := os.Stat(o); err == nil {
				t.Fatalf("%s: wrote %s", name, o)
			}
		}
	}
}

// TestEvalOutputs checks the text and JSON reports and the files of a
// reduction none run, against the library's own results.
func TestEvalOutputs(t *testing.T) {
	dir := t.TempDir()
	f := func(name string) string { return filepath.Join(dir, name) }
	logits := []float32{1, 2, 3, 4, -5, 6, 0.5, 0, 0}
	x := writeNpy(t, f("x.npy"), []int{1, 3, 3}, logits) // (N, C, d) = (1, 3, 3)
	targets := []int64{0, 1, -100}
	tt := writeNpy(t, f("t.npy"), []int{1, 3}, targets)
	losses := make([]float32, 3)
	grad := make([]float32, 9)
	want, err := xent.SoftmaxCrossEntropy([]int{1, 3, 3}, logits, targets, xent.SoftmaxOptions[float32]{Reduction: xent.None}, xent.Output[float32]{Grad: grad, Losses: losses})
	if err != nil {
		t.Fatal(err)
	}

	stdout, stderr, code := runCLI("eval", "--loss", "softmax", "--reduction", "none", "--logits", x, "--targets", tt, "--out-loss", f("l.npy"), "--out-grad", f("d.npy"))
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	wantText := fmt.Sprintf("softmax none, float32 logits (1, 3, 3): Σ l = %v\n  l[0] = %v\n  l[1] = %v\n  l[2] = 0\nloss written to %s\ngradient written to %s\n",
		want, losses[0], losses[1], f("l.npy"), f("d.npy"))
	if stdout != wantText {
		t.Errorf("stdout:\n%s\nwant:\n%s", stdout, wantText)
	}
	a, err := npy.ReadFile(f("l.npy"))
	if err != nil || !slices.Equal(a.Shape, []int{1, 3}) {
		t.Fatalf("losses file: %v, shape %v", err, a.Shape)
	}
	gotLosses, _ := a.Float32s()
	if !slices.Equal(gotLosses, losses) {
		t.Errorf("losses %v, want %v", gotLosses, losses)
	}
	d, err := npy.ReadFile(f("d.npy"))
	if err != nil || !slices.Equal(d.Shape, []int{1, 3, 3}) || d.Dtype() != "<f4" {
		t.Fatalf("gradient file: %v", err)
	}
	gotGrad, _ := d.Float32s()
	if !slices.Equal(gotGrad, grad) {
		t.Errorf("grad %v, want %v", gotGrad, grad)
	}

	stdout, _, code = runCLI("eval", "--loss", "softmax", "--reduction", "none", "--logits", x, "--targets", tt, "--json")
	wantJSON := fmt.Sprintf("{\n  \"loss\": \"softmax\",\n  \"reduction\": \"none\",\n  \"dtype\": \"float32\",\n  \"shape\": [\n    1,\n    3,\n    3\n  ],\n  \"value\": %v,\n  \"losses\": [\n    %v,\n    %v,\n    0\n  ]\n}\n",
		float64(want), float64(losses[0]), float64(losses[1]))
	if code != 0 || stdout != wantJSON {
		t.Errorf("JSON:\n%s\nwant:\n%s", stdout, wantJSON)
	}

	// A NaN logit: the JSON stays valid and says "NaN".
	nan := writeNpy(t, f("nan.npy"), []int{1, 3, 3}, []float64{1, 2, 3, 4, -5, 6, 0.5, 0, float64(float32(0)) / zero()})
	stdout, _, code = runCLI("eval", "--loss", "sigmoid", "--logits", nan, "--targets", writeNpy(t, f("p.npy"), []int{1, 3, 3}, make([]float64, 9)), "--json")
	if code != 0 || !strings.Contains(stdout, `"value": "NaN"`) {
		t.Errorf("NaN JSON: exit %d\n%s", code, stdout)
	}
}

func zero() float64 { return 0 }

// TestGradcheckEveryLoss runs xent gradcheck on each loss with options.
func TestGradcheckEveryLoss(t *testing.T) {
	for _, args := range [][]string{
		{"--loss", "softmax", "--weight", "random", "--label-smoothing", "0.2", "--ignore-index", "1"},
		{"--loss", "softmax-prob", "--weight", "random", "--reduction", "batchmean"},
		{"--loss", "multilabel-softmax", "--reduction", "sum", "--shape", "3x6"},
		{"--loss", "sigmoid", "--weight", "random", "--pos-weight", "random", "--reduction", "none", "--upstream"},
		{"--loss", "sigmoid-focal", "--alpha", "-1", "--gamma", "0.5"},
		{"--loss", "softmax-focal", "--alpha", "0.5", "--gamma", "1.5", "--shape", "2x4x2x2"},
		{"--loss", "softmax-focal", "--alpha-file", "random", "--ignore-index", "2"},
	} {
		stdout, stderr, code := runCLI(append([]string{"gradcheck"}, args...)...)
		if code != 0 || !strings.HasSuffix(stdout, ": ok\n") || stderr != "" {
			t.Errorf("%v: exit %d\nstdout %s\nstderr %s", args, code, stdout, stderr)
		}
	}
}

// TestGoldenText pins the demo and help texts (go test -update rewrites).
func TestGoldenText(t *testing.T) {
	for _, c := range []struct {
		file string
		args []string
	}{
		{"demo.golden", nil},
		{"help.golden", []string{"help"}},
		{"help-eval.golden", []string{"eval", "-h"}},
		{"help-gradcheck.golden", []string{"help", "gradcheck"}},
		{"help-bench.golden", []string{"bench", "-h"}},
		{"help-train.golden", []string{"train", "-h"}},
		{"help-plot.golden", []string{"plot", "-h"}},
		{"help-experiment.golden", []string{"experiment", "multilabel", "-h"}},
	} {
		stdout, stderr, code := runCLI(c.args...)
		if code != 0 || stderr != "" {
			t.Errorf("%v: exit %d, stderr %q", c.args, code, stderr)
		}
		path := filepath.Join("testdata", c.file)
		if *update {
			if err := os.WriteFile(path, []byte(stdout), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if stdout != string(want) {
			t.Errorf("%v: stdout differs from %s:\n%s", c.args, path, stdout)
		}
	}
}

// TestBinary runs the command as a process: exit statuses and streams.
func TestBinary(t *testing.T) {
	for _, c := range []struct {
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{nil, 0, "A built-in example", ""},
		{[]string{"help"}, 0, "Commands:", ""},
		{[]string{"nope"}, 2, "", "xent: unknown command \"nope\""},
		{[]string{"eval", "--loss", "softmax", "--logits", "/nonexistent.npy", "--targets", "t.npy"}, 1, "", "xent: open /nonexistent.npy"},
	} {
		cmd := exec.Command(os.Args[0], c.args...)
		cmd.Env = append(os.Environ(), "XENT_TEST_RUN_MAIN=1")
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if code != c.code || !strings.Contains(stdout.String(), c.stdout) || !strings.Contains(stderr.String(), c.stderr) {
			t.Errorf("%v: exit %d\nstdout %q\nstderr %q", c.args, code, stdout.String(), stderr.String())
		}
		if c.code != 0 && strings.Count(stderr.String(), "\n") > 1 && !strings.Contains(stderr.String(), "Usage") {
			t.Errorf("%v: stderr is not one line: %q", c.args, stderr.String())
		}
	}
}

// TestBench runs xent bench briefly and checks its JSON report.
func TestBench(t *testing.T) {
	for _, args := range [][]string{
		{"--loss", "softmax", "--shape", "64x33"},
		{"--loss", "sigmoid-focal", "--shape", "8x5x7", "--dtype", "float64", "--workers", "2"},
		{"--loss", "multilabel-softmax", "--shape", "16x10", "--path", "go"},
		{"--loss", "sigmoid", "--shape", "16x10", "--path", xent.KernelPaths()[len(xent.KernelPaths())-1]},
	} {
		stdout, stderr, code := runCLI(append([]string{"bench", "--runs", "1", "--min-time", "2ms", "--json"}, args...)...)
		if code != 0 || stderr != "" {
			t.Fatalf("%v: exit %d, stderr %q", args, code, stderr)
		}
		var r benchReport
		if err := json.Unmarshal([]byte(stdout), &r); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, stdout)
		}
		if r.Loss != args[1] || r.NsPerElement <= 0 || r.GBPerS <= 0 || r.CopyGBPerS <= 0 || r.CopyRatio <= 0 || r.Runs != 1 || r.Workers < 1 {
			t.Errorf("%v: implausible report %+v", args, r)
		}
		if r.Path != "go" && r.Path != "avx2" && r.Path != "avx512" {
			t.Errorf("%v: path %q", args, r.Path)
		}
		if slices.Contains(args, "go") && r.Path != "go" {
			t.Errorf("--path go ran on %s", r.Path)
		}
	}
	stdout, _, code := runCLI("bench", "--loss", "softmax", "--shape", "4x3", "--runs", "1", "--min-time", "1ms")
	if code != 0 || !strings.Contains(stdout, "ns/element") || !strings.Contains(stdout, "allocs/op") {
		t.Errorf("text report: exit %d\n%s", code, stdout)
	}
	for _, materialized := range []string{"--materialized=false", "--materialized"} {
		stdout, stderr, code := runCLI("bench", "--loss", "linear-softmax", "--shape", "33x8x50", "--runs", "1", "--min-time", "1ms", "--json", materialized)
		var r linearReport
		if code != 0 || json.Unmarshal([]byte(stdout), &r) != nil || r.MsPerCall <= 0 || r.ExtraBytes <= 0 || r.MaxRSSBytes <= 0 || r.Materialized != (materialized == "--materialized") {
			t.Errorf("linear %s: exit %d, %q, %q", materialized, code, stdout, stderr)
		}
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"bench"}, "--loss is required"},
		{[]string{"bench", "--loss", "linear-softmax", "--shape", "4x5"}, "NxDxC"},
		{[]string{"bench", "--loss", "softmax", "--materialized"}, "--materialized and --chunk apply to --loss linear-softmax"},
		{[]string{"bench", "--loss", "softmax", "--dtype", "float16"}, `--dtype "float16"`},
		{[]string{"bench", "--loss", "softmax", "--path", "neon"}, `path "neon"`},
		{[]string{"bench", "--loss", "softmax", "--shape", "3"}, `shape "3"`},
		{[]string{"bench", "--loss", "softmax", "--runs", "0"}, "--runs 0: want 1 to 1000"},
		{[]string{"bench", "--loss", "softmax", "--workers", "-1"}, "--workers -1: want 0 (GOMAXPROCS) to 4096"},
	} {
		_, stderr, code := runCLI(c.args...)
		if code != 2 || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", c.args, code, stderr, c.want)
		}
	}
}

// TestAlphaRule pins the one α rule: sigmoid-focal's default 0.25, softmax-
// focal's default 1 for every class, and --alpha a giving every class a.
func TestAlphaRule(t *testing.T) {
	dir := t.TempDir()
	x := writeNpy(t, filepath.Join(dir, "x.npy"), []int{2, 3}, []float64{1, 2, 3, -1, 0, 1})
	idx := writeNpy(t, filepath.Join(dir, "i.npy"), []int{2}, []int64{0, 2})
	bin := writeNpy(t, filepath.Join(dir, "b.npy"), []int{2, 3}, []float64{1, 0, 0, 0, 0, 1})
	value := func(args ...string) string {
		t.Helper()
		stdout, stderr, code := runCLI(append([]string{"eval", "--logits", x, "--json"}, args...)...)
		if code != 0 {
			t.Fatalf("%v: %s", args, stderr)
		}
		var r struct{ Value float64 }
		if err := json.Unmarshal([]byte(stdout), &r); err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(r.Value)
	}
	if a, b := value("--loss", "sigmoid-focal", "--targets", bin), value("--loss", "sigmoid-focal", "--targets", bin, "--alpha", "0.25"); a != b {
		t.Errorf("sigmoid-focal: default %s, --alpha 0.25 %s", a, b)
	}
	none := value("--loss", "softmax-focal", "--targets", idx)
	if one := value("--loss", "softmax-focal", "--targets", idx, "--alpha", "1"); none != one {
		t.Errorf("softmax-focal: default %s, --alpha 1 %s", none, one)
	}
	alphas := writeNpy(t, filepath.Join(dir, "a.npy"), []int{3}, []float64{0.5, 0.5, 0.5})
	if half, file := value("--loss", "softmax-focal", "--targets", idx, "--alpha", "0.5"), value("--loss", "softmax-focal", "--targets", idx, "--alpha-file", alphas); half != file {
		t.Errorf("softmax-focal: --alpha 0.5 %s, --alpha-file of 0.5s %s", half, file)
	}
	_, err := xent.Evaluate(xent.Config[float64]{Loss: xent.SoftmaxFocal, Alpha: new(0.5)}, []int{2, 3}, make([]float64, 6), []int64{0, 1}, nil, xent.Output[float64]{})
	if err == nil || !strings.Contains(err.Error(), "which takes alpha as Config.ClassAlpha") {
		t.Errorf("library: Config{SoftmaxFocal, Alpha} = %v, want the error that names ClassAlpha", err)
	}
}

// TestBenchSuite runs each suite once, briefly: a report of every case and
// ratio, named as the suite names them, and the CPU named; and the flags
// that do not go with a suite refused.
func TestBenchSuite(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("draws the suites' full-size inputs, slow under -short and -race")
	}
	for _, name := range suiteNames() {
		stdout, stderr, code := runCLI("bench", "--suite", name, "--runs", "1", "--min-time", "1ms", "--workers", "1", "--json")
		if code != 0 || stderr != "" {
			t.Fatalf("%s: exit %d, stderr %q", name, code, stderr)
		}
		var r suiteReport
		if err := json.Unmarshal([]byte(stdout), &r); err != nil {
			t.Fatalf("%s: %v\n%s", name, err, stdout)
		}
		s := benchSuites[name]
		if r.Suite != name || r.CPU == "" || r.Runs != 1 || r.Workers != 1 || len(r.Cases) != len(s.cases) || len(r.Ratios) != len(s.ratios) {
			t.Fatalf("%s: implausible report %+v", name, r)
		}
		for i, c := range r.Cases {
			if c.Name != s.cases[i].name || c.NsPerElement <= 0 || c.CopyRatio <= 0 || !strings.HasPrefix(s.cases[i].args, "--loss "+c.Loss+" ") {
				t.Errorf("%s: case %d: %+v for %+v", name, i, c, s.cases[i])
			}
		}
		for i, q := range r.Ratios {
			if q.Name != s.ratios[i].name || !(q.Min > 0 && q.Min <= q.Median && q.Median <= q.Max) {
				t.Errorf("%s: ratio %d: %+v", name, i, q)
			}
		}
	}
	stdout, _, code := runCLI("bench", "--suite", "options", "--runs", "1", "--min-time", "1ms")
	if code != 0 || !strings.Contains(stdout, "asymmetric / sigmoid-focal, 4096x1000") || !strings.Contains(stdout, "ns/element") {
		t.Errorf("text report: exit %d\n%s", code, stdout)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"bench", "--suite", "mnist"}, `--suite "mnist": want cnn or options`},
		{[]string{"bench", "--suite", "cnn", "--loss", "softmax"}, "--loss does not go with --suite"},
		{[]string{"bench", "--suite", "cnn", "--shape", "4x3"}, "--shape does not go with --suite"},
		{[]string{"bench", "--suite", "cnn", "--dtype", "float16"}, `--dtype "float16"`},
		{[]string{"bench", "--suite", "cnn", "--runs", "0"}, "--runs 0: want 1 to 1000"},
	} {
		_, stderr, code := runCLI(c.args...)
		if code != 2 || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", c.args, code, stderr, c.want)
		}
	}
}
