package experiment

import (
	"math"
	"testing"
)

// TestStudentT975 checks against quantiles computed to 40 digits with
// mpmath (the root of the regularised incomplete beta function).
func TestStudentT975(t *testing.T) {
	for _, c := range []struct {
		nu   int
		want float64
	}{
		{1, math.Tan(0.95 * math.Pi / 2)}, // the Cauchy distribution
		{2, math.Sqrt(1.805 / 0.0975)},    // t/√(t²+2) = 0.95
		{3, 3.1824463052837095},
		{4, 2.7764451051977943},
		{9, 2.2621571627982055},
		{30, 2.0422724563012383},
	} {
		if got := StudentT975(c.nu); math.Abs(got-c.want) > 1e-13*c.want {
			t.Errorf("t(0.975, %d) = %.15g, want %.15g", c.nu, got, c.want)
		}
	}
	if got := StudentT975(100000); math.Abs(got-1.959963984540054) > 1e-4 {
		t.Errorf("t(0.975, 1e5) = %v, want about 1.95996", got)
	}
}

// TestPairedDifference is a case worked by hand: differences 0.02, 0.01,
// 0.03 have mean 0.02 and standard deviation 0.01, so the interval is
// 0.02 ± 4.302653·0.01/√3 = 0.02 ± 0.024841, which holds 0.
func TestPairedDifference(t *testing.T) {
	d, err := PairedDifference([]float64{0.90, 0.92, 0.95}, []float64{0.88, 0.91, 0.92})
	if err != nil {
		t.Fatal(err)
	}
	half := math.Sqrt(1.805/0.0975) * 0.01 / math.Sqrt(3)
	if math.Abs(d.Mean-0.02) > 1e-15 || math.Abs(d.Low-(0.02-half)) > 1e-14 || math.Abs(d.High-(0.02+half)) > 1e-14 {
		t.Errorf("got %+v, want 0.02 ± %v", d, half)
	}
	if math.Abs(half-0.0248414) > 1e-6 || d.Significant() {
		t.Errorf("half width %v, significant %v", half, d.Significant())
	}
	// Differences 0.02, 0.021, 0.019: the interval 0.02 ± 0.0024841 excludes 0.
	d, err = PairedDifference([]float64{0.92, 0.921, 0.919}, []float64{0.9, 0.9, 0.9})
	if err != nil || !d.Significant() || !(d.Low > 0.0175 && d.Low < 0.0176) {
		t.Errorf("got %+v, %v; want significant, low 0.017516", d, err)
	}
	d, err = PairedDifference([]float64{0.5}, []float64{0.4})
	if err != nil || math.Abs(d.Mean-0.1) > 1e-15 || !math.IsNaN(d.Low) || d.Significant() {
		t.Errorf("one seed: %+v, %v", d, err)
	}
	if _, err := PairedDifference([]float64{1, 2}, []float64{1}); err == nil {
		t.Error("unequal lengths: no error")
	}
	if s := Summarize([]float64{1, 2, 3, 4}); s.Mean != 2.5 || math.Abs(s.SD-math.Sqrt(5.0/3)) > 1e-15 {
		t.Errorf("Summarize: %+v", s)
	}
}
