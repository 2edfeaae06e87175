// Package safetensors reads and writes the safetensors format
// (github.com/huggingface/safetensors): an 8-byte little-endian header
// length N, N bytes of JSON header, then the tensors' bytes.
//
// The header is an object whose keys are tensor names, each mapping to
// {"dtype", "shape", "data_offsets": [begin, end]} with offsets relative
// to the start of the data, and an optional "__metadata__" object of
// string values. Write produces what the reference implementation does:
// keys sorted, the header padded with spaces to a multiple of 8 bytes,
// the tensors' bytes in the order of their offsets.
//
// ReadHeader checks a file as strictly as the reference implementation's
// validation and more, before any tensor is read: N at most MaxHeader and
// within the file; the header a JSON object starting at its first byte
// and followed only by spaces; no key twice (the reference's JSON parser
// would keep one silently); each tensor entry exactly its three fields, a
// known dtype, non-negative dimensions, end − begin equal to the product
// of the shape times the dtype's size (without overflow); and the tensors
// tiling the data exactly — sorted by offset, each starting where the one
// before ends, the last ending at the end of the file, so that no byte of
// the file is unaccounted for.
package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
)

// ErrFormat is wrapped by every error about a file that is not a valid
// safetensors file.
var ErrFormat = errors.New("safetensors: malformed file")

// MaxHeader is the largest header ReadHeader reads, the reference
// implementation's limit (100 MB).
const MaxHeader = 100_000_000

// dtypeSizes are the element sizes of the dtypes this package knows.
var dtypeSizes = map[string]int{
	"BOOL": 1, "U8": 1, "I8": 1, "F8_E4M3": 1, "F8_E5M2": 1,
	"U16": 2, "I16": 2, "F16": 2, "BF16": 2,
	"U32": 4, "I32": 4, "F32": 4,
	"U64": 8, "I64": 8, "F64": 8,
}

// Tensor is one named tensor: its dtype ("F32", "I64", …), shape and
// little-endian bytes.
type Tensor struct {
	Name  string
	DType string
	Shape []int
	Data  []byte
}

// Info is a tensor's entry in a header.
type Info struct {
	Name       string
	DType      string
	Shape      []int
	Begin, End int64 // offsets in the data
}

// Header is a file's parsed header.
type Header struct {
	Metadata map[string]string
	Tensors  []Info // sorted by offset
	// Raw is the header's bytes as in the file (with the padding), and
	// DataSize the bytes of tensor data after it.
	Raw      []byte
	DataSize int64
}

// Size returns the whole file's size: 8 + len(Raw) + DataSize.
func (h *Header) Size() int64 { return 8 + int64(len(h.Raw)) + h.DataSize }

// Tensor returns the entry of the named tensor.
func (h *Header) Tensor(name string) (Info, bool) {
	for _, t := range h.Tensors {
		if t.Name == name {
			return t, true
		}
	}
	return Info{}, false
}

type entry struct {
	DType   string   `json:"dtype"`
	Shape   []int    `json:"shape"`
	Offsets [2]int64 `json:"data_offsets"`
}

// Encode returns the file of the tensors and metadata (nil for none).
// Tensor names must be unique and not "__metadata__", and each tensor's
// data must have the size its dtype and shape give.
func Encode(tensors []Tensor, metadata map[string]string) ([]byte, error) {
	header := map[string]any{}
	if metadata != nil {
		header["__metadata__"] = metadata
	}
	var offset int64
	for _, t := range tensors {
		if _, dup := header[t.Name]; dup || t.Name == "" {
			return nil, fmt.Errorf("safetensors: tensor name %q empty, repeated or reserved", t.Name)
		}
		n, ok := byteSize(t.DType, t.Shape)
		if !ok || n != int64(len(t.Data)) {
			return nil, fmt.Errorf("safetensors: tensor %s: %d bytes for %s %v", t.Name, len(t.Data), t.DType, t.Shape)
		}
		header[t.Name] = entry{t.DType, t.Shape, [2]int64{offset, offset + n}}
		offset += n
	}
	h, err := json.Marshal(header) // map keys sorted: the same tensors give the same bytes
	if err != nil {
		return nil, err
	}
	for len(h)%8 != 0 {
		h = append(h, ' ')
	}
	buf := make([]byte, 8, 8+int64(len(h))+offset)
	binary.LittleEndian.PutUint64(buf, uint64(len(h)))
	buf = append(buf, h...)
	for _, t := range tensors {
		buf = append(buf, t.Data...)
	}
	return buf, nil
}

// byteSize returns the bytes of a tensor, false for an unknown dtype, a
// negative dimension or an overflow.
func byteSize(dtype string, shape []int) (int64, bool) {
	size, ok := dtypeSizes[dtype]
	if !ok {
		return 0, false
	}
	n := int64(size)
	for _, d := range shape {
		if d < 0 || (d > 0 && n > (1<<62)/int64(d)) {
			return 0, false
		}
		n *= int64(d)
	}
	return n, true
}

// ReadHeader reads and checks the header of a file of size bytes from r,
// which is left at the start of the tensor data.
func ReadHeader(r io.Reader, size int64) (*Header, error) {
	var pre [8]byte
	if _, err := io.ReadFull(r, pre[:]); err != nil {
		return nil, fmt.Errorf("%w: %d bytes, shorter than the 8-byte header length", ErrFormat, max(size, 0))
	}
	n := binary.LittleEndian.Uint64(pre[:])
	if n > MaxHeader || n > uint64(size-8) {
		return nil, fmt.Errorf("%w: a header of %d bytes in a file of %d", ErrFormat, n, size)
	}
	raw := make([]byte, n)
	if _, err := io.ReadFull(r, raw); err != nil {
		return nil, fmt.Errorf("%w: the header is cut short", ErrFormat)
	}
	h, err := parseHeader(raw, size-8-int64(n))
	if err != nil {
		return nil, err
	}
	return h, nil
}

func parseHeader(raw []byte, dataSize int64) (*Header, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: header: %s", ErrFormat, fmt.Sprintf(format, args...))
	}
	if len(raw) == 0 || raw[0] != '{' {
		return nil, bad("does not start with '{'")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	fields, err := objectFields(dec)
	if err != nil {
		return nil, bad("%v", err)
	}
	if rest := raw[dec.InputOffset():]; len(bytes.TrimLeft(rest, " ")) != 0 {
		return nil, bad("%q after the JSON object; only spaces may pad it", truncate(rest))
	}
	h := &Header{Raw: raw, DataSize: dataSize}
	for _, name := range slices.Sorted(maps.Keys(fields)) {
		v := fields[name]
		if name == "__metadata__" {
			d := json.NewDecoder(bytes.NewReader(v))
			if err := d.Decode(&h.Metadata); err != nil || h.Metadata == nil {
				return nil, bad("__metadata__ is not an object of strings")
			}
			if _, err := objectFields(json.NewDecoder(bytes.NewReader(v))); err != nil {
				return nil, bad("__metadata__: %v", err)
			}
			continue
		}
		var e entry
		d := json.NewDecoder(bytes.NewReader(v))
		d.DisallowUnknownFields()
		if err := d.Decode(&e); err != nil {
			return nil, bad("tensor %q: %v", name, err)
		}
		keys, err := objectFields(json.NewDecoder(bytes.NewReader(v)))
		if err != nil || len(keys) != 3 || keys["dtype"] == nil || keys["shape"] == nil || keys["data_offsets"] == nil || e.Shape == nil {
			return nil, bad("tensor %q: want exactly dtype, shape and data_offsets, each once", name)
		}
		size, ok := byteSize(e.DType, e.Shape)
		if !ok {
			return nil, bad("tensor %q: dtype %q with shape %v", name, e.DType, e.Shape)
		}
		if e.Offsets[0] < 0 || e.Offsets[1]-e.Offsets[0] != size {
			return nil, bad("tensor %q: offsets %v for %d bytes of %s %v", name, e.Offsets, size, e.DType, e.Shape)
		}
		h.Tensors = append(h.Tensors, Info{name, e.DType, e.Shape, e.Offsets[0], e.Offsets[1]})
	}
	slices.SortStableFunc(h.Tensors, func(a, b Info) int {
		if a.Begin != b.Begin {
			return compare(a.Begin, b.Begin)
		}
		return compare(a.End, b.End)
	})
	var at int64
	for _, t := range h.Tensors {
		if t.Begin != at {
			return nil, bad("tensor %q starts at %d, not at %d where the tensors before it end", t.Name, t.Begin, at)
		}
		at = t.End
	}
	if at != dataSize {
		return nil, fmt.Errorf("%w: the tensors take %d bytes, the file has %d after the header", ErrFormat, at, dataSize)
	}
	return h, nil
}

func compare(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func truncate(b []byte) string {
	if len(b) > 20 {
		return string(b[:20]) + "…"
	}
	return string(b)
}

// objectFields reads one JSON object from dec and returns its fields'
// raw values, refusing a key given twice.
func objectFields(dec *json.Decoder) (map[string]json.RawMessage, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, errors.New("not a JSON object")
	}
	fields := map[string]json.RawMessage{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, ok := tok.(string)
		if !ok {
			return nil, errors.New("a key that is not a string")
		}
		if _, dup := fields[key]; dup {
			return nil, fmt.Errorf("key %q given twice", key)
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, fmt.Errorf("the value of %q: %v", key, err)
		}
		fields[key] = v
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, err
	}
	return fields, nil
}

// ReadData reads the tensor data that follows the header from r: exactly
// h.DataSize bytes, which the tensors tile.
func ReadData(r io.Reader, h *Header) ([]byte, error) {
	data := make([]byte, h.DataSize)
	if _, err := io.ReadFull(r, data); err != nil {
		return nil, fmt.Errorf("%w: the tensor data is cut short", ErrFormat)
	}
	return data, nil
}

// Bytes returns the bytes of tensor t within data.
func (t Info) Bytes(data []byte) []byte { return data[t.Begin:t.End] }

// String describes t as "F32 [16 1 3 3]".
func (t Info) String() string {
	dims := make([]string, len(t.Shape))
	for i, d := range t.Shape {
		dims[i] = fmt.Sprint(d)
	}
	return t.DType + " [" + strings.Join(dims, " ") + "]"
}
