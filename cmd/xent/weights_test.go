package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xent-go/xent/internal/golden"
)

// TestWeightsGolden runs every class-balanced reference case through
// xent weights --counts … --out and compares the file it writes.
func TestWeightsGolden(t *testing.T) {
	cases, err := golden.LoadClassBalanced("../../testdata/golden-v2")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, c := range cases {
		counts := make([]string, len(c.Counts))
		for i, n := range c.Counts {
			counts[i] = fmt.Sprint(n)
		}
		out := filepath.Join(dir, "w.npy")
		stdout, stderr, code := runCLI("weights", "--counts", strings.Join(counts, ","), "--beta", fmt.Sprint(c.Beta), "--out", out)
		if code != 0 || !strings.Contains(stdout, "class-balanced weights") {
			t.Fatalf("%s: exit %d\n%s%s", c.Name, code, stdout, stderr)
		}
		if err := golden.Compare(c.Name, readFloats64(t, out, "float64"), c.Weights, "float64"); err != nil {
			t.Error(err)
		}
	}
}

// TestWeightsTargets counts index and multi-hot targets.
func TestWeightsTargets(t *testing.T) {
	dir := t.TempDir()
	idx := writeNpy(t, filepath.Join(dir, "idx.npy"), []int{7}, []int32{0, 2, 2, -100, 1, 2, 9})
	hot := writeNpy(t, filepath.Join(dir, "hot.npy"), []int{3, 2, 2}, []float32{1, 0, 0, 1, 1, 1, 0.5, 0, 0, 0, 1, 0})
	for _, c := range []struct {
		args []string
		rows []string
	}{
		{[]string{"--targets", idx, "--classes", "3", "--beta", "0"}, []string{"0            1            1", "1            1            1", "2            3            1"}},
		{[]string{"--targets", idx, "--beta", "0"}, []string{"9            1            1", "8            0"}}, // C = 10 with empty classes: refused below
		{[]string{"--targets", hot, "--beta", "0"}, []string{"0            3            1", "1            3            1"}},
	} {
		stdout, stderr, code := runCLI(append([]string{"weights"}, c.args...)...)
		if c.rows[len(c.rows)-1] == "8            0" {
			if code != 2 || !strings.Contains(stderr, "class 3 has count 0") {
				t.Errorf("%v: exit %d, %s", c.args, code, stderr)
			}
			continue
		}
		for _, r := range c.rows {
			if code != 0 || !strings.Contains(stdout, r) {
				t.Errorf("%v: exit %d, no row %q in\n%s%s", c.args, code, r, stdout, stderr)
			}
		}
	}
}

// TestWeightsBad: each bad invocation is one xent: line, the right exit
// status, and no file written.
func TestWeightsBad(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "w.npy")
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{nil, 2, "give --counts or --targets"},
		{[]string{"--counts", "1,2", "--targets", "t.npy"}, 2, "give --counts or --targets"},
		{[]string{"--counts", "1,x"}, 2, `class 1's count "x" is not a whole number`},
		{[]string{"--counts", "5,0,3"}, 2, "class 1 has count 0"},
		{[]string{"--counts", "5,-2"}, 2, "class 1 has count -2"},
		{[]string{"--counts", "5,2", "--beta", "1"}, 2, "beta 1 is outside [0, 1)"},
		{[]string{"--counts", "5,2", "--beta", "NaN"}, 2, "beta NaN is outside [0, 1)"},
		{[]string{"--counts", "5,2", "--classes", "-1"}, 2, "--classes -1"},
		{[]string{"--targets", filepath.Join(dir, "missing.npy")}, 1, "missing.npy"},
	} {
		_, stderr, code := runCLI(append(append([]string{"weights"}, c.args...), "--out", out)...)
		if code != c.code || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q, want %d and %q", c.args, code, stderr, c.code, c.want)
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("%v: wrote %s", c.args, out)
		}
	}
}
