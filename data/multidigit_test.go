package data

import (
	"errors"
	"math"
	"slices"
	"testing"
)

// tagged is a source set whose image k is the constant (k+1)/1e5, so that
// a multi-digit image tells which source images it was made of; its label
// is k mod 10.
func tagged(n int) *Set {
	s := &Set{N: n, Height: 28, Width: 28, Classes: 10, Images: make([]float32, n*784), Labels: make([]uint8, n)}
	for k := range n {
		s.Labels[k] = uint8(k % 10)
		for p := range s.Image(k) {
			s.Image(k)[p] = float32(k+1) / 1e5
		}
	}
	return s
}

// sources decodes the source index of each cell of image i, −1 for an
// empty cell, and checks that every cell is one constant.
func sources(t *testing.T, s *MultiSet, i int) [4]int {
	t.Helper()
	var ks [4]int
	img := s.Image(i)
	for c := range 4 {
		top, left := (c/2)*28, (c%2)*28
		v := img[top*56+left]
		for y := range 28 {
			for x := range 28 {
				if img[(top+y)*56+left+x] != v {
					t.Fatalf("image %d cell %d is not one source image", i, c)
				}
			}
		}
		ks[c] = int(math.Round(float64(v)*1e5)) - 1
	}
	return ks
}

func TestMultiDigit(t *testing.T) {
	src := tagged(1000)
	const n = 15000
	s, err := MultiDigit(src, 100, 900, n, 7)
	if err != nil {
		t.Fatal(err)
	}
	if s.Height != 56 || s.Width != 56 || s.Classes != 10 || len(s.Targets) != n*10 {
		t.Fatalf("shape %d×%d, %d classes, %d targets", s.Height, s.Width, s.Classes, len(s.Targets))
	}
	var counts [5]int
	for i := range n {
		want := make([]float32, 10)
		cells := 0
		for _, k := range sources(t, s, i) {
			if k < 0 {
				continue
			}
			if k < 100 || k >= 900 {
				t.Fatalf("image %d uses source %d outside [100, 900)", i, k)
			}
			want[k%10] = 1
			cells++
		}
		if got := s.Targets[i*10 : (i+1)*10]; !slices.Equal(got, want) {
			t.Fatalf("image %d: targets %v, want %v", i, got, want)
		}
		if m := s.Count(i); m < 1 || m > cells {
			t.Fatalf("image %d: M = %d with %d cells", i, m, cells)
		}
		counts[cells]++
	}
	if counts[0] != 0 {
		t.Fatalf("%d empty images", counts[0])
	}
	for cells, p := range []float64{0, 4.0 / 15, 6.0 / 15, 4.0 / 15, 1.0 / 15} {
		if got := float64(counts[cells]) / n; math.Abs(got-p) > 0.015 {
			t.Errorf("%d cells: share %.4f, want %.4f", cells, got, p)
		}
	}
	again, _ := MultiDigit(src, 100, 900, n, 7)
	other, _ := MultiDigit(src, 100, 900, n, 8)
	if !slices.Equal(again.Images, s.Images) || !slices.Equal(again.Targets, s.Targets) {
		t.Error("the same seed gave other images")
	}
	if slices.Equal(other.Images, s.Images) {
		t.Error("seeds 7 and 8 gave the same images")
	}
}

func TestMultiDigitSplits(t *testing.T) {
	train, test := tagged(1000), tagged(200)
	tr, val, te, err := MultiDigitSplits(train, test, 300, 100, 50, 1)
	if err != nil {
		t.Fatal(err)
	}
	if tr.N != 300 || val.N != 100 || te.N != 50 {
		t.Fatalf("sizes %d, %d, %d", tr.N, val.N, te.N)
	}
	for i := range tr.N {
		for _, k := range sources(t, tr, i) {
			if k >= 900 {
				t.Fatalf("training image %d uses held-out source %d", i, k)
			}
		}
	}
	for i := range val.N {
		for _, k := range sources(t, val, i) {
			if k >= 0 && k < 900 {
				t.Fatalf("validation image %d uses training source %d", i, k)
			}
		}
	}
	for i := range te.N {
		for _, k := range sources(t, te, i) {
			if k >= 200 {
				t.Fatalf("test image %d uses source %d of a 200-image test split", i, k)
			}
		}
	}
}

func TestMultiDigitErrors(t *testing.T) {
	src := tagged(10)
	for _, c := range []struct{ from, to, n int }{{0, 11, 5}, {-1, 5, 5}, {5, 5, 5}, {0, 10, -1}} {
		if _, err := MultiDigit(src, c.from, c.to, c.n, 1); !errors.Is(err, ErrData) {
			t.Errorf("%+v: %v, want ErrData", c, err)
		}
	}
	if _, err := MultiDigit(nil, 0, 1, 1, 1); !errors.Is(err, ErrData) {
		t.Errorf("nil source: %v", err)
	}
	if _, _, _, err := MultiDigitSplits(nil, src, 1, 1, 1, 1); !errors.Is(err, ErrData) {
		t.Errorf("nil training split: %v", err)
	}
}

func TestLongTail(t *testing.T) {
	freq, err := LongTail(10, 100)
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for k, f := range freq {
		sum += f
		if k > 0 && !(f < freq[k-1]) {
			t.Errorf("class %d (%v) is not rarer than class %d (%v)", k, f, k-1, freq[k-1])
		}
	}
	if math.Abs(sum-1) > 1e-15 {
		t.Errorf("frequencies sum to %v", sum)
	}
	if r := freq[0] / freq[9]; math.Abs(r-100) > 1e-9 {
		t.Errorf("head/tail = %v, want 100", r)
	}
	if r := freq[1] / freq[0]; math.Abs(r-math.Pow(100, -1.0/9)) > 1e-15 {
		t.Errorf("ratio of neighbours %v, want 100^(-1/9)", r)
	}
	uniform, err := LongTail(4, 1)
	if err != nil || uniform[0] != 0.25 || uniform[3] != 0.25 {
		t.Errorf("ratio 1: %v, %v", uniform, err)
	}
	for _, c := range []struct {
		classes int
		ratio   float64
	}{{1, 100}, {10, 0.5}, {10, math.Inf(1)}, {10, math.NaN()}} {
		if _, err := LongTail(c.classes, c.ratio); !errors.Is(err, ErrData) {
			t.Errorf("%+v: %v, want ErrData", c, err)
		}
	}
}

// TestLongTailDraw checks, over 20,000 images (about 50,000 cells), that
// the training split's cell digits follow LongTail's frequencies, that the
// validation and test splits keep the source's, and that a seed gives the
// same images every time.
func TestLongTailDraw(t *testing.T) {
	train, test := tagged(2000), tagged(500)
	freq, err := LongTail(10, 100)
	if err != nil {
		t.Fatal(err)
	}
	const n = 20000
	tr, val, te, err := MultiDigitSplitsOf(train, test, n, 2000, 500, 5, freq)
	if err != nil {
		t.Fatal(err)
	}
	var cells [10]int
	total := 0
	for i := range tr.N {
		for _, k := range sources(t, tr, i) {
			if k >= 0 {
				if k >= 1800 {
					t.Fatalf("training image %d uses held-out source %d", i, k)
				}
				cells[k%10]++
				total++
			}
		}
	}
	for k, f := range freq {
		got := float64(cells[k]) / float64(total)
		// Four binomial standard deviations.
		if sd := math.Sqrt(f * (1 - f) / float64(total)); math.Abs(got-f) > 4*sd {
			t.Errorf("digit %d: share %.5f of %d cells, want %.5f ± %.5f", k, got, total, f, 4*sd)
		}
	}
	for _, s := range []*MultiSet{val, te} {
		var digits [10]int
		all := 0
		for i := range s.N {
			for _, k := range sources(t, s, i) {
				if k >= 0 {
					digits[k%10]++
					all++
				}
			}
		}
		for k, d := range digits { // tagged's classes are uniform
			if got := float64(d) / float64(all); math.Abs(got-0.1) > 4*math.Sqrt(0.09/float64(all)) {
				t.Errorf("balanced split: digit %d has share %.4f", k, got)
			}
		}
	}
	again, _, _, err := MultiDigitSplitsOf(train, test, n, 2000, 500, 5, freq)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(tr.Images, again.Images) || !slices.Equal(tr.Targets, again.Targets) {
		t.Error("the same seed drew other long-tail images")
	}
	other, _, _, err := MultiDigitSplitsOf(train, test, n, 2000, 500, 6, freq)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Equal(tr.Images, other.Images) {
		t.Error("seeds 5 and 6 drew the same images")
	}
	balanced, _, _, err := MultiDigitSplits(train, test, 50, 10, 10, 5)
	if err != nil {
		t.Fatal(err)
	}
	viaNil, _, _, err := MultiDigitSplitsOf(train, test, 50, 10, 10, 5, nil)
	if err != nil || !slices.Equal(balanced.Images, viaNil.Images) {
		t.Errorf("MultiDigitSplitsOf with no frequencies is not MultiDigitSplits (%v)", err)
	}
	if _, _, _, err := MultiDigitSplitsOf(train, test, 5, 5, 5, 1, freq[:9]); !errors.Is(err, ErrData) {
		t.Errorf("9 frequencies for 10 classes: %v", err)
	}
	for _, bad := range [][]float64{{-0.1, 1, 0, 0, 0, 0, 0, 0, 0, 0}, {math.NaN(), 1, 0, 0, 0, 0, 0, 0, 0, 0}, make([]float64, 10)} {
		if _, _, _, err := MultiDigitSplitsOf(train, test, 5, 5, 5, 1, bad); !errors.Is(err, ErrData) {
			t.Errorf("frequencies %v: %v", bad, err)
		}
	}
	one := tagged(2000)
	for k := range one.Labels {
		one.Labels[k] = 0
	}
	if _, _, _, err := MultiDigitSplitsOf(one, test, 5, 5, 5, 1, freq); !errors.Is(err, ErrData) {
		t.Errorf("a class with frequency but no image: %v", err)
	}
}
