package npy

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestReadNumPyFiles reads files that NumPy wrote (testdata/make.py).
func TestReadNumPyFiles(t *testing.T) {
	cases := []struct {
		file  string
		dtype string
		shape []int
		f64   []float64
		i64   []int64
	}{
		{"f4_2x3.npy", "<f4", []int{2, 3}, []float64{1.5, -2, 3, 4, float64(float32(5e-8)), float64(float32(-6e30))}, nil},
		{"f8_scalar.npy", "<f8", []int{}, []float64{0.1}, nil},
		{"f8_big_endian.npy", "<f8", []int{3}, []float64{1.25, -3.5, 1e300}, nil},
		{"f8_v2.npy", "<f8", []int{2, 1}, []float64{7, 8}, nil},
		{"f8_v3.npy", "<f8", []int{2, 1}, []float64{7, 8}, nil},
		{"f4_empty_0x3.npy", "<f4", []int{0, 3}, []float64{}, nil},
		{"i8_4.npy", "<i8", []int{4}, nil, []int64{0, -100, 9, 1 << 40}},
		{"i4_2x2.npy", "<i4", []int{2, 2}, nil, []int64{1, -2, 3, -1 << 31}},
		{"u1_3.npy", "|u1", []int{3}, nil, []int64{0, 7, 255}},
		{"i2_big_endian.npy", "<i2", []int{2}, nil, []int64{-5, 300}},
		{"b1_2.npy", "|b1", []int{2}, nil, nil},
	}
	for _, c := range cases {
		a, err := ReadFile(filepath.Join("testdata", c.file))
		if err != nil {
			t.Errorf("%s: %v", c.file, err)
			continue
		}
		if a.Dtype() != c.dtype || !reflect.DeepEqual(a.Shape, c.shape) {
			t.Errorf("%s: dtype %s shape %v, want %s %v", c.file, a.Dtype(), a.Shape, c.dtype, c.shape)
		}
		switch {
		case c.f64 != nil && a.Size == 4:
			got, err := a.Float32s()
			if err != nil {
				t.Fatal(err)
			}
			for i := range got {
				if float64(got[i]) != c.f64[i] {
					t.Errorf("%s[%d] = %v, want %v", c.file, i, got[i], c.f64[i])
				}
			}
			if _, err := a.Float64s(); err == nil {
				t.Errorf("%s: Float64s of a float32 array", c.file)
			}
		case c.f64 != nil:
			got, err := a.Float64s()
			if err != nil || !reflect.DeepEqual(got, c.f64) {
				t.Errorf("%s: %v, %v; want %v", c.file, got, err, c.f64)
			}
			if _, err := a.Int64s(); err == nil {
				t.Errorf("%s: Int64s of a float array", c.file)
			}
		case c.i64 != nil:
			got, err := a.Int64s()
			if err != nil || !reflect.DeepEqual(got, c.i64) {
				t.Errorf("%s: %v, %v; want %v", c.file, got, err, c.i64)
			}
			if _, err := a.Float32s(); err == nil {
				t.Errorf("%s: Float32s of an integer array", c.file)
			}
		}
	}
}

func TestReadRejects(t *testing.T) {
	for file, want := range map[string]string{
		"f8_fortran.npy": "Fortran order",
		"c8_complex.npy": "dtype '<c8'",
	} {
		_, err := ReadFile(filepath.Join("testdata", file))
		if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want ErrFormat saying %q", file, err, want)
		}
	}
	good, err := os.ReadFile(filepath.Join("testdata", "f4_2x3.npy"))
	if err != nil {
		t.Fatal(err)
	}
	header := func(dict string) []byte {
		b := append([]byte("\x93NUMPY\x01\x00"), byte(len(dict)), 0)
		return append(b, dict...)
	}
	for name, c := range map[string]struct {
		data []byte
		want string
	}{
		"empty":        {nil, "too short"},
		"magic":        {[]byte("PK\x03\x04 not npy at all"), "magic"},
		"version":      {append([]byte("\x93NUMPY\x09\x00"), good[8:]...), "version 9.0"},
		"truncated":    {good[:len(good)-3], "needs 24 bytes of data, the file has 21"},
		"trailing":     {append(append([]byte(nil), good...), 0), "data continues"},
		"no dict":      {header("'descr': '<f4'"), "not a dictionary"},
		"no shape":     {header("{'descr': '<f4', 'fortran_order': False}"), "lacks"},
		"bad shape":    {header("{'descr': '<f4', 'fortran_order': False, 'shape': (2, x), }"), "x is not an integer"},
		"negative dim": {header("{'descr': '<f4', 'fortran_order': False, 'shape': (-2,), }"), "shape (-2,)"},
		"huge":         {header("{'descr': '<f8', 'fortran_order': False, 'shape': (1000000, 1000000, 1000000), }"), "larger than"},
		"object":       {header("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }"), "dtype"},
	} {
		_, err := Read(bytes.NewReader(c.data))
		if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want ErrFormat saying %q", name, err, c.want)
		}
	}
}

func TestWriteRoundTrip(t *testing.T) {
	for _, c := range []struct {
		shape []int
		data  any
	}{
		{[]int{2, 3}, []float32{1, 2, 3, 4, 5, float32(math.Inf(-1))}},
		{[]int{}, []float64{0.1}},
		{[]int{4}, []int64{-1, 0, 1, math.MinInt64}},
		{[]int{1, 2, 1}, []int32{7, -7}},
		{[]int{0, 5}, []float64{}},
		{[]int{1 << 14, 2}, make([]float32, 1<<15)},
	} {
		var buf bytes.Buffer
		if err := Write(&buf, c.shape, c.data); err != nil {
			t.Fatal(err)
		}
		a, err := Read(&buf)
		if err != nil {
			t.Fatalf("%v: %v", c.shape, err)
		}
		if !reflect.DeepEqual(a.Shape, c.shape) {
			t.Errorf("shape %v, want %v", a.Shape, c.shape)
		}
		var got any
		switch c.data.(type) {
		case []float32:
			got, err = a.Float32s()
		case []float64:
			got, err = a.Float64s()
		case []int64:
			got, err = a.Int64s()
		case []int32:
			var v []int64
			v, err = a.Int64s()
			w := make([]int32, len(v))
			for i := range v {
				w[i] = int32(v[i])
			}
			got = w
		}
		if err != nil || !reflect.DeepEqual(got, c.data) {
			t.Errorf("%v: read back %v, %v", c.shape, got, err)
		}
	}
	if err := Write(&bytes.Buffer{}, []int{2, 2}, []float32{1}); err == nil {
		t.Error("Write accepted 1 value for shape (2, 2)")
	}
	if err := Write(&bytes.Buffer{}, []int{1}, []string{"a"}); err == nil {
		t.Error("Write accepted a []string")
	}
}

// TestHeaderAlignment: the data starts on a 64-byte boundary, as NumPy
// writes it.
func TestHeaderAlignment(t *testing.T) {
	for _, shape := range [][]int{{}, {3}, {1, 2, 3}, {1000000, 3}} {
		n := 1
		for _, d := range shape {
			n *= d
		}
		var buf bytes.Buffer
		if err := Write(&buf, shape, make([]float64, n)); err != nil {
			t.Fatal(err)
		}
		if start := buf.Len() - 8*n; start%64 != 0 {
			t.Errorf("shape %v: data starts at byte %d", shape, start)
		}
	}
}

func TestWriteFileReplacesAtomically(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.npy")
	if err := WriteFile(path, []int{2}, []float64{1, 2}); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(path, []int{3}, []float64{1, 2}); err == nil {
		t.Fatal("a bad write succeeded")
	}
	a, err := ReadFile(path)
	if err != nil || a.Len() != 2 {
		t.Fatalf("the old file was lost: %v, %v", a, err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
}

func TestUint8s(t *testing.T) {
	b := []byte("\x93NUMPY\x01\x00\x76\x00{'descr': '|u1', 'fortran_order': False, 'shape': (3,), }")
	b = append(b, bytes.Repeat([]byte(" "), 0x76-len("{'descr': '|u1', 'fortran_order': False, 'shape': (3,), }")-1)...)
	b = append(b, '\n', 0, 128, 255)
	a, err := Read(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if v, err := a.Uint8s(); err != nil || !bytes.Equal(v, []byte{0, 128, 255}) {
		t.Fatalf("Uint8s = %v, %v", v, err)
	}
	f := &Array{Kind: 'f', Size: 4}
	if _, err := f.Uint8s(); err == nil {
		t.Error("Uint8s of a float array")
	}
}
