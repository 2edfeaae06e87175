package multilabel

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
)

// The hand-computed case: 4 samples, 3 classes, the last with no positive.
//
//	class 0: scores .9 .8 .7 .6, labels 1 0 1 0: AP = ½·1 + ½·⅔ = 5/6
//	class 1: scores .1 .4 .4 .2, labels 0 1 0 1: the tie .4 enters whole,
//	         P = ½ at R = ½, then P = ⅔ at R = 1: AP = ¼ + ⅓ = 7/12
//	class 2: no positive, left out of the mean.
var (
	scores = []float64{
		.9, .1, .05,
		.8, .4, .05,
		.7, .4, .05,
		.6, .2, .05,
	}
	labels = []float64{
		1, 0, 0,
		0, 1, 0,
		1, 0, 0,
		0, 1, 0,
	}
)

const n, c = 4, 3

func near(t *testing.T, what string, got, want float64) {
	t.Helper()
	if math.Abs(got-want) > 1e-15 {
		t.Errorf("%s = %.17g, want %.17g", what, got, want)
	}
}

func TestMeanAveragePrecision(t *testing.T) {
	got, err := MeanAveragePrecision(scores, labels, n, c)
	if err != nil {
		t.Fatal(err)
	}
	near(t, "mAP", got, (5.0/6+7.0/12)/2)
	perfect, _ := MeanAveragePrecision([]float64{1, 0, 0, 1}, []float64{1, 0, 0, 1}, 2, 2)
	near(t, "mAP of a perfect ranking", perfect, 1)
	none, _ := MeanAveragePrecision([]float64{1, 2}, []float64{0, 0}, 2, 1)
	if !math.IsNaN(none) {
		t.Errorf("mAP with no positive = %v, want NaN", none)
	}
}

func TestPRCurve(t *testing.T) {
	got, err := PRCurve(scores, labels, n, c, 1)
	if err != nil {
		t.Fatal(err)
	}
	want := []PRPoint{{.4, .5, .5}, {.2, 2.0 / 3, 1}, {.1, .5, 1}}
	if len(got) != len(want) {
		t.Fatalf("%d points, want %d: %v", len(got), len(want), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("point %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	if p, _ := PRCurve(scores, labels, n, c, 2); p != nil {
		t.Errorf("a class with no positive has the curve %v", p)
	}
	if _, err := PRCurve(scores, labels, n, c, 3); !errors.Is(err, ErrShape) {
		t.Errorf("class 3 of 3: %v", err)
	}
}

// TestMicroPRCurve: all 12 pairs, thresholds .9 … .05 (see TestBestThreshold).
func TestMicroPRCurve(t *testing.T) {
	got, err := MicroPRCurve(scores, labels, n, c)
	if err != nil {
		t.Fatal(err)
	}
	want := []PRPoint{{.9, 1, .25}, {.8, .5, .25}, {.7, 2.0 / 3, .5}, {.6, .5, .5}, {.4, .5, .75}, {.2, 4.0 / 7, 1}, {.1, .5, 1}, {.05, 1.0 / 3, 1}}
	if len(got) != len(want) {
		t.Fatalf("%d points, want %d: %v", len(got), len(want), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("point %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestMicroF1(t *testing.T) {
	// ≥ .5: class 0 all predicted (TP 2, FP 2), class 1 none (FN 2).
	got, err := MicroF1(scores, labels, n, c, .5)
	if err != nil {
		t.Fatal(err)
	}
	near(t, "F1 at .5", got, 4.0/8)
	empty, _ := MicroF1([]float64{.1}, []float64{0}, 1, 1, .5)
	near(t, "F1 with nothing positive", empty, 0)
}

// TestBestThreshold: over all 12 scores the F1 at each threshold is
// 2/5, 2/6, 4/7, 4/8, 6/10, 8/11, 8/12 and (at .05) 8/16: best at .2.
func TestBestThreshold(t *testing.T) {
	th, f1, err := BestThreshold(scores, labels, n, c)
	if err != nil {
		t.Fatal(err)
	}
	near(t, "threshold", th, .2)
	near(t, "F1", f1, 8.0/11)
	again, _ := MicroF1(scores, labels, n, c, th)
	near(t, "MicroF1 at the best threshold", again, f1)
	th, f1, _ = BestThreshold([]float64{.3}, []float64{0}, 1, 1)
	if !math.IsInf(th, 1) || f1 != 0 {
		t.Errorf("no positive: threshold %v, F1 %v", th, f1)
	}
}

func TestPrecisionAtM(t *testing.T) {
	// Every sample has M = 1 and class 0 on top: right for samples 0 and 2.
	got, err := PrecisionAtM(scores, labels, n, c)
	if err != nil {
		t.Fatal(err)
	}
	near(t, "P@M", got, .5)
	// M = 2: the top two are classes 1 and 0 (tie to the lower index) — one hit of two.
	two, _ := PrecisionAtM([]float64{.5, .5, .5, .9}, []float64{1, 0, 1, 0}, 1, 4)
	near(t, "P@2 with ties", two, .5)
	skip, _ := PrecisionAtM([]float64{.5, .5, .9, .1}, []float64{0, 0, 1, 0}, 2, 2)
	near(t, "P@M skipping a sample with no label", skip, 1)
}

func TestExactSetAccuracy(t *testing.T) {
	for _, c2 := range []struct{ threshold, want float64 }{{.5, .5}, {.3, .25}, {.95, 0}} {
		got, err := ExactSetAccuracy(scores, labels, n, c, c2.threshold)
		if err != nil {
			t.Fatal(err)
		}
		near(t, "exact-set accuracy", got, c2.want)
	}
}

func TestBadInput(t *testing.T) {
	calls := map[string]func(s, l []float64, n, c int) error{
		"mAP":   func(s, l []float64, n, c int) error { _, err := MeanAveragePrecision(s, l, n, c); return err },
		"F1":    func(s, l []float64, n, c int) error { _, err := MicroF1(s, l, n, c, .5); return err },
		"best":  func(s, l []float64, n, c int) error { _, _, err := BestThreshold(s, l, n, c); return err },
		"P@M":   func(s, l []float64, n, c int) error { _, err := PrecisionAtM(s, l, n, c); return err },
		"exact": func(s, l []float64, n, c int) error { _, err := ExactSetAccuracy(s, l, n, c, .5); return err },
		"curve": func(s, l []float64, n, c int) error { _, err := PRCurve(s, l, n, c, 0); return err },
	}
	for name, call := range calls {
		for _, bad := range []struct {
			s, l []float64
			n, c int
			want error
		}{
			{[]float64{1, 2}, []float64{0, 1, 0}, 1, 2, ErrShape},
			{[]float64{1, 2}, []float64{0, 1}, 1, 3, ErrShape},
			{[]float64{1, 2}, []float64{0, 0.5}, 1, 2, ErrShape},
			{[]float64{1, math.NaN()}, []float64{0, 1}, 1, 2, ErrScore},
			{nil, nil, 0, 0, ErrShape},
		} {
			if err := call(bad.s, bad.l, bad.n, bad.c); !errors.Is(err, bad.want) {
				t.Errorf("%s(%v, %v, %d, %d): %v, want %v", name, bad.s, bad.l, bad.n, bad.c, err, bad.want)
			}
		}
	}
}

func TestClassAveragePrecision(t *testing.T) {
	ap, err := ClassAveragePrecision(scores, labels, n, c)
	if err != nil {
		t.Fatal(err)
	}
	near(t, "AP of class 0", ap[0], 5.0/6)
	near(t, "AP of class 1", ap[1], 7.0/12)
	if !math.IsNaN(ap[2]) {
		t.Errorf("AP of a class with no positive = %v, want NaN", ap[2])
	}
}

// TestByLabelCount is worked by hand: at threshold 0.5,
//
//	M = 1: sample 0 (top class right, predicts {0}, exact), sample 1 (top
//	       class 0 wrong, predicts {0, 1}): P@M ½, exact ½, TP 2 FP 1 → F1
//	       ⅘; AP 1 for classes 0 and 1 → mAP 1;
//	M = 2: sample 2 (top two right, exact), sample 3 (top two {0, 1}, one
//	       right; predicts {0, 1}): P@M ¾, exact ½, TP 3 FP 1 FN 1 → F1 ¾;
//	       class 1 ranks sample 3 (.75, negative) above sample 2 (.7) → AP
//	       ½, classes 0 and 2 AP 1 → mAP ⅚;
//	M = 3: no sample; sample 4 has no label and is in no group.
func TestByLabelCount(t *testing.T) {
	s := []float64{
		.9, .2, .1,
		.6, .5, .1,
		.8, .7, .3,
		.9, .75, .4,
		.3, .2, .1,
	}
	l := []float64{
		1, 0, 0,
		0, 1, 0,
		1, 1, 0,
		1, 0, 1,
		0, 0, 0,
	}
	got, err := ByLabelCount(s, l, 5, 3, 0.5, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].M != 1 || got[0].Samples != 2 || got[1].Samples != 2 || got[2].Samples != 0 || got[2].M != 3 {
		t.Fatalf("groups %+v", got)
	}
	near(t, "M=1 P@M", got[0].PrecisionAtM, 0.5)
	near(t, "M=1 exact", got[0].ExactSet, 0.5)
	near(t, "M=1 F1", got[0].MicroF1, 0.8)
	near(t, "M=1 mAP", got[0].MAP, 1)
	near(t, "M=2 P@M", got[1].PrecisionAtM, 0.75)
	near(t, "M=2 exact", got[1].ExactSet, 0.5)
	near(t, "M=2 F1", got[1].MicroF1, 0.75)
	near(t, "M=2 mAP", got[1].MAP, 5.0/6)
	if !math.IsNaN(got[2].MAP) || !math.IsNaN(got[2].PrecisionAtM) {
		t.Errorf("an empty group measured %+v", got[2])
	}
	if b, err := json.Marshal(got[2]); err != nil || string(b) != `{"m":3,"samples":0,"map":null,"precision_at_m":null,"exact_set_accuracy":null,"micro_f1":null}` {
		t.Errorf("an empty group in JSON: %s, %v", b, err)
	}
	if b, err := json.Marshal(got[0]); err != nil || !strings.Contains(string(b), `"precision_at_m":0.5`) {
		t.Errorf("a group in JSON: %s, %v", b, err)
	}
	if _, err := ByLabelCount(s, l, 5, 3, 0.5, 0); !errors.Is(err, ErrShape) {
		t.Errorf("maxM 0: %v", err)
	}
	if _, err := ByLabelCount(s, l[:3], 5, 3, 0.5, 3); !errors.Is(err, ErrShape) {
		t.Errorf("short labels: %v", err)
	}
}
