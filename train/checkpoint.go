package train

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/xent-go/xent/data"
	"github.com/xent-go/xent/nn"
)

// ErrCheckpoint is wrapped by every error about a checkpoint file that
// cannot be read or does not fit.
var ErrCheckpoint = errors.New("train: bad checkpoint")

// checkpointFormat names this layout of tensors and metadata.
const checkpointFormat = "xent-train/1"

// A checkpoint is a safetensors file (https://huggingface.co/docs/safetensors):
// an 8-byte little-endian header length, a JSON header, then the tensors'
// bytes. The network's parameters are "net.<layer>.weight" and
// "net.<layer>.bias" with PyTorch's shapes and layouts, so
// safetensors.torch.load_file gives a state dict for the same network
// built with nn.Sequential; the optimiser's state is "adam.m.<k>",
// "adam.v.<k>" or "sgd.buf.<k>" for the k-th parameter; the run's config,
// position and metrics are strings in "__metadata__".

type tensorInfo struct {
	DType   string `json:"dtype"`
	Shape   []int  `json:"shape"`
	Offsets [2]int `json:"data_offsets"`
}

// tensorNames returns the checkpoint names of the network's parameters:
// net.<index of the layer in the network>.<weight|bias>.
func tensorNames(net *nn.Network[float32]) []string {
	var names []string
	for i, l := range net.Layers {
		for _, p := range l.Params() {
			kind := "weight"
			if len(p.Shape) == 1 {
				kind = "bias"
			}
			names = append(names, fmt.Sprintf("net.%d.%s", i, kind))
		}
	}
	return names
}

// Save writes the run to path as a checkpoint that Resume continues. It
// writes a temporary file in the same directory and renames it, so an
// existing checkpoint is replaced whole or not at all.
func (t *Trainer) Save(path string) error {
	type tensor struct {
		name  string
		shape []int
		value []float32
	}
	var tensors []tensor
	params := t.net.Params()
	for k, name := range tensorNames(t.net) {
		tensors = append(tensors, tensor{name, params[k].Shape, params[k].Value})
	}
	meta := map[string]string{
		"format":   checkpointFormat,
		"dataset":  t.dataset,
		"epoch":    strconv.Itoa(t.epoch),
		"batch":    strconv.Itoa(t.batch),
		"loss_sum": strconv.FormatFloat(t.lossSum, 'g', -1, 64),
		"correct":  strconv.Itoa(t.correct),
		"images":   strconv.Itoa(t.images),
	}
	for key, v := range map[string]any{"config": t.cfg, "metrics": t.metrics} {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		meta[key] = string(b)
	}
	switch o := t.opt.(type) {
	case *nn.Adam[float32]:
		meta["adam_t"] = strconv.Itoa(o.T)
		for k := range o.M {
			tensors = append(tensors, tensor{fmt.Sprintf("adam.m.%d", k), []int{len(o.M[k])}, o.M[k]},
				tensor{fmt.Sprintf("adam.v.%d", k), []int{len(o.V[k])}, o.V[k]})
		}
	case *nn.SGD[float32]:
		for k := range o.Buf {
			tensors = append(tensors, tensor{fmt.Sprintf("sgd.buf.%d", k), []int{len(o.Buf[k])}, o.Buf[k]})
		}
	}

	header := map[string]any{"__metadata__": meta}
	offset := 0
	for _, ts := range tensors {
		header[ts.name] = tensorInfo{"F32", ts.shape, [2]int{offset, offset + 4*len(ts.value)}}
		offset += 4 * len(ts.value)
	}
	h, err := json.Marshal(header) // map keys come out sorted: the same run gives the same bytes
	if err != nil {
		return err
	}
	for len(h)%8 != 0 {
		h = append(h, ' ')
	}
	buf := make([]byte, 8, 8+len(h)+offset)
	binary.LittleEndian.PutUint64(buf, uint64(len(h)))
	buf = append(buf, h...)
	for _, ts := range tensors {
		for _, v := range ts.value {
			buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
		}
	}
	return writeAtomic(path, buf)
}

// writeAtomic writes b to a temporary file beside path, syncs it and
// renames it over path.
func writeAtomic(path string, b []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}

// readCheckpoint reads a safetensors file and returns its header's
// entries, the data after the header and the metadata, checking that it
// is a checkpoint of this package.
func readCheckpoint(path string) (raw map[string]json.RawMessage, body []byte, meta map[string]string, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("%w: %w", ErrCheckpoint, err)
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrCheckpoint, path, fmt.Sprintf(format, args...))
	}
	if len(b) < 8 {
		return nil, nil, nil, bad("%d bytes, shorter than a safetensors header", len(b))
	}
	n := binary.LittleEndian.Uint64(b)
	if n > uint64(len(b)-8) {
		return nil, nil, nil, bad("header of %d bytes in a file of %d", n, len(b))
	}
	if err := json.Unmarshal(b[8:8+n], &raw); err != nil {
		return nil, nil, nil, bad("header: %v", err)
	}
	if err := json.Unmarshal(raw["__metadata__"], &meta); err != nil || meta["format"] != checkpointFormat {
		return nil, nil, nil, bad("not a checkpoint of xent train (format %q)", meta["format"])
	}
	return raw, b[8+n:], meta, nil
}

// CheckpointDataset returns the name of the data set a checkpoint's run
// trains on, so that a caller can load that set before Resume.
func CheckpointDataset(path string) (string, error) {
	_, _, meta, err := readCheckpoint(path)
	if err != nil {
		return "", err
	}
	return meta["dataset"], nil
}

// Resume reads a checkpoint written by Save and returns the run it holds,
// on the given sets, ready to continue. Every failure wraps ErrCheckpoint
// and names what is wrong.
func Resume(path string, trainSet, testSet *data.Set) (*Trainer, error) {
	raw, body, meta, err := readCheckpoint(path)
	if err != nil {
		return nil, err
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrCheckpoint, path, fmt.Sprintf(format, args...))
	}
	var cfg Config
	if err := json.Unmarshal([]byte(meta["config"]), &cfg); err != nil {
		return nil, bad("config: %v", err)
	}
	t, err := New(cfg, meta["dataset"], trainSet, testSet)
	if err != nil {
		return nil, bad("%v", err)
	}
	if err := json.Unmarshal([]byte(meta["metrics"]), &t.metrics); err != nil {
		return nil, bad("metrics: %v", err)
	}
	for _, f := range []struct {
		key string
		v   *int
	}{{"epoch", &t.epoch}, {"batch", &t.batch}, {"correct", &t.correct}, {"images", &t.images}} {
		v, err := strconv.Atoi(meta[f.key])
		if err != nil || v < 0 {
			return nil, bad("%s %q", f.key, meta[f.key])
		}
		*f.v = v
	}
	if t.lossSum, err = strconv.ParseFloat(meta["loss_sum"], 64); err != nil {
		return nil, bad("loss_sum %q", meta["loss_sum"])
	}
	batches := (trainSet.N + cfg.Batch - 1) / cfg.Batch
	if t.epoch > cfg.Epochs || t.batch >= batches || len(t.metrics.Epochs) != t.epoch {
		return nil, bad("at epoch %d of %d, batch %d of %d, with %d epochs of metrics",
			t.epoch, cfg.Epochs, t.batch, batches, len(t.metrics.Epochs))
	}

	read := func(name string, want []int) ([]float32, error) {
		var info tensorInfo
		if err := json.Unmarshal(raw[name], &info); err != nil {
			return nil, bad("tensor %s: missing or malformed", name)
		}
		count := 1
		for _, d := range info.Shape {
			count *= d
		}
		lo, hi := info.Offsets[0], info.Offsets[1]
		if info.DType != "F32" || !slices.Equal(info.Shape, want) || lo < 0 || hi > len(body) || hi-lo != 4*count {
			return nil, bad("tensor %s: %s %v at [%d, %d), want F32 %v", name, info.DType, info.Shape, lo, hi, want)
		}
		v := make([]float32, count)
		for i := range v {
			v[i] = math.Float32frombits(binary.LittleEndian.Uint32(body[lo+4*i:]))
		}
		return v, nil
	}
	params := t.net.Params()
	values := make([][]float32, len(params))
	for k, name := range tensorNames(t.net) {
		if values[k], err = read(name, params[k].Shape); err != nil {
			return nil, err
		}
	}
	steps := t.epoch*batches + t.batch
	switch o := t.opt.(type) {
	case *nn.Adam[float32]:
		if o.T, err = strconv.Atoi(meta["adam_t"]); err != nil || o.T != steps {
			return nil, bad("adam_t %q, want %d steps", meta["adam_t"], steps)
		}
		if steps > 0 {
			o.M, o.V = make([][]float32, len(params)), make([][]float32, len(params))
			for k, p := range params {
				if o.M[k], err = read(fmt.Sprintf("adam.m.%d", k), []int{len(p.Value)}); err != nil {
					return nil, err
				}
				if o.V[k], err = read(fmt.Sprintf("adam.v.%d", k), []int{len(p.Value)}); err != nil {
					return nil, err
				}
			}
		}
	case *nn.SGD[float32]:
		if steps > 0 && cfg.Momentum != 0 {
			o.Buf = make([][]float32, len(params))
			for k, p := range params {
				if o.Buf[k], err = read(fmt.Sprintf("sgd.buf.%d", k), []int{len(p.Value)}); err != nil {
					return nil, err
				}
			}
		}
	}
	for k, p := range params {
		copy(p.Value, values[k])
	}
	return t, nil
}
