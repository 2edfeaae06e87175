// Command readmecheck runs the commands of the README as a new user would,
// in a fresh clone of the repository, and checks what they print.
//
//	go run ./tools/readmecheck [--all] [--readme README.md]
//
// A README block fenced as ```sh is a transcript: each line that starts
// with "$ " is a command, run by bash in the clone's folder with the clone's
// own xent installed first on PATH (go install ./cmd/xent, as the README
// says); the lines after it, up to the next command, are what it must
// print, each in order as a line of its output (stdout and stderr
// together), where "…" in an expected line stands for any text. A command
// line that ends in a backslash goes on on the next line, as in bash. A
// command must exit 0. Every block runs in the same clone, in order, so a
// later block may use what an earlier one wrote.
//
// Blocks fenced as ```sh slow run only with --all: training runs, the
// whole test suite, fuzzing, the benchmarks against PyTorch. These need
// what the README says they need: Debian's python3-torch,
// python3-torchvision and dataset-fashion-mnist, and about an hour. CI
// runs the others.
package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

func main() {
	if err := run(os.Stdout, os.Stderr, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "readmecheck:", err)
		os.Exit(1)
	}
}

// step is one command of a transcript and the lines it must print.
type step struct {
	line    int // in the README
	command string
	want    []string
}

// continues reports whether the command goes on on the next line.
func (s step) continues() bool { return len(s.want) == 0 && strings.HasSuffix(s.command, "\\") }

// block is one ```sh transcript.
type block struct {
	line  int
	slow  bool
	steps []step
}

// parse returns the README's transcripts.
func parse(readme []byte) ([]block, error) {
	var blocks []block
	var cur *block
	s := bufio.NewScanner(bytes.NewReader(readme))
	for n := 1; s.Scan(); n++ {
		line := s.Text()
		switch {
		case cur == nil && (line == "```sh" || line == "```sh slow"):
			blocks = append(blocks, block{line: n, slow: line == "```sh slow"})
			cur = &blocks[len(blocks)-1]
		case cur != nil && line == "```":
			if len(cur.steps) == 0 {
				return nil, fmt.Errorf("README line %d: a sh block without a $ command", cur.line)
			}
			cur = nil
		case cur != nil && len(cur.steps) > 0 && cur.steps[len(cur.steps)-1].continues():
			last := &cur.steps[len(cur.steps)-1]
			last.command += "\n" + line
		case cur != nil && strings.HasPrefix(line, "$ "):
			cur.steps = append(cur.steps, step{line: n, command: line[2:]})
		case cur != nil && len(cur.steps) == 0:
			return nil, fmt.Errorf("README line %d: output before any $ command", n)
		case cur != nil && strings.TrimSpace(line) != "":
			last := &cur.steps[len(cur.steps)-1]
			last.want = append(last.want, line)
		}
	}
	if cur != nil {
		return nil, fmt.Errorf("README line %d: the block does not end", cur.line)
	}
	return blocks, s.Err()
}

// matches reports whether the output holds the wanted lines in order.
func matches(output string, want []string) (bool, string) {
	lines := strings.Split(output, "\n")
	i := 0
	for _, w := range want {
		parts := strings.Split(w, "…")
		for k := range parts {
			parts[k] = regexp.QuoteMeta(parts[k])
		}
		re := regexp.MustCompile("^" + strings.Join(parts, ".*") + "$")
		for i < len(lines) && !re.MatchString(strings.TrimRight(lines[i], " ")) {
			i++
		}
		if i == len(lines) {
			return false, w
		}
		i++
	}
	return true, ""
}

func run(stdout, stderr io.Writer, args []string) error {
	fs := flag.NewFlagSet("readmecheck", flag.ContinueOnError)
	all := fs.Bool("all", false, "run the slow blocks too")
	readmePath := fs.String("readme", "README.md", "the README, in the repository to clone")
	if err := fs.Parse(args); err != nil {
		return err
	}
	readme, err := os.ReadFile(*readmePath)
	if err != nil {
		return err
	}
	blocks, err := parse(readme)
	if err != nil {
		return err
	}
	repo, err := filepath.Abs(filepath.Dir(*readmePath))
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "readmecheck-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	clone, bin := filepath.Join(tmp, "xent"), filepath.Join(tmp, "bin")
	if out, err := exec.Command("git", "clone", "--quiet", repo, clone).CombinedOutput(); err != nil {
		return fmt.Errorf("git clone: %v\n%s", err, out)
	}
	env := append(os.Environ(), "GOBIN="+bin, "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	ran, skipped := 0, 0
	for _, b := range blocks {
		if b.slow && !*all {
			skipped += len(b.steps)
			continue
		}
		for _, st := range b.steps {
			start := time.Now()
			cmd := exec.Command("bash", "-o", "pipefail", "-c", st.command)
			cmd.Dir, cmd.Env = clone, env
			out, err := cmd.CombinedOutput()
			fmt.Fprintf(stdout, "README:%d $ %s (%s)\n", st.line, st.command, time.Since(start).Round(time.Millisecond))
			if err != nil {
				return fmt.Errorf("README line %d: %s: %v\n%s", st.line, st.command, err, out)
			}
			if ok, missing := matches(string(out), st.want); !ok {
				return fmt.Errorf("README line %d: %s: no line %q in its output (in order):\n%s", st.line, st.command, missing, out)
			}
			ran++
		}
	}
	if ran == 0 {
		return errors.New("no command ran")
	}
	fmt.Fprintf(stdout, "%d passed, 0 failed, %d skipped (slow; --all runs them)\n", ran, skipped)
	return nil
}
