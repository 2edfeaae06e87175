package figures

import (
	"math"
	"testing"
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
