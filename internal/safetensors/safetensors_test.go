package safetensors

import (
	"bytes"
	"encoding/binary"
	"errors"
	"slices"
	"strings"
	"testing"
)

func sample(t testing.TB) []byte {
	t.Helper()
	b, err := Encode([]Tensor{
		{"net.0.weight", "F32", []int{2, 1, 1, 2}, make([]byte, 16)},
		{"net.0.bias", "F32", []int{2}, []byte{1, 2, 3, 4, 5, 6, 7, 8}},
		{"empty", "I64", []int{0, 3}, nil},
	}, map[string]string{"format": "test", "note": "a b"})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func read(b []byte) (*Header, []byte, error) {
	r := bytes.NewReader(b)
	h, err := ReadHeader(r, int64(len(b)))
	if err != nil {
		return nil, nil, err
	}
	data, err := ReadData(r, h)
	return h, data, err
}

func TestRoundTrip(t *testing.T) {
	b := sample(t)
	n := binary.LittleEndian.Uint64(b)
	if n%8 != 0 || b[8] != '{' {
		t.Fatalf("header of %d bytes starting %q", n, b[8])
	}
	h, data, err := read(b)
	if err != nil {
		t.Fatal(err)
	}
	if h.Size() != int64(len(b)) || h.Metadata["note"] != "a b" || len(h.Tensors) != 3 {
		t.Fatalf("header %+v", h)
	}
	bias, ok := h.Tensor("net.0.bias")
	if !ok || !bytes.Equal(bias.Bytes(data), []byte{1, 2, 3, 4, 5, 6, 7, 8}) || bias.String() != "F32 [2]" {
		t.Fatalf("bias %v %v", bias, ok)
	}
	// Sorted by offset: the order Encode was given.
	var names []string
	for _, ti := range h.Tensors {
		names = append(names, ti.Name)
	}
	if !slices.Equal(names, []string{"empty", "net.0.weight", "net.0.bias"}) && !slices.Equal(names, []string{"net.0.weight", "net.0.bias", "empty"}) {
		t.Errorf("tensor order %v", names)
	}
}

func TestEncodeRefuses(t *testing.T) {
	for name, ts := range map[string][]Tensor{
		"repeated name": {{"a", "F32", []int{1}, make([]byte, 4)}, {"a", "F32", []int{1}, make([]byte, 4)}},
		"wrong size":    {{"a", "F32", []int{2}, make([]byte, 4)}},
		"unknown dtype": {{"a", "F31", []int{1}, make([]byte, 4)}},
		"reserved":      {{"__metadata__", "F32", []int{1}, make([]byte, 4)}},
	} {
		if _, err := Encode(ts, map[string]string{}); err == nil {
			t.Errorf("%s: Encode accepted it", name)
		}
	}
}

// withHeader builds a file from a header text and data.
func withHeader(h string, data []byte) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(h)))
	return append(append(b, h...), data...)
}

func TestReadRefuses(t *testing.T) {
	good := sample(t)
	f32 := func(offsets string) string {
		return `{"a":{"dtype":"F32","shape":[2],"data_offsets":` + offsets + `}}`
	}
	for _, c := range []struct {
		name string
		file []byte
		want string
	}{
		{"empty", nil, "shorter than the 8-byte header length"},
		{"header longer than the file", append(binary.LittleEndian.AppendUint64(nil, 1000), '{'), "a header of 1000 bytes in a file of 9"},
		{"header a few bytes short", append(binary.LittleEndian.AppendUint64(nil, binary.LittleEndian.Uint64(good)-3), good[8:]...), "the tensors take 24 bytes, the file has 27"},
		{"trailing bytes", append(slices.Clone(good), 0), "the tensors take 24 bytes, the file has 25"},
		{"cut short", good[:len(good)-1], "the tensors take 24 bytes, the file has 23"},
		{"no object", withHeader(`[1, 2]   `, nil), "does not start with '{'"},
		{"space first", withHeader(` {}`, nil), "does not start with '{'"},
		{"padding not spaces", withHeader(`{}`+"\n\t", nil), "only spaces"},
		{"a second object", withHeader(`{}{}`, nil), "only spaces"},
		{"repeated tensor", withHeader(`{"a":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},"a":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}}`, nil), `key "a" given twice`},
		{"repeated metadata key", withHeader(`{"__metadata__":{"k":"1","k":"2"}}`, nil), `key "k" given twice`},
		{"metadata not strings", withHeader(`{"__metadata__":{"k":1}}`, nil), "not an object of strings"},
		{"unknown field", withHeader(`{"a":{"dtype":"F32","shape":[0],"data_offsets":[0,0],"x":1}}`, nil), `unknown field "x"`},
		{"field in capitals", withHeader(`{"a":{"DTYPE":"F32","shape":[0],"data_offsets":[0,0]}}`, nil), "want exactly dtype, shape and data_offsets"},
		{"no shape", withHeader(`{"a":{"dtype":"F32","data_offsets":[0,0]}}`, nil), "want exactly"},
		{"unknown dtype", withHeader(`{"a":{"dtype":"F31","shape":[1],"data_offsets":[0,4]}}`, make([]byte, 4)), `dtype "F31"`},
		{"negative dimension", withHeader(`{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,0]}}`, nil), "shape [-1]"},
		{"overflowing shape", withHeader(`{"a":{"dtype":"F64","shape":[4294967296,4294967296],"data_offsets":[0,0]}}`, nil), "shape [4294967296 4294967296]"},
		{"offsets not the size", withHeader(f32(`[0,4]`), make([]byte, 4)), "offsets [0 4] for 8 bytes"},
		{"negative offset", withHeader(f32(`[-8,0]`), nil), "offsets [-8 0]"},
		{"a gap", withHeader(f32(`[4,12]`), make([]byte, 12)), `tensor "a" starts at 4, not at 0`},
		{"overlap", withHeader(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, make([]byte, 8)), "starts at 4, not at 8"},
		{"float offsets", withHeader(f32(`[0.0,8]`), make([]byte, 8)), "cannot unmarshal number 0.0"},
		{"not JSON", withHeader(`{"a":`, nil), "header"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := read(c.file)
			if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("%v, want ErrFormat saying %q", err, c.want)
			}
		})
	}
}

// FuzzRead: any bytes give a header whose tensors tile the data exactly,
// or an ErrFormat error; never a panic.
func FuzzRead(f *testing.F) {
	f.Add(sample(f))
	f.Add(withHeader(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, make([]byte, 8)))
	f.Add(withHeader(`{"__metadata__":{"k":"v"},"b":{"dtype":"U8","shape":[],"data_offsets":[0,1]}}`, []byte{7}))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, data, err := read(b)
		if err != nil {
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("error %v does not wrap ErrFormat", err)
			}
			return
		}
		if h.Size() != int64(len(b)) || int64(len(data)) != h.DataSize {
			t.Fatalf("file of %d bytes read as %d (%d of data)", len(b), h.Size(), len(data))
		}
		var at int64
		for _, ti := range h.Tensors {
			n, ok := byteSize(ti.DType, ti.Shape)
			if !ok || ti.Begin != at || ti.End-ti.Begin != n {
				t.Fatalf("tensor %s %v at [%d, %d) after %d", ti.Name, ti, ti.Begin, ti.End, at)
			}
			_ = ti.Bytes(data)
			at = ti.End
		}
		if at != h.DataSize {
			t.Fatalf("tensors end at %d of %d", at, h.DataSize)
		}
	})
}
