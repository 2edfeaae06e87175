package npy

import (
	"bytes"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestHeaderAsNumpyReadsIt: the dictionaries numpy writes and the other
// spellings ast.literal_eval reads give the same array description.
func TestHeaderAsNumpyReadsIt(t *testing.T) {
	for _, c := range []struct {
		header string
		dtype  string
		shape  []int
	}{
		{"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", "<f4", []int{2, 3}},
		{"{'descr': '<f8', 'fortran_order': False, 'shape': (), }          \n", "<f8", []int{}},
		{"{'descr': '|u1', 'fortran_order': False, 'shape': (5,), }", "|u1", []int{5}},
		{`{"descr": "<i8", "fortran_order": False, "shape": (1, 2, 3)}`, "<i8", []int{1, 2, 3}},
		{"{'shape':(4,0),'fortran_order':False,'descr':'>f4'}", "<f4", []int{4, 0}},
		{"{'descr': '<i4', 'fortran_order': False, 'shape': (2L, 3L), }", "<i4", []int{2, 3}},
		{"{'descr': '<i4', 'fortran_order': False, 'shape': (1_000, 0x10, 0o7, 0b11), }", "<i4", []int{1000, 16, 7, 3}},
		{"{\n 'descr': '<i2',\n 'fortran_order': False,\n 'shape': ( 7 , ),\n}", "<i2", []int{7}},
		{"{'descr': '<f4', 'fortran_order': False, 'shape': (0,), }", "<f4", []int{0}},
	} {
		a, err := parseHeader(c.header)
		if err != nil {
			t.Errorf("%q: %v", c.header, err)
			continue
		}
		if a.Dtype() != c.dtype || !slices.Equal(a.Shape, c.shape) {
			t.Errorf("%q: dtype %s shape %v, want %s %v", c.header, a.Dtype(), a.Shape, c.dtype, c.shape)
		}
	}
}

// TestHeaderRefused: what numpy refuses, and what it would read
// differently from a text search ('shape' inside another value, a key
// given twice), is an ErrFormat error saying what is wrong.
func TestHeaderRefused(t *testing.T) {
	for _, c := range []struct{ header, want string }{
		{"{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'shape': (3,)}", "key 'shape' given twice"},
		{"{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'descr': '<f8'}", "key 'descr' given twice"},
		{"{'descr': \"'shape': (9,)\", 'fortran_order': False, 'shape': (2,)}", "dtype \"'shape': (9,)\""},
		{"{'descr': '<f4', 'note': 'shape': (2,), 'fortran_order': False}", "key 'note' is not one of"},
		{"{'descr': '<f4', 'fortran_order': False}", "lacks the key 'shape'"},
		{"{'descr': '<f4', 'shape': (2,)}", "lacks the key 'fortran_order'"},
		{"{'fortran_order': False, 'shape': (2,)}", "lacks the key 'descr'"},
		{"{'descr': '<f4', 'fortran_order': False, 'shape': (2,)} junk", "text after the dictionary"},
		{"{'descr': '<f4', 'fortran_order': False, 'shape': (2,)}{}", "text after the dictionary"},
		{"{'descr': '<f4', 'fortran_order': False, 'shape': (2)}", "shape (2) is not a tuple"},
		{"{'descr': '<f4', 'fortran_order': False, 'shape': [2, 3]}", "shape [2, 3] is not a tuple"},
		{"{'descr': '<f4', 'fortran_order': False, 'shape': 6}", "shape 6 is not a tuple"},
		{"{'descr': '<f4', 'fortran_order': False, 'shape': (True, 3)}", "True is not an integer"},
		{"{'descr': '<f4', 'fortran_order': False, 'shape': (-2,)}", "shape (-2,) has a negative dimension"},
		{"{'descr': '<f4', 'fortran_order': False, 'shape': (2,,)}", "no integer"},
		{"{'descr': '<f4', 'fortran_order': False, 'shape': (,)}", "no integer"},
		{"{'descr': '<f4', 'fortran_order': False, 'shape': (2 3)}", "no ',' or ')'"},
		{"{'descr': '<f4', 'fortran_order': False, 'shape': (012,)}", "leading zero"},
		{"{'descr': '<f4', 'fortran_order': False, 'shape': (1__0,)}", "not an integer"},
		{"{'descr': '<f4', 'fortran_order': False, 'shape': (9223372036854775808,)}", "not an integer below 2^63"},
		{"{'descr': '<f4', 'fortran_order': 0, 'shape': (2,)}", "fortran_order 0 is not True or False"},
		{"{'descr': '<f4', 'fortran_order': True, 'shape': (2,)}", "Fortran order"},
		{"{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,)}", "structured dtypes"},
		{"{'descr': '<f\\x34', 'fortran_order': False, 'shape': (2,)}", "escape"},
		{"{'descr': '<f4, 'fortran_order': False, 'shape': (2,)}", "no ',' or '}' after the value of 'descr'"},
		{"{'descr': '<f4', 'fortran_order': False 'shape': (2,)}", "no ',' or '}'"},
		{"{'descr' '<f4'}", "no ':' after key 'descr'"},
		{"{descr: '<f4'}", "\"descr: '<f4'\" is not a literal"},
		{"{'descr': '<f04', 'fortran_order': False, 'shape': (2,)}", "dtype '<f04'"},
		{"{'descr': '<f4', 'fortran_order': False, 'shape': (2,)", "no ',' or '}' after the value of 'shape'"},
		{"'descr': '<f4'", "not a dictionary"},
		{"", "not a dictionary"},
	} {
		_, err := parseHeader(c.header)
		if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want ErrFormat saying %q", c.header, err, c.want)
		}
	}
}

// FuzzParseHeader: any header text gives an array or an ErrFormat error,
// never a panic; an accepted header, written again as numpy writes it,
// reads back the same.
func FuzzParseHeader(f *testing.F) {
	for _, s := range []string{
		"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }",
		"{'descr': '|b1', 'fortran_order': False, 'shape': (), }",
		`{"shape": (0x10, 1_0L,), "descr": ">u8", "fortran_order": False}`,
		"{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'shape': (3,)}",
		"{'descr': [('a', '<f4')], 'fortran_order': True, 'shape': (-1)}",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		a, err := parseHeader(h)
		if err != nil {
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("%q: error %v does not wrap ErrFormat", h, err)
			}
			return
		}
		for _, d := range a.Shape {
			if d < 0 {
				t.Fatalf("%q: negative dimension in %v", h, a.Shape)
			}
		}
		var buf bytes.Buffer
		descr := a.Dtype()
		if a.order.String() == "BigEndian" {
			descr = ">" + descr[1:]
		}
		dims := make([]string, len(a.Shape))
		for i, d := range a.Shape {
			dims[i] = strconv.Itoa(d)
		}
		tuple := "(" + strings.Join(dims, ", ")
		if len(a.Shape) == 1 {
			tuple += ","
		}
		buf.WriteString("{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + tuple + "), }")
		b, err := parseHeader(buf.String())
		if err != nil || b.Dtype() != a.Dtype() || b.order != a.order || !slices.Equal(a.Shape, b.Shape) {
			t.Fatalf("%q read as %s %v; written again %q reads %v, %v", h, a.Dtype(), a.Shape, buf.String(), b, err)
		}
	})
}

// FuzzRead: any bytes give an array whose data fits its shape, or an
// error, never a panic or an allocation larger than the input.
func FuzzRead(f *testing.F) {
	var good bytes.Buffer
	if err := Write(&good, []int{2, 3}, []float32{1, 2, 3, 4, 5, 6}); err != nil {
		f.Fatal(err)
	}
	f.Add(good.Bytes())
	f.Add([]byte("\x93NUMPY\x02\x00\x10\x00\x00\x00{'descr':'<f8', 'fortran_order':False,'shape':(1,)}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, size := range []int64{-1, int64(len(b))} {
			a, err := read(bytes.NewReader(b), size)
			if err != nil {
				continue
			}
			n := a.Size
			for _, d := range a.Shape {
				n *= d
			}
			if len(a.data) != n || len(a.data) > len(b) {
				t.Fatalf("shape %v of %s with %d bytes of data from %d bytes", a.Shape, a.Dtype(), len(a.data), len(b))
			}
		}
	})
}
