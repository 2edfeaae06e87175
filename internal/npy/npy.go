// Package npy reads and writes NumPy .npy files (format versions 1.0, 2.0
// and 3.0) holding one C-ordered array of booleans, integers or floats.
//
// xent keeps its own reader instead of codeberg.org/sbinet/npyio because
// that library writes only 1-D slices and gonum matrices, not an
// N-dimensional array from a flat slice with a shape, which every file xent
// writes is; and the format is a short header in front of the raw values.
package npy

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/xent-go/xent/internal/memlimit"
	"github.com/xent-go/xent/internal/outfile"
)

// ErrFormat is wrapped by every error about a file that is not a .npy file
// this package can read.
var ErrFormat = errors.New("npy: unsupported or malformed file")

var magic = []byte("\x93NUMPY")

// maxBytes bounds the data of one array (16 GiB, or what an int holds on
// a 32-bit machine), so a corrupt header cannot ask for an absurd
// allocation.
const maxBytes = min(16<<30, math.MaxInt)

// Array is an array read from a .npy file.
type Array struct {
	Shape []int
	// Kind is 'f' (float), 'i' (signed integer), 'u' (unsigned) or 'b' (bool).
	Kind byte
	// Size is the size of one element in bytes.
	Size  int
	order binary.ByteOrder
	data  []byte
}

// Dtype returns the array's type in NumPy's spelling, little-endian: "<f4",
// "<i8", "|b1".
func (a *Array) Dtype() string {
	if a.Size == 1 {
		return fmt.Sprintf("|%c1", a.Kind)
	}
	return fmt.Sprintf("<%c%d", a.Kind, a.Size)
}

// Len returns the number of elements.
func (a *Array) Len() int { return len(a.data) / a.Size }

// Float32s returns the values of a float32 array.
func (a *Array) Float32s() ([]float32, error) {
	if a.Kind != 'f' || a.Size != 4 {
		return nil, fmt.Errorf("npy: dtype %s is not float32 (<f4)", a.Dtype())
	}
	if err := a.checkDecode(4); err != nil {
		return nil, err
	}
	out := make([]float32, a.Len())
	for i := range out {
		out[i] = math.Float32frombits(a.order.Uint32(a.data[4*i:]))
	}
	return out, nil
}

// Float64s returns the values of a float64 array.
func (a *Array) Float64s() ([]float64, error) {
	if a.Kind != 'f' || a.Size != 8 {
		return nil, fmt.Errorf("npy: dtype %s is not float64 (<f8)", a.Dtype())
	}
	if err := a.checkDecode(8); err != nil {
		return nil, err
	}
	out := make([]float64, a.Len())
	for i := range out {
		out[i] = math.Float64frombits(a.order.Uint64(a.data[8*i:]))
	}
	return out, nil
}

// Uint8s returns the values of a uint8 array (|u1), without a copy: the
// slice is the array's own.
func (a *Array) Uint8s() ([]uint8, error) {
	if a.Kind != 'u' || a.Size != 1 {
		return nil, fmt.Errorf("npy: dtype %s is not uint8 (|u1)", a.Dtype())
	}
	return a.data, nil
}

// Int64s returns the values of an integer array of any size, signed or
// unsigned; a uint64 above the int64 range is an error.
func (a *Array) Int64s() ([]int64, error) {
	if a.Kind != 'i' && a.Kind != 'u' {
		return nil, fmt.Errorf("npy: dtype %s is not an integer type", a.Dtype())
	}
	if err := a.checkDecode(8); err != nil {
		return nil, err
	}
	out := make([]int64, a.Len())
	for i := range out {
		b := a.data[a.Size*i:]
		var u uint64
		switch a.Size {
		case 1:
			u = uint64(b[0])
		case 2:
			u = uint64(a.order.Uint16(b))
		case 4:
			u = uint64(a.order.Uint32(b))
		case 8:
			u = a.order.Uint64(b)
		}
		if a.Kind == 'i' { // sign-extend
			shift := 64 - 8*a.Size
			out[i] = int64(u<<shift) >> shift
		} else {
			if u > math.MaxInt64 {
				return nil, &RangeError{Index: i, Value: u}
			}
			out[i] = int64(u)
		}
	}
	return out, nil
}

// checkDecode checks that the values, size bytes each, fit in memory.
func (a *Array) checkDecode(size int) error {
	return memlimit.Check(memlimit.Bytes(a.Len(), size), fmt.Sprintf("the %d values of an array of shape %v", a.Len(), a.Shape))
}

// RangeError is Int64s' error for a uint64 value above the int64 range.
type RangeError struct {
	Index int    // the element's index in C order
	Value uint64 // its value
}

func (e *RangeError) Error() string {
	return fmt.Sprintf("npy: value %d at index %d does not fit in int64", e.Value, e.Index)
}

// ReadFile reads the .npy file at path. It reads the header first and
// checks the file's size against it before it allocates the data.
func ReadFile(path string) (*Array, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	size := int64(-1)
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
		size = fi.Size()
	}
	a, err := read(f, size)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return a, nil
}

// Read reads one array from r.
func Read(r io.Reader) (*Array, error) { return read(r, -1) }

// read reads one array from r, whose size is size bytes when known (≥ 0).
func read(r io.Reader, size int64) (*Array, error) {
	var pre [8]byte
	if _, err := io.ReadFull(r, pre[:]); err != nil {
		return nil, fmt.Errorf("%w: too short for a .npy header (%v)", ErrFormat, err)
	}
	if !bytes.Equal(pre[:6], magic) {
		return nil, fmt.Errorf("%w: no \\x93NUMPY magic at the start", ErrFormat)
	}
	var headerLen int
	switch major := pre[6]; major {
	case 1:
		var b [2]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return nil, fmt.Errorf("%w: truncated header length", ErrFormat)
		}
		headerLen = int(binary.LittleEndian.Uint16(b[:]))
	case 2, 3:
		var b [4]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return nil, fmt.Errorf("%w: truncated header length", ErrFormat)
		}
		headerLen = int(binary.LittleEndian.Uint32(b[:]))
	default:
		return nil, fmt.Errorf("%w: format version %d.%d", ErrFormat, major, pre[7])
	}
	if headerLen > 1<<20 {
		return nil, fmt.Errorf("%w: header of %d bytes", ErrFormat, headerLen)
	}
	header := make([]byte, headerLen)
	if _, err := io.ReadFull(r, header); err != nil {
		return nil, fmt.Errorf("%w: truncated header", ErrFormat)
	}
	a, err := parseHeader(string(header))
	if err != nil {
		return nil, err
	}
	n := a.Size
	for _, d := range a.Shape {
		if d != 0 && n > maxBytes/d {
			return nil, fmt.Errorf("%w: shape %v is larger than %d bytes", ErrFormat, a.Shape, maxBytes)
		}
		n *= d
	}
	if zero := slices.Contains(a.Shape, 0); zero {
		n = 0
	}
	short := func(have int64) error {
		return fmt.Errorf("%w: shape %v of %s needs %d bytes of data, the file has %d", ErrFormat, a.Shape, a.Dtype(), n, have)
	}
	if size >= 0 {
		have := size - int64(len(pre)) - prefixLen(pre[6]) - int64(headerLen)
		if have < int64(n) {
			return nil, short(have)
		}
		if have > int64(n) {
			return nil, fmt.Errorf("%w: data continues past shape %v of %s", ErrFormat, a.Shape, a.Dtype())
		}
	}
	if err := memlimit.Check(uint64(n), fmt.Sprintf("an array of shape %v of %s", a.Shape, a.Dtype())); err != nil {
		return nil, err
	}
	a.data = make([]byte, n)
	if got, err := io.ReadFull(r, a.data); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, short(int64(got))
		}
		return nil, err
	}
	var one [1]byte
	if k, _ := r.Read(one[:]); k > 0 {
		return nil, fmt.Errorf("%w: data continues past shape %v of %s", ErrFormat, a.Shape, a.Dtype())
	}
	return a, nil
}

// prefixLen is the size of the header-length field of format version major.
func prefixLen(major byte) int64 {
	if major == 1 {
		return 2
	}
	return 4
}

// Write writes data, a []float32, []float64, []int64 or []int32 of
// len = Π shape, as a C-ordered little-endian array of that shape (version
// 1.0 when the header fits, else 2.0). An empty shape writes a 0-d array.
func Write(w io.Writer, shape []int, data any) error {
	var descr string
	var n int
	switch v := data.(type) {
	case []float32:
		descr, n = "<f4", len(v)
	case []float64:
		descr, n = "<f8", len(v)
	case []int64:
		descr, n = "<i8", len(v)
	case []int32:
		descr, n = "<i4", len(v)
	default:
		return fmt.Errorf("npy: cannot write %T", data)
	}
	want := 1
	for _, d := range shape {
		want *= d
	}
	if want != n {
		return fmt.Errorf("npy: shape %v needs %d values, got %d", shape, want, n)
	}
	dims := make([]string, len(shape))
	for i, d := range shape {
		dims[i] = strconv.Itoa(d)
	}
	tuple := "(" + strings.Join(dims, ", ")
	if len(shape) == 1 {
		tuple += ","
	}
	tuple += ")"
	dict := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': %s, }", descr, tuple)
	// Pad with spaces so that the data starts on a 64-byte boundary, and end
	// with a newline, as NumPy does.
	var buf bytes.Buffer
	buf.Write(magic)
	prefix := 10
	if len(dict)+1+10 > 65535 {
		prefix = 12
	}
	pad := (64 - (prefix+len(dict)+1)%64) % 64
	header := dict + strings.Repeat(" ", pad) + "\n"
	if prefix == 10 {
		buf.Write([]byte{1, 0})
		_ = binary.Write(&buf, binary.LittleEndian, uint16(len(header)))
	} else {
		buf.Write([]byte{2, 0})
		_ = binary.Write(&buf, binary.LittleEndian, uint32(len(header)))
	}
	buf.WriteString(header)
	if _, err := w.Write(buf.Bytes()); err != nil {
		return err
	}
	return binary.Write(w, binary.LittleEndian, data)
}

// Writer returns a function that writes the array to a writer, for
// outfile.Set.Add.
func Writer(shape []int, data any) func(io.Writer) error {
	return func(w io.Writer) error { return Write(w, shape, data) }
}

// WriteFile writes the array to path all or nothing (outfile.WriteFile):
// through a synced temporary file in the same directory renamed into
// place, or straight into a device or FIFO.
func WriteFile(path string, shape []int, data any) error {
	return outfile.WriteFile(path, Writer(shape, data))
}
