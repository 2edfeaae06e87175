// Command evalcompare runs two builds of xent on every reference case and
// reports any difference in what they print or write: a refactoring that
// changes no behaviour leaves none.
//
//	go build -o /tmp/xent-old ./cmd/xent     # before the change
//	go build -o /tmp/xent-new ./cmd/xent     # after it
//	go run ./tools/evalcompare /tmp/xent-old /tmp/xent-new
//
// Each case of testdata/golden and testdata/refgen is written to .npy files
// once and run through `xent eval` by both binaries, as text and as --json,
// with --out-loss and --out-grad: the exit status, stdout, stderr and both
// output files must be the same bytes.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/xent-go/xent/internal/golden"
)

func main() {
	if err := run(os.Stdout, os.Stderr, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "evalcompare:", err)
		os.Exit(1)
	}
}

// result is what one run printed and wrote.
type result struct {
	code               int
	stdout, stderr     []byte
	lossFile, gradFile []byte
}

func run(stdout, stderr io.Writer, args []string) error {
	fs := flag.NewFlagSet("evalcompare", flag.ContinueOnError)
	fs.SetOutput(stderr)
	testdata := fs.String("testdata", "testdata", "the folder that holds golden/ and refgen/")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		return errors.New("usage: evalcompare [--testdata DIR] OLD-XENT NEW-XENT")
	}
	old, new := fs.Arg(0), fs.Arg(1)
	cases, err := golden.LoadAll(filepath.Join(*testdata, "golden"), filepath.Join(*testdata, "refgen"))
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "evalcompare-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	differ := 0
	for i := range cases {
		c := &cases[i]
		args, err := golden.EvalArgs(c, dir, i%2 == 0)
		if err != nil {
			return err
		}
		args = append(args, "--out-loss", filepath.Join(dir, "l.npy"), "--out-grad", filepath.Join(dir, "d.npy"))
		for _, variant := range [][]string{args, append(args[:len(args):len(args)], "--json")} {
			a, err := runOnce(old, dir, variant)
			if err != nil {
				return err
			}
			b, err := runOnce(new, dir, variant)
			if err != nil {
				return err
			}
			if what := compare(a, b); what != "" {
				differ++
				fmt.Fprintf(stdout, "%s (%v): %s differs\n", c.Name, variant[len(variant)-1] == "--json", what)
			}
		}
	}
	fmt.Fprintf(stdout, "%d cases, %d runs each build: %d differ\n", len(cases), 2*len(cases), differ)
	if differ > 0 {
		return fmt.Errorf("%d runs differ", differ)
	}
	return nil
}

// runOnce runs bin with args and collects its streams and output files,
// which it then removes.
func runOnce(bin, dir string, args []string) (result, error) {
	cmd := exec.Command(bin, args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	r := result{stdout: out.Bytes(), stderr: errOut.Bytes()}
	if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
		r.code = ee.ExitCode()
	} else if err != nil {
		return r, err
	}
	for _, f := range []struct {
		name string
		dst  *[]byte
	}{{"l.npy", &r.lossFile}, {"d.npy", &r.gradFile}} {
		path := filepath.Join(dir, f.name)
		b, err := os.ReadFile(path)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return r, err
		}
		*f.dst = b
		os.Remove(path)
	}
	return r, nil
}

// compare names the first part of a and b that differs, or returns "".
func compare(a, b result) string {
	switch {
	case a.code != b.code:
		return fmt.Sprintf("exit status (%d, %d)", a.code, b.code)
	case !bytes.Equal(a.stdout, b.stdout):
		return "stdout"
	case !bytes.Equal(a.stderr, b.stderr):
		return "stderr"
	case !bytes.Equal(a.lossFile, b.lossFile):
		return "--out-loss file"
	case !bytes.Equal(a.gradFile, b.gradFile):
		return "--out-grad file"
	}
	return ""
}
