package figures

import (
	"math"
	"strings"
	"testing"

	"github.com/xent-go/xent"
)

// The closed forms the figures must show, computed here with package math
// alone, independently of xent.
func sigmoid(z float64) float64 { return 1 / (1 + math.Exp(-z)) }

func near(t *testing.T, what string, i int, got, want float64) {
	t.Helper()
	if math.Abs(got-want) > 1e-12*math.Max(1, math.Abs(want)) {
		t.Errorf("%s[%d] = %.17g, want %.17g", what, i, got, want)
	}
}

func TestFocal(t *testing.T) {
	f, err := Focal()
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Series) != len(FocalGammas) {
		t.Fatalf("%d series", len(f.Series))
	}
	for k, s := range f.Series {
		g := FocalGammas[k]
		for i, p := range s.X {
			near(t, s.Name, i, s.Y[i], -math.Pow(1-p, g)*math.Log(p))
		}
	}
	// Lin et al.'s point: at p_t = 0.9 γ = 2 cuts the loss a hundredfold.
	ce, g2 := f.Series[0], f.Series[3]
	i := 179 // p_t = 180/200 = 0.9
	if math.Abs(ce.X[i]-0.9) > 1e-12 || math.Abs(ce.Y[i]/g2.Y[i]-100) > 1e-6 {
		t.Errorf("at p_t = %v: cross-entropy / focal(γ=2) = %v, want 100", ce.X[i], ce.Y[i]/g2.Y[i])
	}
}

func TestCrossEntropy(t *testing.T) {
	loss, grad, err := CrossEntropy()
	if err != nil {
		t.Fatal(err)
	}
	for i, z := range loss.Series[0].X {
		e := math.Exp(z)
		p := e / (e + Classes - 1)
		near(t, "softmax loss", i, loss.Series[0].Y[i], math.Log(e+Classes-1)-z)
		near(t, "softmax gradient", i, grad.Series[0].Y[i], p-1)
		near(t, "sigmoid loss", i, loss.Series[1].Y[i], math.Log1p(math.Exp(-z)))
		near(t, "sigmoid gradient", i, grad.Series[1].Y[i], sigmoid(z)-1)
	}
}

func TestActivations(t *testing.T) {
	a, err := Activations()
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, s := range Scores {
		sum += math.Exp(s)
	}
	total := 0.0
	for i, s := range Scores {
		near(t, "softmax", i, a.Series[0].Y[i], math.Exp(s)/sum)
		near(t, "sigmoid", i, a.Series[1].Y[i], sigmoid(s))
		total += a.Series[0].Y[i]
	}
	near(t, "Σ softmax", 0, total, 1)
}

func TestAllAndFiles(t *testing.T) {
	figs, err := All()
	if err != nil {
		t.Fatal(err)
	}
	if got := len(Files(figs)); got != 8 {
		t.Fatalf("%d files, want 8", got)
	}
	for _, f := range figs {
		if f.Title == "" || f.XLabel == "" || f.YLabel == "" {
			t.Errorf("%s: unlabelled", f.Name)
		}
		for _, s := range f.Series {
			if s.Name == "" || len(s.X) != len(s.Y) || len(s.X) == 0 {
				t.Errorf("%s: series %q of %d x and %d y", f.Name, s.Name, len(s.X), len(s.Y))
			}
		}
	}
}

// TestValuesAreTheLibrarys calls the library afresh, one point at a time,
// and requires the figures' values to the bit: what is drawn is what xent
// computes, not a formula beside it.
func TestValuesAreTheLibrarys(t *testing.T) {
	f, err := Focal()
	if err != nil {
		t.Fatal(err)
	}
	loss, grad, err := CrossEntropy()
	if err != nil {
		t.Fatal(err)
	}
	for k, g := range FocalGammas {
		s := f.Series[k]
		for i := 0; i < len(s.X); i += 17 {
			z := math.Log(s.X[i] / (1 - s.X[i]))
			v, err := xent.SigmoidFocalLoss([]int{1, 1}, []float64{z}, []float64{1},
				xent.SigmoidFocalOptions[float64]{Alpha: new(-1.0), Gamma: new(g)}, xent.Output[float64]{})
			if err != nil || v != s.Y[i] {
				t.Errorf("focal γ=%g at p=%v: figure %v, library %v (%v)", g, s.X[i], s.Y[i], v, err)
			}
		}
	}
	for i := 0; i < len(loss.Series[0].X); i += 11 {
		z := loss.Series[0].X[i]
		row := make([]float64, Classes)
		row[0] = z
		d := make([]float64, Classes)
		v, err := xent.SoftmaxCrossEntropy([]int{1, Classes}, row, []int64{0}, xent.SoftmaxOptions[float64]{}, xent.Output[float64]{Grad: d})
		if err != nil || v != loss.Series[0].Y[i] || d[0] != grad.Series[0].Y[i] {
			t.Errorf("softmax at z=%v: figure %v, %v; library %v, %v (%v)", z, loss.Series[0].Y[i], grad.Series[0].Y[i], v, d[0], err)
		}
		g := make([]float64, 1)
		v, err = xent.SigmoidCrossEntropy([]int{1, 1}, []float64{z}, []float64{1}, xent.SigmoidOptions[float64]{}, xent.Output[float64]{Grad: g})
		if err != nil || v != loss.Series[1].Y[i] || g[0] != grad.Series[1].Y[i] {
			t.Errorf("sigmoid at z=%v: figure %v, %v; library %v, %v (%v)", z, loss.Series[1].Y[i], grad.Series[1].Y[i], v, g[0], err)
		}
	}
}

// TestRoundTicks: labelled ticks at multiples of 1, 2 or 5 × 10^k, 0
// among them when in range, printed without float noise.
func TestRoundTicks(t *testing.T) {
	for _, c := range []struct {
		lo, hi float64
		want   []string
	}{
		{0.0597, 0.1495, []string{"0.06", "0.08", "0.10", "0.12", "0.14"}},
		{-0.98, -0.02, []string{"-0.8", "-0.6", "-0.4", "-0.2"}},
		{-8, 8, []string{"-5", "0", "5"}},
		{0, 5, []string{"0", "1", "2", "3", "4", "5"}},
		{0, 0.3, []string{"0.0", "0.1", "0.2", "0.3"}},
		{95.4, 98.1, []string{"96", "97", "98"}},
	} {
		var got []string
		for _, tk := range (RoundTicks{}).Ticks(c.lo, c.hi) {
			if tk.Label != "" {
				got = append(got, tk.Label)
			}
		}
		if strings.Join(got, " ") != strings.Join(c.want, " ") {
			t.Errorf("[%v, %v]: %v, want %v", c.lo, c.hi, got, c.want)
		}
	}
	if ticks := (RoundTicks{}).Ticks(1, 1); ticks != nil {
		t.Errorf("an empty range: %v", ticks)
	}
}

// TestZeroAxis: the axis holds 0 and its ends snap to a labelled tick
// within 5% of the range, and only then.
func TestZeroAxis(t *testing.T) {
	for _, c := range []struct{ lo, hi, wantLo, wantHi float64 }{
		{-0.9997, -0.0003, -1, 0},          // the gradient figure
		{0.0003, 10.2, 0, 10.2},            // 15 is too far above 10.2
		{0.2, 4.9, 0, 5},                   // 5 is 2% above 4.9
		{-3, 8, -3, 8},                     // ticks at 5: −5 and 10 are too far
		{2, 2, 0, 2},                       // a single value still gets 0
		{-1, math.Inf(1), -1, math.Inf(1)}, // not an axis to snap
	} {
		lo, hi := ZeroAxis(c.lo, c.hi)
		if lo != c.wantLo || hi != c.wantHi {
			t.Errorf("ZeroAxis(%v, %v) = %v, %v, want %v, %v", c.lo, c.hi, lo, hi, c.wantLo, c.wantHi)
		}
	}
}

func TestRoundTicksWhole(t *testing.T) {
	for _, c := range []struct {
		lo, hi float64
		want   string
	}{{1, 2, "1 2"}, {1, 3, "1 2 3"}, {1, 20, "5 10 15 20"}} {
		var labels []string
		for _, tk := range (RoundTicks{Whole: true}).Ticks(c.lo, c.hi) {
			if tk.Label == "" && c.hi-c.lo < 10 {
				t.Errorf("[%v, %v]: a minor tick at %v", c.lo, c.hi, tk.Value)
			}
			if tk.Label != "" {
				labels = append(labels, tk.Label)
			}
		}
		if got := strings.Join(labels, " "); got != c.want {
			t.Errorf("[%v, %v]: %q, want %q", c.lo, c.hi, got, c.want)
		}
	}
}

func TestLogTicks(t *testing.T) {
	var labels []string
	minor := 0
	for _, tk := range (LogTicks{}).Ticks(0.008, 0.6) {
		if tk.Label == "" {
			minor++
			continue
		}
		labels = append(labels, tk.Label)
	}
	if got, want := strings.Join(labels, " "), "0.01 0.02 0.05 0.1 0.2 0.5"; got != want {
		t.Errorf("labels %q, want %q", got, want)
	}
	if minor != 11 { // 0.008, 0.009, 0.03, 0.04, 0.06–0.09, 0.3, 0.4, 0.6
		t.Errorf("%d minor ticks, want 11", minor)
	}
	var narrow []string
	for _, tk := range (LogTicks{}).Ticks(3, 9) {
		narrow = append(narrow, tk.Label)
	}
	if got := strings.Join(narrow, " "); got != "3 4 5 6 7 8 9" {
		t.Errorf("a narrow range is labelled %q, want every whole step", got)
	}
	if (LogTicks{}).Ticks(0, 1) != nil {
		t.Error("a range from 0 has log ticks")
	}
}

// TestErrorBars draws bars and lines with error bars, and refuses a
// series whose error bars do not match its values.
func TestErrorBars(t *testing.T) {
	figs := []Figure{
		{Name: "bars", Bars: true, Categories: []string{"a", "b"}, YZero: true,
			Series: []Series{{Name: "one", Y: []float64{1, -0.5}, Err: []float64{0.2, 0.1}}, {Name: "two", Y: []float64{0.5, 0.7}, Err: []float64{0.1, math.NaN()}}}},
		{Name: "lines", Points: true, LogX: true,
			Series: []Series{{Name: "one", X: []float64{0.01, 0.1, 0.5}, Y: []float64{1, 2, 3}, Err: []float64{0.1, 0.2, 0.3}}}},
	}
	files, err := Render(figs)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range Files(figs) {
		if len(files[name]) == 0 {
			t.Errorf("%s is empty", name)
		}
	}
	figs[1].Series[0].Err = figs[1].Series[0].Err[:2]
	if _, err := Render(figs[1:]); err == nil {
		t.Error("2 error bars for 3 values: no error")
	}
}
