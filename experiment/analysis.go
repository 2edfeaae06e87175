package experiment

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/xent-go/xent/multilabel"
)

// Metric is one measure of a trial, as the tables name it.
type Metric struct {
	Key  string // in file names
	Name string
	Of   func(*Trial) float64
}

// Metrics are the measures the tables report, in their order: for a
// long-tail run also the mean average precision of the HeadTail most
// frequent and the HeadTail least frequent classes.
func (r *Results) Metrics() []Metric {
	ms := []Metric{
		{"map", "mAP", func(t *Trial) float64 { return t.MAP }},
		{"micro-f1", "micro-F1", func(t *Trial) float64 { return t.MicroF1 }},
		{"precision-at-m", "precision@M", func(t *Trial) float64 { return t.PrecisionAtM }},
		{"exact-set", "exact-set accuracy", func(t *Trial) float64 { return t.ExactSet }},
	}
	if r.Config.LongTail {
		head, tail := r.HeadTailClasses()
		ms = append(ms,
			Metric{"head-ap", "AP of " + digitRange(head), func(t *Trial) float64 { return meanOf(t.ClassAP, head) }},
			Metric{"tail-ap", "AP of " + digitRange(tail), func(t *Trial) float64 { return meanOf(t.ClassAP, tail) }})
	}
	return ms
}

// HeadTailClasses are the HeadTail classes of the highest and of the
// lowest DigitFrequency (the lower class first on a tie), each in
// increasing order.
func (r *Results) HeadTailClasses() (head, tail []int) {
	order := make([]int, len(r.DigitFrequency))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		switch fa, fb := r.DigitFrequency[a], r.DigitFrequency[b]; {
		case fa > fb:
			return -1
		case fa < fb:
			return 1
		}
		return 0
	})
	k := min(HeadTail, len(order)/2)
	head, tail = slices.Clone(order[:k]), slices.Clone(order[len(order)-k:])
	slices.Sort(head)
	slices.Sort(tail)
	return head, tail
}

func digitRange(classes []int) string {
	if len(classes) > 1 && classes[len(classes)-1]-classes[0] == len(classes)-1 {
		return fmt.Sprintf("digits %d–%d", classes[0], classes[len(classes)-1])
	}
	s := make([]string, len(classes))
	for i, c := range classes {
		s[i] = fmt.Sprint(c)
	}
	return "digits " + strings.Join(s, ", ")
}

func meanOf(v []float64, idx []int) float64 {
	sum := 0.0
	for _, i := range idx {
		sum += v[i]
	}
	return sum / float64(len(idx))
}

// Row is one method's outcome over the seeds.
type Row struct {
	Method string `json:"method"`
	// Values[j] summarises Metrics()[j] over the seeds.
	Values []Summary `json:"values"`
	// Differences[j] is the paired difference of Metrics()[j] from
	// Baseline's (all zero for Baseline itself).
	Differences []Difference `json:"differences_from_baseline"`
	Seconds     Summary      `json:"training_seconds"`
}

// Analyze summarises each method's trials and compares them with
// Baseline's.
func (r *Results) Analyze() ([]Row, error) {
	base := r.methodIndex(Baseline)
	if base < 0 {
		return nil, fmt.Errorf("experiment: the results have no %s trials to compare with", Baseline)
	}
	metrics := r.Metrics()
	var rows []Row
	for i, m := range r.Methods {
		row := Row{Method: m.Name}
		for _, metric := range metrics {
			v, b := r.values(i, metric.Of), r.values(base, metric.Of)
			row.Values = append(row.Values, Summarize(v))
			d, err := PairedDifference(v, b)
			if err != nil {
				return nil, fmt.Errorf("%s, %s: %w", m.Name, metric.Name, err)
			}
			row.Differences = append(row.Differences, d)
		}
		row.Seconds = Summarize(r.values(i, func(t *Trial) float64 { return t.Seconds }))
		rows = append(rows, row)
	}
	return rows, nil
}

func (r *Results) methodIndex(name string) int {
	for i, m := range r.Methods {
		if m.Name == name {
			return i
		}
	}
	return -1
}

// values is of(trial) for each seed of method i.
func (r *Results) values(i int, of func(*Trial) float64) []float64 {
	v := make([]float64, len(r.Trials[i]))
	for k := range r.Trials[i] {
		v[k] = of(&r.Trials[i][k])
	}
	return v
}

// ByM summarises, for method i and each label count M = 1…MaxLabels, a
// measure of the test images with M labels over the seeds.
func (r *Results) ByM(i int, of func(multilabel.CountMetrics) float64) []Summary {
	out := make([]Summary, MaxLabels)
	for m := range MaxLabels {
		out[m] = Summarize(r.values(i, func(t *Trial) float64 { return of(t.ByM[m]) }))
	}
	return out
}

// ChangeWithM is method i's precision@M on the test images of MaxLabels
// labels minus that on images of one label, paired over the seeds.
func (r *Results) ChangeWithM(i int) Difference {
	v := r.values(i, changeWithM)
	d, _ := PairedDifference(v, make([]float64, len(v))) // cannot fail: as many of each, at least one
	return d
}

// changeWithM is one trial's precision@M on images of MaxLabels labels
// minus that on images of one.
func changeWithM(t *Trial) float64 { return t.ByM[MaxLabels-1].PrecisionAtM - t.ByM[0].PrecisionAtM }

// ClassAP summarises method i's average precision of each class over the seeds.
func (r *Results) ClassAP(i int) []Summary {
	out := make([]Summary, len(r.DigitFrequency))
	for c := range out {
		out[c] = Summarize(r.values(i, func(t *Trial) float64 { return t.ClassAP[c] }))
	}
	return out
}

// Conclusion states in sentences what the numbers say: the best method by
// mAP, which differences from Baseline are significant, whether the 1/M
// factor keeps precision@M as M grows, and (long tail) how the tail fares.
func Conclusion(r *Results, rows []Row) []string {
	metrics := r.Metrics()
	k := r.Config.Seeds
	data := "balanced training images"
	if r.Config.LongTail {
		data = fmt.Sprintf("long-tail training images (digit 0 %d× as frequent as digit 9)", LongTailRatio)
	}
	var out []string
	best, base := 0, r.methodIndex(Baseline)
	for i, row := range rows {
		if row.Values[0].Mean > rows[best].Values[0].Mean {
			best = i
		}
	}
	s := fmt.Sprintf("Over %d seed%s on %s, %s has the highest mean mAP, %s", k, plural(k), data, rows[best].Method, pm(rows[best].Values[0]))
	if best != base {
		s += fmt.Sprintf(" (%s: %s)", Baseline, pm(rows[base].Values[0]))
	}
	out = append(out, s+".")
	if k == 1 {
		out = append(out, "With one seed there is no confidence interval: no difference below can be told from the noise of another seed.")
	}
	for j, metric := range metrics {
		var better, worse []string
		for _, row := range rows {
			if row.Method == Baseline || !row.Differences[j].Significant() {
				continue
			}
			d := fmt.Sprintf("%s (%s)", row.Method, signed(row.Differences[j].Mean))
			if row.Differences[j].Mean > 0 {
				better = append(better, d)
			} else {
				worse = append(worse, d)
			}
		}
		switch {
		case k == 1:
		case len(better) == 0 && len(worse) == 0:
			out = append(out, fmt.Sprintf("%s: no method differs from %s beyond its 95%% interval.", metric.Name, Baseline))
		default:
			s := metric.Name + ": "
			if len(better) > 0 {
				s += "significantly above " + Baseline + ": " + strings.Join(better, ", ")
			}
			if len(worse) > 0 {
				if len(better) > 0 {
					s += "; "
				}
				s += "significantly below " + Baseline + ": " + strings.Join(worse, ", ")
			}
			out = append(out, s+"; the rest within their 95% intervals.")
		}
	}
	soft := r.methodIndex("multilabel-softmax")
	if soft >= 0 {
		ds, db := r.ChangeWithM(soft), r.ChangeWithM(base)
		s := fmt.Sprintf("From images of one label to images of %d, precision@M changes by %s for multilabel-softmax and %s for %s "+
			"(more digits are harder to tell apart for every loss). If the 1/M factor made softmax indifferent to the number of labels, "+
			"its change would be no worse than %s's", MaxLabels, signed(ds.Mean), signed(db.Mean), Baseline, Baseline)
		rel, err := PairedDifference(r.values(soft, changeWithM), r.values(base, changeWithM))
		switch {
		case err != nil || math.IsNaN(rel.Low):
			s += fmt.Sprintf(": the difference is %s, with no interval from one seed.", signed(ds.Mean-db.Mean))
		case rel.Significant() && rel.Mean < 0:
			s += fmt.Sprintf("; it is worse by %s, beyond the 95%% interval: on this data the claim does not hold.", differenceText(rel))
		case rel.Significant():
			s += fmt.Sprintf("; it is better by %s, beyond the 95%% interval.", differenceText(rel))
		default:
			s += fmt.Sprintf("; the difference, %s, is within the 95%% interval: this data does not refute the claim.", differenceText(rel))
		}
		out = append(out, s)
	}
	if r.Config.LongTail {
		head, tail := len(metrics)-2, len(metrics)-1
		out = append(out, fmt.Sprintf("%s: %s %s, against %s for the head (%s).", metrics[tail].Name, Baseline,
			pm(rows[base].Values[tail]), pm(rows[base].Values[head]), metrics[head].Name))
	}
	return out
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// pm is "mean ± sd" (just the mean for one seed).
func pm(s Summary) string {
	if s.SD == 0 && !math.IsNaN(s.Mean) {
		return fmt.Sprintf("%.4f", s.Mean)
	}
	return fmt.Sprintf("%.4f ± %.4f", s.Mean, s.SD)
}

// signed is v with its sign, "+0.0012" or "−0.0012".
func signed(v float64) string {
	if v < 0 {
		return fmt.Sprintf("−%.4f", -v)
	}
	return fmt.Sprintf("+%.4f", v)
}

// differenceText is "+0.0012 [−0.0003, +0.0027]", or the mean alone with
// no interval.
func differenceText(d Difference) string {
	if in := interval(d); in != "" {
		return signed(d.Mean) + " " + in
	}
	return signed(d.Mean)
}

// precisionAtM is the measure the 1/M question is asked of.
func precisionAtM(c multilabel.CountMetrics) float64 { return c.PrecisionAtM }

// interval is "[low, high]", or "" with no interval.
func interval(d Difference) string {
	if math.IsNaN(d.Low) {
		return ""
	}
	return fmt.Sprintf("[%s, %s]", signed(d.Low), signed(d.High))
}
