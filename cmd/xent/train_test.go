package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/xent-go/xent/train"
	"github.com/xent-go/xent/train/report"
)

// writeStripes writes train and t10k idx files of 28×28 images of 4
// classes (class k is bright in the k-th quarter of the rows) into dir.
func writeStripes(t *testing.T, dir string, nTrain, nTest int) {
	t.Helper()
	writeStripesOf(t, dir, nTrain, nTest, 28)
}

// writeStripesOf is writeStripes with side×side images (side a multiple
// of 4).
func writeStripesOf(t *testing.T, dir string, nTrain, nTest, side int) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, set := range []struct {
		prefix string
		n      int
	}{{"train", nTrain}, {"t10k", nTest}} {
		images := binary.BigEndian.AppendUint32(nil, 0x803)
		for _, v := range []int{set.n, side, side} {
			images = binary.BigEndian.AppendUint32(images, uint32(v))
		}
		labels := binary.BigEndian.AppendUint32(nil, 0x801)
		labels = binary.BigEndian.AppendUint32(labels, uint32(set.n))
		for i := range set.n {
			k := i % 4
			labels = append(labels, byte(k))
			for p := range side * side {
				v := rng.IntN(80)
				if (p/side)/(side/4) == k {
					v += 120
				}
				images = append(images, byte(v))
			}
		}
		for name, b := range map[string][]byte{set.prefix + "-images-idx3-ubyte": images, set.prefix + "-labels-idx1-ubyte": labels} {
			if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestTrainRun trains on a small set through the command, twice, and
// requires every output file and the same metrics.json and checkpoint
// bytes from both runs.
func TestTrainRun(t *testing.T) {
	dir := t.TempDir()
	writeStripes(t, dir, 256, 64)
	var outs []string
	for i := range 2 {
		out := filepath.Join(dir, "out", string(rune('a'+i)))
		stdout, stderr, code := runCLI("train", "--data", dir, "--epochs", "2", "--batch", "16", "--out", out)
		if code != 0 || !strings.Contains(stdout, "test accuracy") || !strings.Contains(stderr, "epoch 2: train loss") {
			t.Fatalf("exit %d\nstdout %q\nstderr %q", code, stdout, stderr)
		}
		for _, f := range append(report.Files, "checkpoint.safetensors") {
			if fi, err := os.Stat(filepath.Join(out, f)); err != nil || fi.Size() == 0 {
				t.Errorf("%s: %v", f, err)
			}
		}
		outs = append(outs, out)
	}
	for _, f := range []string{"metrics.json", "checkpoint.safetensors"} {
		if !bytes.Equal(readFile(t, filepath.Join(outs[0], f)), readFile(t, filepath.Join(outs[1], f))) {
			t.Errorf("%s differs between two runs of the same flags", f)
		}
	}
	if html := readFile(t, filepath.Join(outs[0], "report.html")); !bytes.Contains(html, []byte("confusion.svg")) {
		t.Error("report.html does not show the confusion matrix")
	}
}

// TestTrainInterruptResume interrupts a run with SIGINT in its first
// epoch, resumes it from the checkpoint, and requires the checkpoint and
// metrics.json of a run that was never interrupted.
func TestTrainInterruptResume(t *testing.T) {
	dir := t.TempDir()
	writeStripes(t, dir, 1600, 64)
	args := []string{"train", "--data", dir, "--epochs", "3", "--batch", "16"}
	whole := filepath.Join(dir, "whole")
	if _, stderr, code := runCLI(append(args, "--out", whole)...); code != 0 {
		t.Fatalf("uninterrupted run: exit %d: %s", code, stderr)
	}

	stopped := filepath.Join(dir, "stopped")
	cmd := exec.Command(os.Args[0], append(args, "--out", stopped)...)
	cmd.Env = append(os.Environ(), "XENT_TEST_RUN_MAIN=1")
	pipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	lines := bufio.NewScanner(pipe)
	for lines.Scan() {
		stderr.WriteString(lines.Text() + "\n")
		if strings.HasPrefix(lines.Text(), "epoch 1/3") {
			if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
				t.Fatal(err)
			}
			break
		}
	}
	for lines.Scan() {
		stderr.WriteString(lines.Text() + "\n")
	}
	err = cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(stderr.String(), "interrupted; saved") {
		t.Fatalf("interrupted run: %v\n%s", err, stderr.String())
	}
	ckpt := filepath.Join(stopped, "checkpoint.safetensors")
	if _, err := os.Stat(filepath.Join(stopped, "metrics.json")); err != nil {
		t.Fatal(err)
	}
	if _, stderr, code := runCLI("train", "--data", dir, "--resume", ckpt, "--out", stopped); code != 0 {
		t.Fatalf("resumed run: exit %d: %s", code, stderr)
	}
	for _, f := range []string{"metrics.json", "checkpoint.safetensors"} {
		if !bytes.Equal(readFile(t, filepath.Join(whole, f)), readFile(t, filepath.Join(stopped, f))) {
			t.Errorf("%s of the resumed run differs from the uninterrupted run's", f)
		}
	}
	// Resuming a finished run trains nothing and leaves the checkpoint as it was.
	before := readFile(t, ckpt)
	if _, stderr, code := runCLI("train", "--data", dir, "--resume", ckpt, "--out", stopped); code != 0 || !strings.Contains(stderr, "finished run of 3 epochs") {
		t.Errorf("resuming the finished run: exit %d: %s", code, stderr)
	}
	if !bytes.Equal(before, readFile(t, ckpt)) {
		t.Error("resuming a finished run changed its checkpoint")
	}
}

// TestTrainBadInput: bad flags exit 2 before any file is read, bad files
// exit 1 with the path in the message, and a checkpoint that fails to
// load is left as it was.
func TestTrainBadInput(t *testing.T) {
	dir := t.TempDir()
	writeStripes(t, dir, 32, 8)
	corruptData := filepath.Join(dir, "corrupt")
	if err := os.MkdirAll(corruptData, 0o755); err != nil {
		t.Fatal(err)
	}
	writeStripes(t, corruptData, 32, 8)
	img := filepath.Join(corruptData, "train-images-idx3-ubyte")
	if err := os.WriteFile(img, readFile(t, img)[:1000], 0o644); err != nil {
		t.Fatal(err)
	}
	badCkpt := filepath.Join(dir, "bad.safetensors")
	if err := os.WriteFile(badCkpt, []byte("not a checkpoint at all"), 0o644); err != nil {
		t.Fatal(err)
	}
	okRun := filepath.Join(dir, "ok")
	if _, stderr, code := runCLI("train", "--data", dir, "--epochs", "1", "--batch", "16", "--out", okRun); code != 0 {
		t.Fatalf("a good run: exit %d: %s", code, stderr)
	}
	goodCkpt := filepath.Join(okRun, "checkpoint.safetensors")
	good := readFile(t, goodCkpt)
	out := filepath.Join(dir, "out")
	for _, c := range []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{"--epochs", "0"}, 2, "epochs 0"},
		{[]string{"--batch", "-3"}, 2, "batch -3"},
		{[]string{"--lr", "0"}, 2, "learning rate 0"},
		{[]string{"--loss", "softmax-prob"}, 2, "training takes softmax"},
		{[]string{"--loss", "hinge"}, 2, `loss "hinge"`},
		{[]string{"--optimizer", "rmsprop"}, 2, `optimizer "rmsprop"`},
		{[]string{"--workers", "0"}, 2, "workers 0"},
		{[]string{"--dataset", "cifar"}, 2, `--dataset "cifar"`},
		{[]string{"--epochs", "x"}, 2, "invalid value"},
		{[]string{"--resume", badCkpt, "--lr", "0.1"}, 2, "--lr with --resume"},
		{[]string{"--data", filepath.Join(dir, "none")}, 1, filepath.Join(dir, "none")},
		{[]string{"--data", corruptData}, 1, "train-images-idx3-ubyte"},
		{[]string{"--resume", badCkpt}, 1, "bad checkpoint"},
		{[]string{"--resume", goodCkpt, "--dataset", "fashion-mnist"}, 2, "was trained on mnist"},
		{[]string{"--save", goodCkpt}, 2, "exists: continue it with --resume"},
		{[]string{"--resume", goodCkpt, "--save", badCkpt}, 2, "exists"},
		{[]string{"--resume", filepath.Join(dir, "missing.safetensors")}, 1, "missing.safetensors"},
	} {
		args := append([]string{"train", "--out", out}, c.args...)
		if !slices.Contains(c.args, "--data") {
			args = append(args, "--data", dir)
		}
		_, stderr, code := runCLI(args...)
		if code != c.code || !strings.Contains(stderr, c.stderr) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d with %q", c.args, code, stderr, c.code, c.stderr)
		}
	}
	if got := readFile(t, goodCkpt); !bytes.Equal(got, good) {
		t.Error("a refused run changed the existing checkpoint")
	}
	if got := readFile(t, badCkpt); string(got) != "not a checkpoint at all" {
		t.Errorf("the unreadable checkpoint was changed to %q", got)
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a failed run created its output directory")
	}
}

func TestPlot(t *testing.T) {
	out := filepath.Join(t.TempDir(), "figs")
	stdout, stderr, code := runCLI("plot", "--out", out)
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, name := range []string{"focal", "cross-entropy-loss", "cross-entropy-gradient", "activations"} {
		for _, ext := range []string{".png", ".svg"} {
			path := filepath.Join(out, name+ext)
			if fi, err := os.Stat(path); err != nil || fi.Size() < 1000 || !strings.Contains(stdout, path) {
				t.Errorf("%s: %v, listed: %v", path, err, strings.Contains(stdout, path))
			}
		}
	}
	if _, _, code := runCLI("plot", "--out", filepath.Join(out, "focal.png", "sub")); code != 1 {
		t.Errorf("plot into a file's path: exit %d, want 1", code)
	}
}

func TestExperimentBadInput(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{"experiment"}, 2, "name the experiment"},
		{[]string{"experiment", "cifar"}, 2, `unknown experiment "cifar"`},
		{[]string{"experiment", "multilabel", "--workers", "0"}, 2, "0 workers"},
		{[]string{"experiment", "multilabel", "--seeds", "0"}, 2, "0 seeds"},
		{[]string{"experiment", "multilabel", "--quick", "extra"}, 2, `unexpected argument "extra"`},
		{[]string{"experiment", "multilabel", "--data", filepath.Join(dir, "none")}, 1, filepath.Join(dir, "none")},
	} {
		_, stderr, code := runCLI(c.args...)
		if code != c.code || !strings.Contains(stderr, c.stderr) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d with %q", c.args, code, stderr, c.code, c.stderr)
		}
	}
	if stdout, _, code := runCLI("experiment", "-h"); code != 0 || !strings.Contains(stdout, "Usage: xent experiment multilabel") {
		t.Errorf("experiment -h: exit %d, %q", code, stdout)
	}
}

// TestTrainForce: a second run into the same folder is refused, and with
// --force starts over and replaces the checkpoint with its own.
func TestTrainForce(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "d")
	writeStripesOf(t, data, 12, 4, 4)
	out := filepath.Join(dir, "o")
	args := []string{"train", "--data", data, "--epochs", "1", "--batch", "4", "--out", out}
	if _, stderr, code := runCLI(args...); code != 0 {
		t.Fatalf("first run: %s", stderr)
	}
	first := readFile(t, filepath.Join(out, "checkpoint.safetensors"))
	if _, stderr, code := runCLI(append(args, "--seed", "2")...); code != 2 || !strings.Contains(stderr, "start over with --force") {
		t.Fatalf("second run without --force: exit %d, %s", code, stderr)
	}
	if _, stderr, code := runCLI(append(args, "--seed", "2", "--force")...); code != 0 {
		t.Fatalf("second run with --force: exit %d, %s", code, stderr)
	}
	if bytes.Equal(first, readFile(t, filepath.Join(out, "checkpoint.safetensors"))) {
		t.Error("--force left the first run's checkpoint")
	}
	ck := filepath.Join(out, "checkpoint.safetensors")
	if _, stderr, code := runCLI("train", "--resume", ck, "--force", "--data", data, "--out", out); code != 2 || !strings.Contains(stderr, "--force with --resume") {
		t.Errorf("--force with --resume: exit %d, %s", code, stderr)
	}
}

// TestStatusLine: the progress line fits the terminal, keeps the bar
// while it can, and drops parts in the documented order.
func TestStatusLine(t *testing.T) {
	pr := train.Progress{Epoch: 3, Batch: 512, Batches: 938, Loss: 0.0412, Accuracy: 0.9871}
	for _, c := range []struct {
		width      int
		bar        bool
		has, lacks []string
	}{
		{-1, true, []string{"[==========          ]", "img/s", "left"}, nil},
		{0, true, []string{"img/s", "acc 98.71%", "left"}, nil},
		{120, true, []string{"img/s", "acc", "loss", "left"}, nil},
		{80, true, []string{"img/s", "acc", "loss", "left"}, nil},
		{60, true, []string{"loss", "left"}, []string{"img/s"}},
		{50, true, []string{"left"}, []string{"img/s", "acc"}},
		{30, false, nil, []string{"img/s", "acc", "loss"}},
		{10, false, nil, nil},
	} {
		line := statusLine(c.width, pr, 5, 2801.4, 95*time.Second)
		if c.width > 0 && len([]rune(line)) > c.width-1 {
			t.Errorf("width %d: %d columns: %q", c.width, len([]rune(line)), line)
		}
		if got := strings.Contains(line, "["); got != c.bar {
			t.Errorf("width %d: bar %v, want %v: %q", c.width, got, c.bar, line)
		}
		for _, s := range c.has {
			if !strings.Contains(line, s) {
				t.Errorf("width %d: no %q in %q", c.width, s, line)
			}
		}
		for _, s := range c.lacks {
			if strings.Contains(line, s) {
				t.Errorf("width %d: %q in %q", c.width, s, line)
			}
		}
	}
}
