package train

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/xent-go/xent/data"
	"github.com/xent-go/xent/internal/memlimit"
	"github.com/xent-go/xent/internal/outfile"
	"github.com/xent-go/xent/internal/safetensors"
	"github.com/xent-go/xent/nn"
)

// ErrCheckpoint is wrapped by every error about a checkpoint file that
// cannot be read or does not fit.
var ErrCheckpoint = errors.New("train: bad checkpoint")

// checkpointFormat names this layout of tensors and metadata. Version 2
// added the checksum; version 1 files (without one) are refused.
const checkpointFormat = "xent-train/2"

// A checkpoint is a safetensors file (package internal/safetensors): an
// 8-byte little-endian header length, a JSON header, then the tensors'
// bytes. The network's parameters are "net.<layer>.weight" and
// "net.<layer>.bias" with PyTorch's shapes and layouts, so
// safetensors.torch.load_file gives a state dict for the same network
// built with nn.Sequential; the optimiser's state is "adam.m.<k>",
// "adam.v.<k>" or "sgd.buf.<k>" for the k-th parameter; the run's config,
// position and metrics, the network's input shape ("1×28×28": channels,
// height, width) and its number of classes are strings in
// "__metadata__", so that LoadModel needs nothing but the file.
//
// The metadata's "sha256" is the SHA-256 of the whole file with the 64
// hexadecimal digits of that value written as zeros: it covers every
// other byte (length, header, padding and data). A reader checks, before
// it uses any value: the safetensors structure (package safetensors); the
// format; that the tensors are exactly the ones the run's network and
// optimiser have, with their shapes (before reading the data, so that a
// large file is refused without being read); the checksum; then every
// metadata value for range (positions within the run, counts that fit
// each other, finite sums) and every tensor value for finiteness.

// checksumKey is the metadata key of the checksum.
const checksumKey = "sha256"

var zeroDigest = bytes.Repeat([]byte("0"), 2*sha256.Size)

// metadataKeys are the keys a checkpoint's metadata has (adam_t only with
// Adam).
var metadataKeys = []string{"format", "dataset", "input", "classes", "epoch", "batch", "loss_sum", "correct", "images", "config", "metrics", checksumKey}

// tensorNames returns the checkpoint names of the network's parameters:
// net.<index of the layer in the network>.<the parameter's own name, the
// part of Param.Name after its last dot> — "net.0.weight" and
// "net.0.bias" for a convolution's "conv.weight" and "conv.bias", as
// PyTorch's state dict names them. Two parameters of one layer with the
// same name, or a parameter with none, are an error: each would overwrite
// the other in the file.
func tensorNames(net *nn.Network[float32]) ([]string, error) {
	var names []string
	for i, l := range net.Layers {
		seen := map[string]bool{}
		for _, p := range l.Params() {
			own := p.Name[strings.LastIndexByte(p.Name, '.')+1:]
			if own == "" || seen[own] {
				return nil, fmt.Errorf("%w: layer %d (%v) has parameter name %q twice or empty: checkpoint names must differ", ErrConfig, i, l, p.Name)
			}
			seen[own] = true
			names = append(names, fmt.Sprintf("net.%d.%s", i, own))
		}
	}
	return names, nil
}

// want is one tensor a checkpoint of a run holds.
type want struct {
	name  string
	shape []int
	value []float32 // Save: the values; Resume: where they go
}

// tensors lists the run's tensors: the network's parameters, then the
// optimiser's state for each parameter (none before the first step, or
// for SGD without momentum).
func (t *Trainer) tensors(steps int) ([]want, error) {
	var ws []want
	params := t.net.Params()
	names, err := tensorNames(t.net)
	if err != nil {
		return nil, err
	}
	for k, name := range names {
		ws = append(ws, want{name, params[k].Shape, params[k].Value})
	}
	if steps == 0 {
		return ws, nil
	}
	switch o := t.opt.(type) {
	case *nn.Adam[float32]:
		if len(o.M) != len(params) {
			o.M, o.V = make([][]float32, len(params)), make([][]float32, len(params))
		}
		for k, p := range params {
			o.M[k], o.V[k] = grow(o.M[k], len(p.Value)), grow(o.V[k], len(p.Value))
			ws = append(ws, want{fmt.Sprintf("adam.m.%d", k), []int{len(p.Value)}, o.M[k]},
				want{fmt.Sprintf("adam.v.%d", k), []int{len(p.Value)}, o.V[k]})
		}
	case *nn.SGD[float32]:
		if o.Momentum == 0 {
			break
		}
		if len(o.Buf) != len(params) {
			o.Buf = make([][]float32, len(params))
		}
		for k, p := range params {
			o.Buf[k] = grow(o.Buf[k], len(p.Value))
			ws = append(ws, want{fmt.Sprintf("sgd.buf.%d", k), []int{len(p.Value)}, o.Buf[k]})
		}
	}
	return ws, nil
}

func grow(v []float32, n int) []float32 {
	if len(v) != n {
		return make([]float32, n)
	}
	return v
}

// steps is the number of optimiser steps taken at the position.
func (t *Trainer) steps() int {
	n, _, _ := t.size()
	return t.epoch*batchCount(n, t.cfg.Batch) + t.batch
}

// Save writes the run to path as a checkpoint that Resume continues, all
// or nothing (outfile.WriteFile): an existing checkpoint is replaced whole
// or not at all. A multi-label run (NewMultiLabel) is not saved: Resume
// takes labelled sets.
func (t *Trainer) Save(path string) error {
	if t.multi != nil {
		return fmt.Errorf("%w: a multi-label run has no checkpoint", ErrConfig)
	}
	meta := map[string]string{
		"format":    checkpointFormat,
		"dataset":   t.dataset,
		"input":     inputShape(t.train).String(),
		"classes":   strconv.Itoa(t.train.Classes),
		"epoch":     strconv.Itoa(t.epoch),
		"batch":     strconv.Itoa(t.batch),
		"loss_sum":  strconv.FormatFloat(t.lossSum, 'g', -1, 64),
		"correct":   strconv.Itoa(t.correct),
		"images":    strconv.Itoa(t.images),
		checksumKey: string(zeroDigest),
	}
	for key, v := range map[string]any{"config": t.cfg, "metrics": t.metrics} {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		meta[key] = string(b)
	}
	if o, ok := t.opt.(*nn.Adam[float32]); ok {
		meta["adam_t"] = strconv.Itoa(o.T)
	}
	wants, err := t.tensors(t.steps())
	if err != nil {
		return err
	}
	var tensors []safetensors.Tensor
	for _, w := range wants {
		b := make([]byte, 0, 4*len(w.value))
		for _, v := range w.value {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
		}
		tensors = append(tensors, safetensors.Tensor{Name: w.name, DType: "F32", Shape: w.shape, Data: b})
	}
	file, err := safetensors.Encode(tensors, meta)
	if err != nil {
		return err
	}
	at, err := digestAt(file)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(file)
	hex.Encode(file[at:at+len(zeroDigest)], sum[:])
	return outfile.WriteFile(path, outfile.Bytes(file))
}

// digestAt returns the offset in file of the checksum's hexadecimal
// digits: the one place where the metadata's "sha256" value stands. (A
// quote inside a JSON string is escaped, so `"sha256":"` can only be the
// key.)
func digestAt(file []byte) (int, error) {
	key := []byte(`"` + checksumKey + `":"`)
	i := bytes.Index(file, key)
	if i < 0 || bytes.Contains(file[i+1:], key) || i+len(key)+len(zeroDigest) >= len(file) || file[i+len(key)+len(zeroDigest)] != '"' {
		return 0, errors.New("no single sha256 entry of 64 digits in the header")
	}
	return i + len(key), nil
}

// checkpoint is a checkpoint file whose header has been read and checked.
type checkpoint struct {
	path string
	f    *os.File
	h    *safetensors.Header
	meta map[string]string
}

func (c *checkpoint) bad(format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrCheckpoint, c.path, fmt.Sprintf(format, args...))
}

// openCheckpoint opens path and reads its header: a safetensors header of
// this package's format with exactly the metadata keys Save writes. The
// caller closes c.f.
func openCheckpoint(path string) (_ *checkpoint, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCheckpoint, err)
	}
	defer func() {
		if err != nil {
			f.Close()
		}
	}()
	c := &checkpoint{path: path, f: f}
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return nil, c.bad("not a regular file")
	}
	if c.h, err = safetensors.ReadHeader(f, fi.Size()); err != nil {
		return nil, c.bad("%v", err)
	}
	c.meta = c.h.Metadata
	if c.meta["format"] != checkpointFormat {
		return nil, c.bad("not a checkpoint of this version of xent train (format %q, want %q)", c.meta["format"], checkpointFormat)
	}
	keys := slices.Clone(metadataKeys)
	if _, ok := c.meta["adam_t"]; ok {
		keys = append(keys, "adam_t")
	}
	if got := slices.Sorted(maps.Keys(c.meta)); !slices.Equal(got, slices.Sorted(slices.Values(keys))) {
		return nil, c.bad("metadata keys %v, want %v", got, slices.Sorted(slices.Values(keys)))
	}
	return c, nil
}

// readData reads the tensor data and verifies the checksum. With hold
// false it only hashes the data as it streams by and returns nil, so that
// no memory is needed however large the file.
func (c *checkpoint) readData(hold bool) ([]byte, error) {
	raw := slices.Clone(c.h.Raw)
	at, err := digestAt(raw)
	if err != nil {
		return nil, c.bad("%v", err)
	}
	stored := string(raw[at : at+len(zeroDigest)])
	copy(raw[at:], zeroDigest)
	hash := sha256.New()
	hash.Write(binary.LittleEndian.AppendUint64(nil, uint64(len(raw))))
	hash.Write(raw)
	var body []byte
	if hold {
		if err := memlimit.Check(uint64(c.h.DataSize), "the checkpoint's tensors"); err != nil {
			return nil, c.bad("%v", err)
		}
		if body, err = safetensors.ReadData(c.f, c.h); err != nil {
			return nil, c.bad("%v", err)
		}
		hash.Write(body)
	} else if n, err := io.Copy(hash, io.LimitReader(c.f, c.h.DataSize)); err != nil || n != c.h.DataSize {
		return nil, c.bad("the tensor data is cut short")
	}
	if extra, _ := c.f.Read(make([]byte, 1)); extra > 0 {
		return nil, c.bad("the file grew while it was read")
	}
	if got := hex.EncodeToString(hash.Sum(nil)); got != stored || c.meta[checksumKey] != stored {
		return nil, c.bad("the checksum does not match: the file is damaged")
	}
	return body, nil
}

// CheckpointDataset returns the name of the data set a checkpoint's run
// trains on, so that a caller can load that set before Resume. It reads
// the whole file and verifies its checksum, without holding the data.
func CheckpointDataset(path string) (string, error) {
	c, err := openCheckpoint(path)
	if err != nil {
		return "", err
	}
	defer c.f.Close()
	if _, err := c.readData(false); err != nil {
		return "", err
	}
	return c.meta["dataset"], nil
}

// strictJSON decodes s into v, refusing unknown fields and anything after
// the value.
func strictJSON(s string, v any) error {
	dec := json.NewDecoder(bytes.NewReader([]byte(s)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("data after the value")
	}
	return nil
}

// Resume reads a checkpoint written by Save and returns the run it holds,
// on the given sets and with the options the run was started with (the
// checkpoint holds the network's weights, not its code), ready to
// continue. Every failure wraps ErrCheckpoint and names what is wrong; the
// file is only read.
func Resume(path string, trainSet, testSet *data.Set, opts ...Option) (*Trainer, error) {
	c, err := openCheckpoint(path)
	if err != nil {
		return nil, err
	}
	defer c.f.Close()
	meta := c.meta
	var cfg Config
	if err := strictJSON(meta["config"], &cfg); err != nil {
		return nil, c.bad("config: %v", err)
	}
	if err := checkSets(trainSet, testSet); err != nil {
		return nil, err
	}
	t, err := New(cfg, meta["dataset"], trainSet, testSet, opts...)
	if err != nil {
		return nil, c.bad("%v", err)
	}
	if in, classes, err := c.network(); err != nil {
		return nil, err
	} else if in != inputShape(trainSet) || classes != trainSet.Classes {
		return nil, c.bad("a network of %d classes on %v images, the sets have %d classes of %v", classes, in, trainSet.Classes, inputShape(trainSet))
	}
	for _, f := range []struct {
		key string
		v   *int
	}{{"epoch", &t.epoch}, {"batch", &t.batch}, {"correct", &t.correct}, {"images", &t.images}} {
		v, err := strconv.Atoi(meta[f.key])
		if err != nil || v < 0 || strconv.Itoa(v) != meta[f.key] {
			return nil, c.bad("%s %q", f.key, meta[f.key])
		}
		*f.v = v
	}
	batches := batchCount(trainSet.N, cfg.Batch)
	if t.epoch > cfg.Epochs || t.batch >= batches || (t.epoch == cfg.Epochs && t.batch != 0) ||
		t.images != t.batch*cfg.Batch || t.correct > t.images {
		return nil, c.bad("at epoch %d of %d, batch %d of %d, %d of %d images right: not a position of this run on these sets",
			t.epoch, cfg.Epochs, t.batch, batches, t.correct, t.images)
	}
	steps := t.steps()
	wants, err := t.tensors(steps)
	if err != nil {
		return nil, err
	}
	body, err := c.readWanted(wants, fmt.Sprintf("this run's network and optimiser at step %d", steps))
	if err != nil {
		return nil, err
	}
	// A Metrics of its own: decoded into t.metrics, whose Config shares
	// cfg's pointers, the record's numbers would overwrite the run's.
	var metrics Metrics
	if err := strictJSON(meta["metrics"], &metrics); err != nil {
		return nil, c.bad("metrics: %v", err)
	}
	t.metrics = metrics
	if err := t.metrics.check(cfg, meta["dataset"], t.epoch, testSet.Classes, testSet.N); err != nil {
		return nil, c.bad("metrics: %v", err)
	}
	if t.lossSum, err = strconv.ParseFloat(meta["loss_sum"], 64); err != nil || !(t.lossSum >= 0) || math.IsInf(t.lossSum, 0) {
		return nil, c.bad("loss_sum %q: want a finite number ≥ 0", meta["loss_sum"])
	}
	if t.batch == 0 && t.lossSum != 0 {
		return nil, c.bad("loss_sum %q at the start of an epoch", meta["loss_sum"])
	}
	if o, ok := t.opt.(*nn.Adam[float32]); ok {
		if o.T, err = strconv.Atoi(meta["adam_t"]); err != nil || o.T != steps {
			return nil, c.bad("adam_t %q, want %d steps", meta["adam_t"], steps)
		}
	} else if _, ok := meta["adam_t"]; ok {
		return nil, c.bad("adam_t in a run with %s", cfg.Optimizer)
	}
	if err := c.load(wants, body); err != nil {
		return nil, err
	}
	return t, nil
}

// readWanted checks, before any data is read, that the header's tensors
// are exactly wants (names, F32, shapes; what says whose they are), then
// reads the data and verifies the checksum: after it, the values may be
// used.
func (c *checkpoint) readWanted(wants []want, what string) ([]byte, error) {
	if len(c.h.Tensors) != len(wants) {
		return nil, c.bad("%d tensors, want %d for %s", len(c.h.Tensors), len(wants), what)
	}
	for _, w := range wants {
		info, ok := c.h.Tensor(w.name)
		if !ok || info.DType != "F32" || !slices.Equal(info.Shape, w.shape) {
			return nil, c.bad("tensor %s: %v, want F32 %v", w.name, info, w.shape)
		}
	}
	return c.readData(true)
}

// load decodes the tensors wants names from body, checks that every value
// is finite (and Adam's second moments ≥ 0), and only then copies them
// into the wants' values.
func (c *checkpoint) load(wants []want, body []byte) error {
	values := make([][]float32, len(wants))
	for k, w := range wants {
		info, _ := c.h.Tensor(w.name)
		b := info.Bytes(body)
		v := make([]float32, len(b)/4)
		for i := range v {
			v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
			if math.IsNaN(float64(v[i])) || math.IsInf(float64(v[i]), 0) || (v[i] < 0 && strings.HasPrefix(w.name, "adam.v.")) {
				return c.bad("tensor %s: value %v at index %d", w.name, v[i], i)
			}
		}
		values[k] = v
	}
	for k, w := range wants {
		copy(w.value, values[k])
	}
	return nil
}

// network reads the network's input shape and classes from the metadata.
func (c *checkpoint) network() (nn.Shape, int, error) {
	var in nn.Shape
	if _, err := fmt.Sscanf(c.meta["input"], "%d×%d×%d", &in.C, &in.H, &in.W); err != nil || in.String() != c.meta["input"] ||
		in.C < 1 || in.H < MinImageSize || in.W < MinImageSize || in.C > 1<<12 || in.H > 1<<16 || in.W > 1<<16 {
		return in, 0, c.bad("input %q: want channels×height×width of a network's input", c.meta["input"])
	}
	classes, err := strconv.Atoi(c.meta["classes"])
	if err != nil || classes < 2 || classes > 1<<20 || strconv.Itoa(classes) != c.meta["classes"] {
		return in, 0, c.bad("classes %q", c.meta["classes"])
	}
	return in, classes, nil
}

// check reports whether m can be the record of cfg's run after epochs
// epochs on a test set of classes and testN images (testN < 0: unknown).
func (m Metrics) check(cfg Config, dataset string, epochs, classes, testN int) error {
	if m.Dataset != dataset || !m.Config.same(cfg) || len(m.Epochs) != epochs {
		return fmt.Errorf("%d epochs of %q with another configuration, want %d of %q", len(m.Epochs), m.Dataset, epochs, dataset)
	}
	for i, e := range m.Epochs {
		for _, v := range []float64{e.TrainLoss, e.TestLoss} {
			if !(v >= 0) || math.IsInf(v, 0) {
				return fmt.Errorf("epoch %d: loss %v", i+1, v)
			}
		}
		for _, v := range []float64{e.TrainAccuracy, e.TestAccuracy} {
			if !(v >= 0 && v <= 1) {
				return fmt.Errorf("epoch %d: accuracy %v", i+1, v)
			}
		}
		if e.Epoch != i+1 || len(e.Confusion) != classes {
			return fmt.Errorf("epoch %d numbered %d with %d confusion rows", i+1, e.Epoch, len(e.Confusion))
		}
		total := 0
		for _, row := range e.Confusion {
			if len(row) != classes {
				return fmt.Errorf("epoch %d: a confusion row of %d classes", i+1, len(row))
			}
			for _, n := range row {
				if n < 0 || (testN >= 0 && n > testN) {
					return fmt.Errorf("epoch %d: confusion count %d", i+1, n)
				}
				total += n
			}
		}
		if testN >= 0 && total != testN {
			return fmt.Errorf("epoch %d: the confusion matrix counts %d test images of %d", i+1, total, testN)
		}
	}
	return nil
}
