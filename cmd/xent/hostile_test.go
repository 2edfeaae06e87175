package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io/fs"
	"maps"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xent-go/xent/internal/npy"
	"github.com/xent-go/xent/internal/testdev"
)

// The command's promises under hostile input, each kind tried more than
// once, every case run as a real process (so that a Go fatal error, which
// no recover catches, shows as what it is):
//
//   - no stack trace, panic or Go runtime error on stderr;
//   - exit 2 for a bad invocation, 1 for a failure, 0 for success;
//   - the first line of stderr an "xent:" message;
//   - after a failure the working directory holds exactly the files it
//     held, byte for byte: no input changed, no output half-written, no
//     temporary file left.
//
// Processes run with an 8 GiB address-space limit (ulimit -v), so that a
// regression that allocates without bound fails here instead of taking
// the machine's memory; not under the race detector, whose shadow memory
// needs more.

// hostileCase is one command line, with the files it needs made in dir.
type hostileCase struct {
	kind, name string
	setup      func(t *testing.T, dir string) []string // returns the arguments
	stdout     string                                  // a path for the process's stdout ("": a pipe)
	code       int
	stderr     string   // the first stderr line contains it
	creates    []string // files a successful case adds to dir
}

var hostileCases = []hostileCase{
	// Sizes that would have allocated without bound, or overflowed.
	{kind: "size", name: "softmax-focal α for 4·10⁹ classes and no position",
		setup: func(t *testing.T, dir string) []string {
			writeNpyHeader(t, dir, "x.npy", "<f4", "(0, 4000000000)")
			writeNpy(t, filepath.Join(dir, "t.npy"), []int{0}, []int64{})
			return []string{"eval", "--loss", "softmax-focal", "--alpha", "0.5", "--logits", "x.npy", "--targets", "t.npy"}
		}, code: 1, stderr: "more memory than this process can have"},
	{kind: "size", name: "bench runs 2^62", setup: args("bench", "--loss", "softmax", "--runs", "4611686018427387904", "--min-time", "1ns"),
		code: 2, stderr: "--runs 4611686018427387904: want 1 to 1000"},
	{kind: "size", name: "linear-softmax runs 0", setup: args("bench", "--loss", "linear-softmax", "--shape", "4x3x5", "--runs", "0"),
		code: 2, stderr: "--runs 0"},
	{kind: "size", name: "gradcheck of 2^31 logits", setup: args("gradcheck", "--loss", "softmax", "--shape", "2x1073741824"),
		code: 2, stderr: "at most 65536"},
	{kind: "size", name: "bench of 2^31 logits", setup: args("bench", "--loss", "softmax", "--shape", "65536x32768"),
		code: 1, stderr: "more memory than this process can have"},
	{kind: "size", name: "linear-softmax of 10^16 weights", setup: args("bench", "--loss", "linear-softmax", "--shape", "100000x100000000x100000000"),
		code: 1, stderr: "more memory than this process can have"},
	{kind: "size", name: "an .npy header of 8·10^15 bytes and no data",
		setup: func(t *testing.T, dir string) []string {
			writeNpyHeader(t, dir, "x.npy", "<f8", "(1000000, 1000000, 1000)")
			writeNpyHeader(t, dir, "t.npy", "<i8", "(1000000, 1000)")
			return []string{"eval", "--loss", "softmax", "--logits", "x.npy", "--targets", "t.npy"}
		}, code: 1, stderr: "larger than"},
	{kind: "size", name: "an .npy of 2 GB claimed, 0 bytes there",
		setup: func(t *testing.T, dir string) []string {
			writeNpyHeader(t, dir, "x.npy", "<f4", "(1000, 500000)")
			return []string{"eval", "--loss", "softmax", "--logits", "x.npy", "--targets", "x.npy"}
		}, code: 1, stderr: "needs 2000000000 bytes of data, the file has 0"},
	{kind: "size", name: "train batch 2^63−1", setup: func(t *testing.T, dir string) []string {
		writeStripesOf(t, filepath.Join(dir, "d"), 12, 4, 4)
		return []string{"train", "--data", "d", "--epochs", "1", "--batch", strconv.FormatInt(math.MaxInt64, 10), "--out", "o"}
	}, code: 0, creates: []string{"o/checkpoint.safetensors", "o/metrics.json", "o/loss.png", "o/loss.svg", "o/accuracy.png",
		"o/accuracy.svg", "o/confusion.png", "o/confusion.svg", "o/report.html"}},
	{kind: "size", name: "resume of a 30 GB file", setup: func(t *testing.T, dir string) []string {
		good := goodCheckpoint(t)
		n := binary.LittleEndian.Uint64(good)
		path := filepath.Join(dir, "big.safetensors")
		if err := os.WriteFile(path, good[:8+n], 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Truncate(path, 30<<30); err != nil {
			t.Skip("no sparse files:", err)
		}
		writeStripesOf(t, filepath.Join(dir, "d"), 12, 4, 4)
		return []string{"train", "--resume", "big.safetensors", "--data", "d", "--out", "o"}
	}, code: 1, stderr: "the tensors take"},

	// Outputs that are inputs or each other, and outputs that fail.
	{kind: "clobber", name: "--out-grad is --logits", setup: evalArgs("--out-grad", "x.npy"), code: 2, stderr: "--out-grad x.npy: output names the same file as the input x.npy"},
	{kind: "clobber", name: "--out-grad is --targets through a link", setup: func(t *testing.T, dir string) []string {
		a := evalArgs()(t, dir)
		if err := os.Symlink("t.npy", filepath.Join(dir, "link.npy")); err != nil {
			t.Fatal(err)
		}
		return append(a, "--out-grad", "link.npy")
	}, code: 2, stderr: "output names the same file as the input t.npy"},
	{kind: "clobber", name: "--out-loss is --out-grad spelt otherwise", setup: evalArgs("--out-loss", "l.npy", "--out-grad", "./l.npy"),
		code: 2, stderr: "--out-grad ./l.npy: output names the same file as --out-loss l.npy"},
	{kind: "clobber", name: "--out-grad in a missing directory", setup: evalArgs("--out-loss", "l.npy", "--out-grad", "nodir/g.npy"),
		code: 2, stderr: "the directory nodir"},
	{kind: "clobber", name: "--out-grad to a full device", setup: withDevice(testdev.Full, evalArgs("--out-loss", "l.npy", "--out-grad", "dev/full")),
		code: 1, stderr: "writing dev/full: no space left on device"},
	{kind: "clobber", name: "stdout a full device", setup: withDevice(testdev.Full, evalArgs("--out-loss", "l.npy")), stdout: "dev/full",
		code: 1, stderr: "writing standard output: write /dev/stdout: no space left on device"},
	{kind: "clobber", name: "--out-grad a null device stays a device", setup: withDevice(testdev.Null, evalArgs("--out-loss", "l.npy", "--out-grad", "dev/null")),
		code: 0, creates: []string{"l.npy"}},
	{kind: "clobber", name: "plot where a figure's name is a directory", setup: func(t *testing.T, dir string) []string {
		if err := os.MkdirAll(filepath.Join(dir, "p", "focal.svg"), 0o755); err != nil {
			t.Fatal(err)
		}
		return []string{"plot", "--out", "p"}
	}, code: 1, stderr: "focal.svg p/focal.svg is a directory"},
	{kind: "clobber", name: "plot on a full disk", setup: onFullDisk(args("plot", "--out", "disk")),
		code: 1, stderr: "no space left on device"},
	{kind: "clobber", name: "eval on a full disk, the second output too large", setup: onFullDisk(func(t *testing.T, dir string) []string {
		x := make([]float32, 100*1000)
		writeNpy(t, filepath.Join(dir, "x.npy"), []int{100, 1000}, x)
		writeNpy(t, filepath.Join(dir, "t.npy"), []int{100}, make([]int64, 100))
		return []string{"eval", "--loss", "softmax", "--logits", "x.npy", "--targets", "t.npy", "--out-loss", "disk/l.npy", "--out-grad", "disk/g.npy"}
	}), code: 1, stderr: "writing disk/g.npy: no space left on device"},
	{kind: "clobber", name: "plot with stdout full", setup: withDevice(testdev.Full, args("plot", "--out", ".")), stdout: "dev/full",
		code: 1, stderr: "writing standard output"},

	// .npy headers that numpy reads otherwise, or not at all.
	{kind: "npy", name: "'shape' inside the dtype", setup: func(t *testing.T, dir string) []string {
		writeNpyHeader(t, dir, "x.npy", `'<f4', 'x': "'shape': (1, 3)"`, "(2, 3)")
		return []string{"eval", "--loss", "softmax", "--logits", "x.npy", "--targets", "x.npy"}
	}, code: 1, stderr: "key 'x' is not one of descr, fortran_order and shape"},
	{kind: "npy", name: "a repeated shape key", setup: func(t *testing.T, dir string) []string {
		writeNpyHeader(t, dir, "x.npy", "'<f4'", "(2, 3), 'shape': (1, 6)")
		return []string{"eval", "--loss", "softmax", "--logits", "x.npy", "--targets", "x.npy"}
	}, code: 1, stderr: "key 'shape' given twice"},
	{kind: "npy", name: "a one-tuple without its comma", setup: func(t *testing.T, dir string) []string {
		writeNpyHeader(t, dir, "x.npy", "'<f4'", "(6)")
		return []string{"eval", "--loss", "softmax", "--logits", "x.npy", "--targets", "x.npy"}
	}, code: 1, stderr: "shape (6) is not a tuple"},
	{kind: "npy", name: "a uint64 target above int64", setup: func(t *testing.T, dir string) []string {
		a := evalArgs()(t, dir)
		b := npyBytes(t, []int{2}, []int64{0, -1})
		copy(b[bytes.Index(b, []byte("<i8")):], "<u8") // the same bits: 2^64 − 1
		if err := os.WriteFile(filepath.Join(dir, "t.npy"), b, 0o644); err != nil {
			t.Fatal(err)
		}
		return a
	}, code: 1, stderr: "target 18446744073709551615 at position 1 is outside [0, 3)"},
	{kind: "npy", name: "data past the shape", setup: func(t *testing.T, dir string) []string {
		a := evalArgs()(t, dir)
		f, err := os.OpenFile(filepath.Join(dir, "x.npy"), os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		f.Write([]byte{0, 0, 0, 0})
		f.Close()
		return a
	}, code: 1, stderr: "data continues past shape"},

	// Checkpoints changed after they were written.
	{kind: "checkpoint", name: "one flipped byte in a weight", setup: resumeArgs(func(b []byte) []byte {
		b[len(b)-5] ^= 0x10
		return b
	}), code: 1, stderr: "the checksum does not match"},
	{kind: "checkpoint", name: "a NaN weight, checksum recomputed", setup: resumeArgs(func(b []byte) []byte {
		n := binary.LittleEndian.Uint64(b)
		binary.LittleEndian.PutUint32(b[8+n:], math.Float32bits(float32(math.NaN())))
		return sign(b)
	}), code: 1, stderr: "value NaN at index 0"},
	{kind: "checkpoint", name: "a header length 3 bytes short", setup: resumeArgs(func(b []byte) []byte {
		binary.LittleEndian.PutUint64(b, binary.LittleEndian.Uint64(b)-3)
		return b
	}), code: 1, stderr: "bad checkpoint"},
	{kind: "checkpoint", name: "trailing bytes", setup: resumeArgs(func(b []byte) []byte { return append(b, 0, 0, 0, 0) }),
		code: 1, stderr: "the tensors take"},
	{kind: "checkpoint", name: "an epoch of 2^63, checksum recomputed", setup: resumeArgs(func(b []byte) []byte {
		return sign(editHeader(b, `"epoch":"2"`, `"epoch":"9223372036854775808"`))
	}), code: 1, stderr: `epoch "9223372036854775808"`},
	{kind: "checkpoint", name: "the format of version 1", setup: resumeArgs(func(b []byte) []byte {
		return sign(editHeader(b, `"xent-train/2"`, `"xent-train/1"`))
	}), code: 1, stderr: `format "xent-train/1"`},

	// Flags out of range, and the one-line errors.
	{kind: "flags", name: "gradcheck tolerance NaN", setup: args("gradcheck", "--loss", "softmax", "--tolerance", "NaN"), code: 2, stderr: "--tolerance NaN"},
	{kind: "flags", name: "gradcheck tolerance −1", setup: args("gradcheck", "--loss", "softmax", "--tolerance", "-1"), code: 2, stderr: "--tolerance -1"},
	{kind: "flags", name: "linear-softmax workers −3", setup: args("bench", "--loss", "linear-softmax", "--shape", "4x3x5", "--workers", "-3"), code: 2, stderr: "--workers -3"},
	{kind: "flags", name: "bench min-time 0 with json", setup: args("bench", "--loss", "softmax", "--min-time", "0", "--json"), code: 2, stderr: "--min-time 0s"},
	{kind: "flags", name: "linear-softmax chunk −1", setup: args("bench", "--loss", "linear-softmax", "--shape", "4x3x5", "--chunk", "-1"), code: 2, stderr: "--chunk -1"},
	{kind: "flags", name: "train workers 10^6", setup: args("train", "--workers", "1000000"), code: 2, stderr: "workers 1000000: want 1 to 4096"},
	{kind: "flags", name: "train learning rate Inf", setup: args("train", "--lr", "Inf"), code: 2, stderr: "learning rate +Inf"},
	{kind: "flags", name: "an unknown command", setup: args("evaluate"), code: 2, stderr: `unknown command "evaluate"`},
	{kind: "flags", name: "label smoothing NaN", setup: evalArgs("--label-smoothing", "NaN"), code: 2, stderr: "label smoothing NaN"},
}

// withDevice makes a private device node in dir/dev (testdev) before
// setup, so that no case writes to the machine's /dev.
func withDevice(device func(testing.TB, string) string, setup func(*testing.T, string) []string) func(*testing.T, string) []string {
	return func(t *testing.T, dir string) []string {
		if err := os.Mkdir(filepath.Join(dir, "dev"), 0o755); err != nil && !os.IsExist(err) {
			t.Fatal(err)
		}
		device(t, filepath.Join(dir, "dev"))
		return setup(t, dir)
	}
}

// onFullDisk mounts a 64 KiB tmpfs at dir/disk before setup (skipping
// where mounting is not allowed), for the outputs of a case to fill.
func onFullDisk(setup func(*testing.T, string) []string) func(*testing.T, string) []string {
	return func(t *testing.T, dir string) []string {
		disk := filepath.Join(dir, "disk")
		if err := os.Mkdir(disk, 0o755); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", disk).CombinedOutput(); err != nil {
			t.Skipf("cannot mount a small file system: %v %s", err, out)
		}
		t.Cleanup(func() { exec.Command("umount", disk).Run() })
		return setup(t, dir)
	}
}

func args(a ...string) func(*testing.T, string) []string {
	return func(*testing.T, string) []string { return a }
}

// evalArgs writes a small softmax case (2×3 logits, targets 0 and 2) and
// returns eval's arguments for it, then extra.
func evalArgs(extra ...string) func(*testing.T, string) []string {
	return func(t *testing.T, dir string) []string {
		writeNpy(t, filepath.Join(dir, "x.npy"), []int{2, 3}, []float32{1, 2, 3, -1, 0, 1})
		writeNpy(t, filepath.Join(dir, "t.npy"), []int{2}, []int64{0, 2})
		return append([]string{"eval", "--loss", "softmax", "--logits", "x.npy", "--targets", "t.npy"}, extra...)
	}
}

// writeNpyHeader writes a .npy file of a version 1.0 header with the
// descr and shape texts as given and no data.
func writeNpyHeader(t *testing.T, dir, name, descr, shape string) {
	t.Helper()
	if !strings.HasPrefix(descr, "'") {
		descr = "'" + descr + "'"
	}
	dict := fmt.Sprintf("{'descr': %s, 'fortran_order': False, 'shape': %s, }", descr, shape)
	dict += strings.Repeat(" ", (64-(10+len(dict)+1)%64)%64) + "\n"
	b := append([]byte("\x93NUMPY\x01\x00"), byte(len(dict)), byte(len(dict)>>8))
	if err := os.WriteFile(filepath.Join(dir, name), append(b, dict...), 0o644); err != nil {
		t.Fatal(err)
	}
}

func npyBytes(t *testing.T, shape []int, data any) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := npy.Write(&buf, shape, data); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

var (
	goodOnce sync.Once
	goodCk   []byte
	goodErr  error
)

// goodCheckpoint is the checkpoint of a finished two-epoch run of xent
// train on 4×4 stripes, made once; resuming it reads the whole file.
func goodCheckpoint(t *testing.T) []byte {
	t.Helper()
	goodOnce.Do(func() {
		dir, err := os.MkdirTemp("", "xent-ck-")
		if err != nil {
			goodErr = err
			return
		}
		defer os.RemoveAll(dir)
		writeStripesOf(t, filepath.Join(dir, "d"), 12, 4, 4)
		if _, stderr, code := runCLI("train", "--data", filepath.Join(dir, "d"), "--epochs", "2", "--batch", "4", "--out", filepath.Join(dir, "o")); code != 0 {
			goodErr = fmt.Errorf("training the checkpoint: %s", stderr)
			return
		}
		goodCk, goodErr = os.ReadFile(filepath.Join(dir, "o", "checkpoint.safetensors"))
	})
	if goodErr != nil {
		t.Fatal(goodErr)
	}
	return slices.Clone(goodCk)
}

// resumeArgs writes the good checkpoint changed by damage and returns
// the arguments that resume it.
func resumeArgs(damage func([]byte) []byte) func(*testing.T, string) []string {
	return func(t *testing.T, dir string) []string {
		if err := os.WriteFile(filepath.Join(dir, "ck.safetensors"), damage(goodCheckpoint(t)), 0o644); err != nil {
			t.Fatal(err)
		}
		writeStripesOf(t, filepath.Join(dir, "d"), 12, 4, 4)
		return []string{"train", "--resume", "ck.safetensors", "--data", "d", "--out", "o"}
	}
}

// editHeader replaces old by new in a checkpoint's header, padding it
// again to a multiple of 8 bytes and fixing its length.
func editHeader(b []byte, old, new string) []byte {
	n := binary.LittleEndian.Uint64(b)
	h := strings.TrimRight(string(b[8:8+n]), " ")
	if !strings.Contains(h, old) {
		panic("editHeader: no " + old)
	}
	h = strings.Replace(h, old, new, 1)
	for len(h)%8 != 0 {
		h += " "
	}
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(h)))
	return append(append(out, h...), b[8+n:]...)
}

// sign recomputes a checkpoint's checksum as xent train writes it: the
// SHA-256 of the file with the 64 digits of "sha256" as zeros.
func sign(b []byte) []byte {
	key := []byte(`"sha256":"`)
	i := bytes.Index(b, key) + len(key)
	copy(b[i:i+64], strings.Repeat("0", 64))
	sum := sha256.Sum256(b)
	hex.Encode(b[i:i+64], sum[:])
	return b
}

// snapshot maps every regular file below dir to its content's digest (a
// file over 64 MiB, such as a sparse one, to its size and time instead).
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			rel, _ := filepath.Rel(dir, path)
			if fi, err := d.Info(); err == nil && fi.Size() > 64<<20 {
				files[rel] = fmt.Sprint(fi.Size(), fi.ModTime())
				return nil
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			sum := sha256.Sum256(b)
			files[rel] = hex.EncodeToString(sum[:])
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// runProcess runs the test binary as xent in dir.
func runProcess(t *testing.T, dir, stdoutPath string, args []string) (stdout, stderr string, code int) {
	t.Helper()
	// A case that hangs fails instead of holding up the run.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var cmd *exec.Cmd
	if raceEnabled {
		cmd = exec.CommandContext(ctx, os.Args[0], args...)
	} else {
		cmd = exec.CommandContext(ctx, "/bin/sh", append([]string{"-c", `ulimit -v 8388608 && exec "$0" "$@"`, xentBinary()}, args...)...)
	}
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "XENT_TEST_RUN_MAIN=1")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if stdoutPath != "" {
		f, err := os.OpenFile(filepath.Join(dir, stdoutPath), os.O_WRONLY, 0)
		if err != nil {
			t.Skip("no", stdoutPath, err)
		}
		defer f.Close()
		cmd.Stdout = f
	}
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("%v did not finish in 3 minutes", args)
	}
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

// xentBinary is the program the hostile cases run: this test binary as
// xent, or $XENT_HOSTILE_BINARY (an older build, to see which cases it
// fails).
func xentBinary() string {
	if b := os.Getenv("XENT_HOSTILE_BINARY"); b != "" {
		return b
	}
	return os.Args[0]
}

func TestHostileInput(t *testing.T) {
	kinds := map[string]int{}
	for _, c := range hostileCases {
		kinds[c.kind]++
	}
	for kind, n := range kinds {
		if n < 2 {
			t.Errorf("kind %s has %d case; every kind needs more than one", kind, n)
		}
	}
	for _, c := range hostileCases {
		t.Run(c.kind+"/"+c.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			args := c.setup(t, dir)
			before := snapshot(t, dir)
			_, stderr, code := runProcess(t, dir, c.stdout, args)
			for _, bad := range []string{"panic", "goroutine ", "fatal error", "runtime error", "runtime.", ".go:"} {
				if strings.Contains(stderr, bad) {
					t.Fatalf("%q on stderr:\n%s", bad, stderr)
				}
			}
			first, _, _ := strings.Cut(stderr, "\n")
			if code != c.code || (c.code != 0 && (!strings.HasPrefix(first, "xent: ") || !strings.Contains(stderr, c.stderr))) {
				t.Fatalf("exit %d, want %d with a first stderr line %q…\nstderr:\n%s", code, c.code, c.stderr, stderr)
			}
			if c.code != 0 && strings.Count(stderr, "\n") != 1 {
				t.Errorf("stderr is %d lines, want the one xent: line:\n%s", strings.Count(stderr, "\n"), stderr)
			}
			after := snapshot(t, dir)
			for name, sum := range before {
				if after[name] != sum {
					t.Errorf("%s changed or vanished", name)
				}
			}
			added := slices.Sorted(maps.Keys(after))
			added = slices.DeleteFunc(added, func(n string) bool { _, ok := before[n]; return ok })
			if want := slices.Sorted(slices.Values(c.creates)); !slices.Equal(added, want) {
				t.Errorf("files added %v, want %v", added, want)
			}
			for _, dev := range []string{"dev/null", "dev/full"} {
				if fi, err := os.Lstat(filepath.Join(dir, dev)); err == nil && fi.Mode()&os.ModeDevice == 0 {
					t.Errorf("%s is no longer a device", dev)
				}
			}
		})
	}
}
