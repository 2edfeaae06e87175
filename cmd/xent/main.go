// Command xent evaluates and checks the cross-entropy losses of package
// xent from the shell.
//
//	xent                 a built-in example: the six losses on one small batch
//	xent eval ...        a loss and its gradient on .npy files (numpy, PyTorch)
//	xent gradcheck ...   the gradient against finite differences
//	xent bench ...       speed, against the memory-copy ceiling
//	xent train ...       train a CNN on MNIST with one of the losses
//	xent predict ...     classify images with a trained network
//	xent plot ...        the tutorial's loss figures, PNG and SVG
//	xent experiment ...  multi-label MNIST: softmax with 1/M against sigmoid
//	xent version         the version of this build
//	xent help [command]  usage
//
// Results go to stdout, diagnostics to stderr prefixed "xent:". The exit
// status is 0 on success, 2 for a bad invocation (unknown command or flag,
// an option out of range) and 1 for any other failure (unreadable or
// inconsistent files, a gradient check that fails).
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/xent-go/xent"
)

func main() {
	err := run(os.Stdout, os.Stderr, os.Args[1:])
	if err != nil {
		msg := err.Error()
		if !strings.HasPrefix(msg, "xent: ") {
			msg = "xent: " + msg
		}
		fmt.Fprintln(os.Stderr, msg)
	}
	os.Exit(exitCode(err))
}

// usageError is a bad invocation: exit status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{fmt.Sprintf(format, args...)}
}

// exitCode maps run's error to the exit status.
func exitCode(err error) int {
	var u *usageError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &u), errors.Is(err, xent.ErrOption):
		return 2
	}
	return 1
}

type command struct {
	name, summary string
	run           func(stdout, stderr io.Writer, args []string) error
}

var commands = []command{
	{"eval", "a loss and its gradient on .npy files", runEval},
	{"gradcheck", "compare a loss's gradient with finite differences", runGradcheck},
	{"bench", "time a loss against the memory-copy ceiling", runBench},
	{"train", "train a CNN on MNIST with one of the losses", runTrain},
	{"predict", "classify images with a network xent train saved", runPredict},
	{"weights", "class-balanced weights from class counts or targets", runWeights},
	{"plot", "draw the tutorial's loss figures with xent's functions", runPlot},
	{"experiment", "multi-label MNIST: softmax with 1/M against sigmoid", runExperiment},
	{"version", "the version, commit and Go version of this build", runVersion},
}

// run is the whole program: main only maps its error to an exit status.
// A failed write to stdout fails the command (exit 1), so that
// "xent eval … > /dev/full" does not report success.
func run(stdout, stderr io.Writer, args []string) error {
	out := &checkedWriter{w: stdout}
	err := runCommand(out, stderr, args)
	if err == nil && out.err != nil {
		err = fmt.Errorf("writing standard output: %w", out.err)
	}
	return err
}

// writeStdout writes a command's report, for the hook of outfile.Commit:
// after the files are staged, before they are renamed.
func writeStdout(stdout io.Writer, b []byte) error {
	if _, err := stdout.Write(b); err != nil {
		return fmt.Errorf("writing standard output: %w", err)
	}
	return nil
}

// plural writes a count with its noun: "1 epoch", "3 epochs".
func plural(n int, noun string) string {
	switch {
	case n == 1:
		return "1 " + noun
	case strings.HasSuffix(noun, "s"):
		return fmt.Sprintf("%d %ses", n, noun) // classes
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// medianOf says what a figure of runs is: "one run", "median of 5 runs".
func medianOf(runs int) string {
	if runs == 1 {
		return "one run"
	}
	return fmt.Sprintf("median of %d runs", runs)
}

// checkedWriter remembers the first write error; later writes do nothing.
type checkedWriter struct {
	w   io.Writer
	err error
}

func (c *checkedWriter) Write(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.w.Write(p)
	if err == nil && n < len(p) {
		err = io.ErrShortWrite
	}
	c.err = err
	return n, err
}

func runCommand(stdout, stderr io.Writer, args []string) error {
	if len(args) == 0 {
		return runDemo(stdout)
	}
	name := args[0]
	switch name {
	case "help", "-h", "-help", "--help":
		if len(args) > 1 {
			for _, c := range commands {
				if c.name == args[1] {
					c.run(stdout, stderr, []string{"-h"})
					return nil
				}
			}
			return usagef("help: unknown command %q", args[1])
		}
		printUsage(stdout)
		return nil
	}
	for _, c := range commands {
		if c.name == name {
			if err := c.run(stdout, stderr, args[1:]); !errors.Is(err, errHelp) {
				return err
			}
			return nil
		}
	}
	return usagef("unknown command %q (the commands: xent help)", name)
}

func printUsage(w io.Writer) {
	fmt.Fprint(w, `xent: the cross-entropy losses of CNN training, value and gradient in one pass.

Usage:
  xent                    run a built-in example
  xent <command> [flags]

Commands:
`)
	for _, c := range commands {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, `
"xent help <command>" or "xent <command> -h" describes a command's flags.
`)
}

// newFlagSet returns a flag set for a command. The flag package prints
// nothing itself: parseFlags prints the usage on -h and turns a bad flag
// into one usage error.
func newFlagSet(name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet("xent "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: xent %s %s\n\nFlags:\n", name, synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args; -h prints the usage to stdout and returns
// errHelp, a bad flag returns a usage error that says how to get help.
func parseFlags(fs *flag.FlagSet, stdout io.Writer, args []string) error {
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		fs.SetOutput(stdout)
		fs.Usage()
		return errHelp
	}
	if err != nil {
		return usagef("%s: %v (see '%s -h')", fs.Name()[len("xent "):], err, fs.Name())
	}
	if fs.NArg() > 0 {
		return usagef("%s: unexpected argument %q", fs.Name()[len("xent "):], fs.Arg(0))
	}
	return nil
}

// errHelp ends a command after its usage was printed on request: exit 0.
var errHelp = errors.New("help shown")

// setFlags returns the names of the flags given on the command line.
func setFlags(fs *flag.FlagSet) map[string]bool {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	return set
}
