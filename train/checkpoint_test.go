package train

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xent-go/xent/data"
	"github.com/xent-go/xent/internal/safetensors"
	"github.com/xent-go/xent/nn"
)

// tiny is a 2-class set of 4×4 images, for checkpoints small enough to
// walk byte by byte (74 KB with SGD's momentum, 110 KB with Adam's state).
func tiny(n int, seed uint64) *data.Set { return stripesOf(n, seed, 4, 2) }

// midRun returns a checkpoint saved in the middle of the second epoch, so
// that every position field and the optimiser's state are in it.
func midRun(t testing.TB, optimizer string, trainSet, testSet *data.Set) []byte {
	t.Helper()
	c := Defaults()
	c.Epochs, c.Batch, c.Optimizer = 3, 8, optimizer
	tr, err := New(c, "tiny", trainSet, testSet)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	err = tr.Run(ctx, func(p Progress) {
		if p.Epoch == 2 && p.Batch == 2 {
			cancel()
		}
	}, nil)
	if !errors.Is(err, ErrStopped) {
		t.Fatalf("Run = %v, want ErrStopped", err)
	}
	path := filepath.Join(t.TempDir(), "mid.safetensors")
	if err := tr.Save(path); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestEveryByteChanged: a checkpoint with any one byte changed is refused
// by Resume, LoadModel and CheckpointDataset with ErrCheckpoint, and the
// file is left as it was. The checkpoint is SGD's with momentum (74 KB: the
// weights and one state tensor each), which walks in a third of the time
// of Adam's; Adam's own value checks are in TestDamagedButSigned.
func TestEveryByteChanged(t *testing.T) {
	trainSet, testSet := tiny(20, 1), tiny(6, 2)
	good := midRun(t, "sgd", trainSet, testSet)
	dir := t.TempDir()
	path := filepath.Join(dir, "c.safetensors")
	if err := os.WriteFile(path, good, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Resume(path, trainSet, testSet); err != nil {
		t.Fatalf("the good checkpoint: %v", err)
	}
	start := time.Now()
	// Two walkers (the machine's cores), each over its own copy of the
	// file, change one byte in place, resume, and put the byte back.
	const walkers = 2
	errs := make(chan error, walkers)
	for w := range walkers {
		go func() { errs <- walkBytes(path, w, walkers, good, trainSet, testSet) }()
	}
	for range walkers {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	t.Logf("%d bytes walked in %v", len(good), time.Since(start).Round(time.Millisecond))
}

// walkBytes changes each byte i ≡ w (mod walkers) of a copy of good in
// turn and checks that Resume refuses it and leaves the file as it was.
func walkBytes(path string, w, walkers int, good []byte, trainSet, testSet *data.Set) error {
	path += "." + strconv.Itoa(w)
	if err := os.WriteFile(path, good, 0o644); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	after := make([]byte, len(good))
	for i := w; i < len(good); i += walkers {
		changed := good[i] ^ 1<<(i%8) // every bit position, across the file
		if _, err := f.WriteAt([]byte{changed}, int64(i)); err != nil {
			return err
		}
		if _, err := Resume(path, trainSet, testSet); !errors.Is(err, ErrCheckpoint) {
			return fmt.Errorf("byte %d of %d changed: Resume = %v, want ErrCheckpoint", i, len(good), err)
		}
		if _, err := LoadModel(path); !errors.Is(err, ErrCheckpoint) {
			return fmt.Errorf("byte %d of %d changed: LoadModel = %v, want ErrCheckpoint", i, len(good), err)
		}
		if i%97 == w { // CheckpointDataset reads the same way; a sample suffices
			if _, err := CheckpointDataset(path); !errors.Is(err, ErrCheckpoint) {
				return fmt.Errorf("byte %d changed: CheckpointDataset = %v", i, err)
			}
		}
		if _, err := f.ReadAt(after, 0); err != nil || after[i] != changed || !bytes.Equal(after[:i], good[:i]) || !bytes.Equal(after[i+1:], good[i+1:]) {
			return fmt.Errorf("byte %d changed: Resume changed the file", i)
		}
		if _, err := f.WriteAt(good[i:i+1], int64(i)); err != nil {
			return err
		}
	}
	return nil
}

// resign rewrites a checkpoint with its metadata and tensors changed by
// edit and a checksum that fits: what a careless tool (or an attacker)
// would produce. Only the value checks stand between it and a run.
func resign(t *testing.T, b []byte, edit func(meta map[string]string, tensors map[string][]float32)) []byte {
	t.Helper()
	r := bytes.NewReader(b)
	h, err := safetensors.ReadHeader(r, int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	body, err := safetensors.ReadData(r, h)
	if err != nil {
		t.Fatal(err)
	}
	values := map[string][]float32{}
	for _, ti := range h.Tensors {
		raw := ti.Bytes(body)
		v := make([]float32, len(raw)/4)
		for i := range v {
			v[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		}
		values[ti.Name] = v
	}
	edit(h.Metadata, values)
	h.Metadata[checksumKey] = string(zeroDigest)
	var tensors []safetensors.Tensor
	for _, ti := range h.Tensors {
		v, ok := values[ti.Name]
		if !ok {
			continue
		}
		raw := make([]byte, 0, 4*len(v))
		for _, x := range v {
			raw = binary.LittleEndian.AppendUint32(raw, math.Float32bits(x))
		}
		tensors = append(tensors, safetensors.Tensor{Name: ti.Name, DType: "F32", Shape: []int{len(v)}, Data: raw})
		if len(ti.Shape) != 1 || ti.Shape[0] != len(v) {
			tensors[len(tensors)-1].Shape = ti.Shape
		}
		delete(values, ti.Name)
	}
	for name, v := range values { // added by edit
		raw := make([]byte, 0, 4*len(v))
		for _, x := range v {
			raw = binary.LittleEndian.AppendUint32(raw, math.Float32bits(x))
		}
		tensors = append(tensors, safetensors.Tensor{Name: name, DType: "F32", Shape: []int{len(v)}, Data: raw})
	}
	file, err := safetensors.Encode(tensors, h.Metadata)
	if err != nil {
		t.Fatal(err)
	}
	at, err := digestAt(file)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(file)
	hex.Encode(file[at:], sum[:])
	return file
}

// TestDamagedButSigned: files whose checksum fits but whose values do not
// are refused, each naming what is wrong.
func TestDamagedButSigned(t *testing.T) {
	trainSet, testSet := tiny(20, 1), tiny(6, 2)
	good := midRun(t, "adam", trainSet, testSet)
	same := resign(t, good, func(map[string]string, map[string][]float32) {})
	if !bytes.Equal(same, good) {
		t.Fatal("resign without an edit does not give Save's bytes: the test's signing is not Save's")
	}
	dir := t.TempDir()
	for _, c := range []struct {
		name string
		edit func(meta map[string]string, tensors map[string][]float32)
		want string
	}{
		{"NaN weight", func(_ map[string]string, ts map[string][]float32) { ts["net.0.weight"][3] = float32(math.NaN()) }, "tensor net.0.weight: value NaN at index 3"},
		{"infinite bias", func(_ map[string]string, ts map[string][]float32) { ts["net.7.bias"][0] = float32(math.Inf(1)) }, "tensor net.7.bias: value +Inf"},
		{"negative second moment", func(_ map[string]string, ts map[string][]float32) { ts["adam.v.2"][5] = -1 }, "tensor adam.v.2: value -1 at index 5"},
		{"an extra tensor", func(_ map[string]string, ts map[string][]float32) { ts["net.99.weight"] = []float32{1} }, "tensors, want"},
		{"a missing tensor", func(_ map[string]string, ts map[string][]float32) { delete(ts, "adam.m.0") }, "tensors, want"},
		{"epoch 2^63", func(m map[string]string, _ map[string][]float32) { m["epoch"] = "9223372036854775808" }, `epoch "9223372036854775808"`},
		{"images 2^63−1", func(m map[string]string, _ map[string][]float32) { m["images"] = strconv.FormatInt(math.MaxInt64, 10) }, "not a position of this run"},
		{"correct above images", func(m map[string]string, _ map[string][]float32) { m["correct"] = "17" }, "not a position of this run"},
		{"batch past the epoch", func(m map[string]string, _ map[string][]float32) { m["batch"] = "3"; m["images"] = "24" }, "not a position of this run"},
		{"epoch +1", func(m map[string]string, _ map[string][]float32) { m["epoch"] = "+1" }, `epoch "+1"`},
		{"loss sum NaN", func(m map[string]string, _ map[string][]float32) { m["loss_sum"] = "NaN" }, "loss_sum \"NaN\""},
		{"loss sum negative", func(m map[string]string, _ map[string][]float32) { m["loss_sum"] = "-1" }, "loss_sum \"-1\""},
		{"adam steps", func(m map[string]string, _ map[string][]float32) { m["adam_t"] = "4611686018427387904" }, "adam_t"},
		{"an extra metadata key", func(m map[string]string, _ map[string][]float32) { m["note"] = "x" }, "metadata keys"},
		{"config with an unknown field", func(m map[string]string, _ map[string][]float32) {
			m["config"] = strings.Replace(m["config"], `{`, `{"extra":1,`, 1)
		}, `config: json: unknown field "extra"`},
		{"config out of range", func(m map[string]string, _ map[string][]float32) {
			m["config"] = strings.Replace(m["config"], `"batch":8`, `"batch":0`, 1)
		}, "batch 0"},
		{"metrics of another run", func(m map[string]string, _ map[string][]float32) {
			m["metrics"] = strings.Replace(m["metrics"], `"dataset":"tiny"`, `"dataset":"tinx"`, 1)
		}, "metrics:"},
		{"metrics accuracy above 1", func(m map[string]string, _ map[string][]float32) {
			m["metrics"] = strings.Replace(m["metrics"], `"test_accuracy":`, `"test_accuracy":1`, 1)
		}, "metrics: epoch 1: accuracy"},
		{"format 1", func(m map[string]string, _ map[string][]float32) { m["format"] = "xent-train/1" }, `format "xent-train/1"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := resign(t, good, c.edit)
			path := filepath.Join(dir, "c.safetensors")
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Resume(path, trainSet, testSet)
			if !errors.Is(err, ErrCheckpoint) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Resume = %v, want ErrCheckpoint saying %q", err, c.want)
			}
		})
	}
}

// TestLargeFileNotRead: a 30 GB checkpoint (a sparse file: a good header,
// then zeros) is refused from its header, at once: its tensors do not
// tile the data, and nothing past the header is read.
func TestLargeFileNotRead(t *testing.T) {
	trainSet, testSet := tiny(20, 1), tiny(6, 2)
	good := midRun(t, "adam", trainSet, testSet)
	r := bytes.NewReader(good)
	h, err := safetensors.ReadHeader(r, int64(len(good)))
	if err != nil {
		t.Fatal(err)
	}
	const big = 30 << 30
	path := filepath.Join(t.TempDir(), "big.safetensors")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(good[:8+len(h.Raw)]); err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(big); err != nil {
		t.Skip("no sparse files here:", err)
	}
	f.Close()
	start := time.Now()
	_, err = Resume(path, trainSet, testSet)
	if !errors.Is(err, ErrCheckpoint) || !strings.Contains(err.Error(), "the tensors take") {
		t.Fatalf("Resume = %v, want ErrCheckpoint about the tensors' size", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("refusing a 30 GB file took %v: it was read", d)
	}
}

// FuzzResume: any file gives a trainer (and a model, from LoadModel) or
// an ErrCheckpoint error, never a panic, and the file is left as it was. Each input is tried as it is
// (where the checksum stops nearly every change) and signed again with a
// checksum that fits, so that the checks behind the checksum are fuzzed
// too.
func FuzzResume(f *testing.F) {
	trainSet, testSet := tiny(20, 1), tiny(6, 2)
	for _, opt := range []string{"sgd", "adam"} {
		f.Add(midRun(f, opt, trainSet, testSet))
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		inputs := [][]byte{b}
		if _, err := digestAt(b); err == nil {
			signed := slices.Clone(b)
			at, _ := digestAt(signed)
			copy(signed[at:], zeroDigest)
			sum := sha256.Sum256(signed)
			hex.Encode(signed[at:], sum[:])
			inputs = append(inputs, signed)
		}
		for _, in := range inputs {
			path := filepath.Join(dir, "fuzz.safetensors")
			if err := os.WriteFile(path, in, 0o644); err != nil {
				t.Fatal(err)
			}
			tr, err := Resume(path, trainSet, testSet)
			if err != nil && !errors.Is(err, ErrCheckpoint) && !errors.Is(err, ErrConfig) {
				t.Fatalf("Resume = %v, wraps neither ErrCheckpoint nor ErrConfig", err)
			}
			if err == nil && tr.Done() && len(tr.Metrics().Epochs) != tr.cfg.Epochs {
				t.Fatalf("a finished run with %d epochs of metrics", len(tr.Metrics().Epochs))
			}
			m, err := LoadModel(path)
			if err != nil && !errors.Is(err, ErrCheckpoint) {
				t.Fatalf("LoadModel = %v, does not wrap ErrCheckpoint", err)
			}
			if err == nil && (m.Classes < 2 || m.Network == nil) {
				t.Fatalf("LoadModel = %+v", m)
			}
			if after, _ := os.ReadFile(path); !bytes.Equal(after, in) {
				t.Fatal("Resume or LoadModel changed the file")
			}
		}
	})
}

// affine is a test layer with two 1-D parameters, as a batch norm has:
// y = x·scale + shift per input value.
type affine struct {
	scale, shift *nn.Param[float32]
	names        [2]string
	x            []float32
}

func (a *affine) Init(in nn.Shape, rng *rand.Rand) (nn.Shape, error) {
	n := in.Size()
	a.scale = &nn.Param[float32]{Name: a.names[0], Shape: []int{n}, Value: make([]float32, n), Grad: make([]float32, n)}
	a.shift = &nn.Param[float32]{Name: a.names[1], Shape: []int{n}, Value: make([]float32, n), Grad: make([]float32, n)}
	for i := range n {
		a.scale.Value[i], a.shift.Value[i] = 1+rng.Float32(), rng.Float32()-0.5
	}
	return in, nil
}

func (a *affine) Forward(x []float32, n int) []float32 {
	a.x = x
	y := make([]float32, len(x))
	for i, v := range x {
		k := i % len(a.scale.Value)
		y[i] = v*a.scale.Value[k] + a.shift.Value[k]
	}
	return y
}

func (a *affine) Backward(dout []float32) []float32 {
	dx := make([]float32, len(dout))
	for i, d := range dout {
		k := i % len(a.scale.Value)
		a.scale.Grad[k] += d * a.x[i]
		a.shift.Grad[k] += d
		dx[i] = d * a.scale.Value[k]
	}
	return dx
}

func (a *affine) Params() []*nn.Param[float32] { return []*nn.Param[float32]{a.scale, a.shift} }
func (a *affine) String() string               { return "affine" }

// TestTensorNamesFromParams: a layer with two 1-D parameters (a batch
// norm's weight and bias) gets two checkpoint names, which round-trip
// through a safetensors file each to its own values; two parameters of one
// name in a layer are refused, not written over each other.
func TestTensorNamesFromParams(t *testing.T) {
	net, err := nn.NewNetwork[float32](nn.Shape{C: 1, H: 2, W: 2}, 1, 1,
		&affine{names: [2]string{"norm.weight", "norm.bias"}}, nn.Flatten[float32]{}, &nn.Dense[float32]{Out: 3})
	if err != nil {
		t.Fatal(err)
	}
	names, err := tensorNames(net)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(names, " "); got != "net.0.weight net.0.bias net.2.weight net.2.bias" {
		t.Fatalf("names %q", got)
	}
	var tensors []safetensors.Tensor
	for k, p := range net.Params() {
		b := make([]byte, 0, 4*len(p.Value))
		for _, v := range p.Value {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
		}
		tensors = append(tensors, safetensors.Tensor{Name: names[k], DType: "F32", Shape: p.Shape, Data: b})
	}
	file, err := safetensors.Encode(tensors, nil)
	if err != nil {
		t.Fatal(err)
	}
	h, err := safetensors.ReadHeader(bytes.NewReader(file), int64(len(file)))
	if err != nil {
		t.Fatal(err)
	}
	body, err := safetensors.ReadData(bytes.NewReader(file[8+len(h.Raw):]), h)
	if err != nil {
		t.Fatal(err)
	}
	for k, p := range net.Params() {
		info, ok := h.Tensor(names[k])
		if !ok {
			t.Fatalf("%s is not in the file", names[k])
		}
		raw := info.Bytes(body)
		for i, v := range p.Value {
			if got := math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:])); got != v {
				t.Fatalf("%s[%d] = %v, want %v", names[k], i, got, v)
			}
		}
	}
	same, err := nn.NewNetwork[float32](nn.Shape{C: 1, H: 2, W: 2}, 1, 1, &affine{names: [2]string{"a.bias", "b.bias"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tensorNames(same); !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), `"b.bias"`) {
		t.Errorf("two parameters named bias in one layer: %v", err)
	}
}
