package gomlx

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestREADMEProgram builds the complete program of README.md, as written,
// in a module of its own that depends on xent and the adapter through
// the replace lines the README gives: the program compiles and the
// instructions for a downstream module hold.
func TestREADMEProgram(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a module: not in -short")
	}
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(readme), "```go\n// Command blobs")
	if !ok {
		t.Fatal("README.md has no complete program")
	}
	program, _, _ := strings.Cut(rest, "```")
	here, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("main.go", "// Command blobs"+program)
	write("go.mod", "module example.com/blobs\n\ngo 1.26\n")
	goSum, err := os.ReadFile("go.sum")
	if err != nil {
		t.Fatal(err)
	}
	write("go.sum", string(goSum))
	goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
	for _, args := range [][]string{
		{"mod", "edit", "-require", "github.com/xent-go/xent@v0.0.0", "-replace", "github.com/xent-go/xent=" + filepath.Dir(here)},
		{"mod", "edit", "-require", "github.com/xent-go/xent/gomlx@v0.0.0", "-replace", "github.com/xent-go/xent/gomlx=" + here},
		{"mod", "tidy"},
		{"build", "-o", filepath.Join(dir, "blobs"), "."},
	} {
		cmd := exec.Command(goTool, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	out, err := exec.Command(filepath.Join(dir, "blobs")).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "step 100: loss") {
		t.Fatalf("the program: %v\n%s", err, out)
	}
}
