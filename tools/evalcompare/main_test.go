package main

import "testing"

// TestCompare: every part of a run counts, and equal runs give "".
func TestCompare(t *testing.T) {
	base := result{code: 0, stdout: []byte("a"), stderr: []byte("b"), lossFile: []byte("l"), gradFile: []byte("g")}
	if what := compare(base, base); what != "" {
		t.Errorf("equal runs: %q", what)
	}
	for want, change := range map[string]func(*result){
		"exit status (0, 1)": func(r *result) { r.code = 1 },
		"stdout":             func(r *result) { r.stdout = []byte("A") },
		"stderr":             func(r *result) { r.stderr = nil },
		"--out-loss file":    func(r *result) { r.lossFile = []byte("L") },
		"--out-grad file":    func(r *result) { r.gradFile = append(r.gradFile, 0) },
	} {
		other := base
		change(&other)
		if what := compare(base, other); what != want {
			t.Errorf("compare = %q, want %q", what, want)
		}
	}
}
