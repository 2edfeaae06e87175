// Package multilabel measures multi-label predictions: scores of N samples
// over C classes (row-major, N·C values, higher means more likely) against
// multi-hot labels of the same shape (1 for a class in the sample's set, 0
// otherwise). The definitions are scikit-learn's where it has one.
//
// Every function returns an error wrapping ErrShape when the slices do not
// hold N·C values or a label is neither 0 nor 1, and ErrScore for a NaN
// score; none of them writes to its arguments.
package multilabel

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
)

var (
	// ErrShape: the slices do not fit N×C, or a label is not 0 or 1.
	ErrShape = errors.New("multilabel: bad shape or label")
	// ErrScore: a score is NaN.
	ErrScore = errors.New("multilabel: bad score")
)

func check(scores, labels []float64, n, c int) error {
	if n < 0 || c < 1 || len(scores) != n*c || len(labels) != n*c {
		return fmt.Errorf("%w: %d scores and %d labels for %d×%d", ErrShape, len(scores), len(labels), n, c)
	}
	for i, l := range labels {
		if l != 0 && l != 1 {
			return fmt.Errorf("%w: label %v at sample %d, class %d", ErrShape, l, i/c, i%c)
		}
		if math.IsNaN(scores[i]) {
			return fmt.Errorf("%w: NaN at sample %d, class %d", ErrScore, i/c, i%c)
		}
	}
	return nil
}

// PRPoint is one point of a precision–recall curve: predicting "positive"
// for every score ≥ Threshold gives Precision and Recall.
type PRPoint struct{ Threshold, Precision, Recall float64 }

// step is the outcome of one threshold: tp of the seen samples with
// score ≥ threshold are positive.
type step struct {
	threshold float64
	tp, seen  int
}

// sweep returns one step per distinct score, from the highest threshold
// down (tied scores enter together, as scikit-learn's
// precision_recall_curve counts them), and the number of positives.
func sweep(scores, labels []float64) (steps []step, positives int) {
	idx := make([]int, len(scores))
	for i := range idx {
		idx[i] = i
		if labels[i] == 1 {
			positives++
		}
	}
	slices.SortStableFunc(idx, byScoreDescending(scores))
	tp, seen := 0, 0
	for k := 0; k < len(idx); {
		s := scores[idx[k]]
		for ; k < len(idx) && scores[idx[k]] == s; k++ {
			seen++
			if labels[idx[k]] == 1 {
				tp++
			}
		}
		steps = append(steps, step{s, tp, seen})
	}
	return steps, positives
}

// byScoreDescending orders indices of scores from the highest score down;
// a stable sort keeps tied indices in increasing order.
func byScoreDescending(scores []float64) func(a, b int) int {
	return func(a, b int) int {
		switch {
		case scores[a] > scores[b]:
			return -1
		case scores[a] < scores[b]:
			return 1
		}
		return 0
	}
}

// curve is the precision–recall curve of the pairs; nil without a positive.
func curve(scores, labels []float64) (points []PRPoint, positives int) {
	steps, positives := sweep(scores, labels)
	if positives == 0 {
		return nil, 0
	}
	for _, s := range steps {
		points = append(points, PRPoint{Threshold: s.threshold,
			Precision: float64(s.tp) / float64(s.seen), Recall: float64(s.tp) / float64(positives)})
	}
	return points, positives
}

// averagePrecision is Σₖ (Rₖ − Rₖ₋₁)·Pₖ over the curve's points, R₀ = 0:
// scikit-learn's average_precision_score, with no interpolation.
func averagePrecision(points []PRPoint) float64 {
	ap, prev := 0.0, 0.0
	for _, p := range points {
		ap += (p.Recall - prev) * p.Precision
		prev = p.Recall
	}
	return ap
}

// PRCurve is class c's precision–recall curve (nil when c has no positive
// sample).
func PRCurve(scores, labels []float64, n, c, class int) ([]PRPoint, error) {
	if err := check(scores, labels, n, c); err != nil {
		return nil, err
	}
	if class < 0 || class >= c {
		return nil, fmt.Errorf("%w: class %d of %d", ErrShape, class, c)
	}
	s, l := column(scores, n, c, class), column(labels, n, c, class)
	points, _ := curve(s, l)
	return points, nil
}

// MicroPRCurve is the precision–recall curve of every (sample, class)
// pair together, the micro-averaged curve (nil with no positive label).
func MicroPRCurve(scores, labels []float64, n, c int) ([]PRPoint, error) {
	if err := check(scores, labels, n, c); err != nil {
		return nil, err
	}
	points, _ := curve(scores, labels)
	return points, nil
}

func column(v []float64, n, c, class int) []float64 {
	col := make([]float64, n)
	for i := range col {
		col[i] = v[i*c+class]
	}
	return col
}

// MeanAveragePrecision is the mean over classes of each class's average
// precision Σₖ (Rₖ − Rₖ₋₁)·Pₖ, ranking the samples by that class's score
// (scikit-learn's average_precision_score with average="macro"). Classes
// with no positive sample have no average precision and are left out of
// the mean; with none at all the result is NaN.
func MeanAveragePrecision(scores, labels []float64, n, c int) (float64, error) {
	ap, err := ClassAveragePrecision(scores, labels, n, c)
	if err != nil {
		return 0, err
	}
	sum, classes := 0.0, 0
	for _, v := range ap {
		if !math.IsNaN(v) {
			sum += v
			classes++
		}
	}
	if classes == 0 {
		return math.NaN(), nil
	}
	return sum / float64(classes), nil
}

// ClassAveragePrecision is each class's average precision, as
// MeanAveragePrecision averages them: NaN for a class with no positive.
func ClassAveragePrecision(scores, labels []float64, n, c int) ([]float64, error) {
	if err := check(scores, labels, n, c); err != nil {
		return nil, err
	}
	ap := make([]float64, c)
	for class := range c {
		points, positives := curve(column(scores, n, c, class), column(labels, n, c, class))
		ap[class] = math.NaN()
		if positives > 0 {
			ap[class] = averagePrecision(points)
		}
	}
	return ap, nil
}

// counts are the micro-averaged outcomes of predicting score ≥ threshold.
type counts struct{ tp, fp, fn int }

func (k counts) f1() float64 {
	if d := 2*k.tp + k.fp + k.fn; d > 0 {
		return 2 * float64(k.tp) / float64(d)
	}
	return 0
}

// MicroF1 is 2·TP / (2·TP + FP + FN), counted over every (sample, class)
// pair with "positive" meaning score ≥ threshold; 0 when there is neither
// a positive label nor a positive prediction.
func MicroF1(scores, labels []float64, n, c int, threshold float64) (float64, error) {
	if err := check(scores, labels, n, c); err != nil {
		return 0, err
	}
	var k counts
	for i, s := range scores {
		switch pred, pos := s >= threshold, labels[i] == 1; {
		case pred && pos:
			k.tp++
		case pred:
			k.fp++
		case pos:
			k.fn++
		}
	}
	return k.f1(), nil
}

// BestThreshold returns the threshold among the scores that maximises
// MicroF1 (the highest such threshold on a tie), and that F1. It is meant
// for a validation split, the threshold then applied to the test split.
// With no positive label it returns +Inf (predict nothing) and 0.
func BestThreshold(scores, labels []float64, n, c int) (threshold, f1 float64, err error) {
	if err := check(scores, labels, n, c); err != nil {
		return 0, 0, err
	}
	steps, positives := sweep(scores, labels)
	threshold = math.Inf(1)
	for _, s := range steps {
		// 2TP + FP + FN = predicted + positives.
		if v := 2 * float64(s.tp) / float64(s.seen+positives); v > f1 {
			threshold, f1 = s.threshold, v
		}
	}
	return threshold, f1, nil
}

// PrecisionAtM is the mean over samples with at least one label of
// hits/M, where M is the sample's number of labels and hits how many of
// its M highest-scoring classes (ties to the lower class index) are among
// them. Samples with no label are left out; with none at all it is NaN.
func PrecisionAtM(scores, labels []float64, n, c int) (float64, error) {
	if err := check(scores, labels, n, c); err != nil {
		return 0, err
	}
	order := make([]int, c)
	sum, samples := 0.0, 0
	for i := range n {
		row, lab := scores[i*c:(i+1)*c], labels[i*c:(i+1)*c]
		m := 0
		for _, l := range lab {
			m += int(l)
		}
		if m == 0 {
			continue
		}
		for j := range order {
			order[j] = j
		}
		slices.SortStableFunc(order, byScoreDescending(row))
		hits := 0
		for _, j := range order[:m] {
			hits += int(lab[j])
		}
		sum += float64(hits) / float64(m)
		samples++
	}
	if samples == 0 {
		return math.NaN(), nil
	}
	return sum / float64(samples), nil
}

// ExactSetAccuracy is the fraction of samples whose predicted set
// {c : score ≥ threshold} is exactly their label set (scikit-learn's
// accuracy_score on multi-label input, "subset accuracy"); NaN for n = 0.
func ExactSetAccuracy(scores, labels []float64, n, c int, threshold float64) (float64, error) {
	if err := check(scores, labels, n, c); err != nil {
		return 0, err
	}
	if n == 0 {
		return math.NaN(), nil
	}
	exact := 0
	for i := range n {
		same := true
		for j := i * c; j < (i+1)*c && same; j++ {
			same = (scores[j] >= threshold) == (labels[j] == 1)
		}
		if same {
			exact++
		}
	}
	return float64(exact) / float64(n), nil
}

// CountMetrics are the measures of the samples that hold exactly M labels.
type CountMetrics struct {
	M            int     `json:"m"`
	Samples      int     `json:"samples"`
	MAP          float64 `json:"map"`            // MeanAveragePrecision of those samples
	PrecisionAtM float64 `json:"precision_at_m"` // PrecisionAtM of those samples
	ExactSet     float64 `json:"exact_set_accuracy"`
	MicroF1      float64 `json:"micro_f1"`
}

// MarshalJSON writes the NaN measures of a count with no sample as null
// (JSON has no NaN).
func (g CountMetrics) MarshalJSON() ([]byte, error) {
	finite := func(v float64) *float64 {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil
		}
		return &v
	}
	return json.Marshal(struct {
		M            int      `json:"m"`
		Samples      int      `json:"samples"`
		MAP          *float64 `json:"map"`
		PrecisionAtM *float64 `json:"precision_at_m"`
		ExactSet     *float64 `json:"exact_set_accuracy"`
		MicroF1      *float64 `json:"micro_f1"`
	}{g.M, g.Samples, finite(g.MAP), finite(g.PrecisionAtM), finite(g.ExactSet), finite(g.MicroF1)})
}

// ByLabelCount measures the samples of each label count M from 1 to maxM
// apart (ExactSetAccuracy and MicroF1 at threshold), to show whether a
// model does as well on images of four labels as on images of one. A
// count with no sample has Samples 0 and NaN measures; samples with no
// label or more than maxM are in no group. maxM must be at least 1.
func ByLabelCount(scores, labels []float64, n, c int, threshold float64, maxM int) ([]CountMetrics, error) {
	if err := check(scores, labels, n, c); err != nil {
		return nil, err
	}
	if maxM < 1 {
		return nil, fmt.Errorf("%w: label counts up to %d", ErrShape, maxM)
	}
	var groupScores, groupLabels = make([][]float64, maxM+1), make([][]float64, maxM+1)
	for i := range n {
		m := 0
		for _, l := range labels[i*c : (i+1)*c] {
			m += int(l)
		}
		if m >= 1 && m <= maxM {
			groupScores[m] = append(groupScores[m], scores[i*c:(i+1)*c]...)
			groupLabels[m] = append(groupLabels[m], labels[i*c:(i+1)*c]...)
		}
	}
	out := make([]CountMetrics, maxM)
	for m := 1; m <= maxM; m++ {
		s, l, k := groupScores[m], groupLabels[m], len(groupScores[m])/c
		g := CountMetrics{M: m, Samples: k, MAP: math.NaN(), PrecisionAtM: math.NaN(), ExactSet: math.NaN(), MicroF1: math.NaN()}
		if k > 0 {
			// The slices were checked above; these cannot fail.
			g.MAP, _ = MeanAveragePrecision(s, l, k, c)
			g.PrecisionAtM, _ = PrecisionAtM(s, l, k, c)
			g.ExactSet, _ = ExactSetAccuracy(s, l, k, c, threshold)
			g.MicroF1, _ = MicroF1(s, l, k, c, threshold)
		}
		out[m-1] = g
	}
	return out, nil
}
