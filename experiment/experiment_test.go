package experiment

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/xent-go/xent"
	"github.com/xent-go/xent/data"
	"github.com/xent-go/xent/multilabel"
)

// digits is a source set of 12×12 images (so that the multi-digit images
// are 24×24 and the tests train fast, on the plain Go path too) whose
// class k is a bright row k+1 under noise: learnable, so the measures
// leave chance.
func digits(n int, seed uint64) *data.Set {
	const side = 12
	rng := rand.New(rand.NewPCG(seed, 3))
	s := &data.Set{N: n, Height: side, Width: side, Classes: 10, Images: make([]float32, n*side*side), Labels: make([]uint8, n)}
	for i := range n {
		k := i % 10
		s.Labels[i] = uint8(k)
		img := s.Image(i)
		for p := range img {
			v := 0.2 * rng.Float32()
			if p/side == k+1 {
				v += 0.8
			}
			img[p] = v
		}
	}
	return s
}

func tiny() Config {
	return Config{Train: 400, Validation: 100, Test: 100, Epochs: 2, Batch: 16, LR: 2e-3, Seed: 3, Seeds: 2, Workers: 2}
}

func TestRun(t *testing.T) {
	train, test := digits(500, 1), digits(100, 2)
	var reports []Progress
	results, err := Run(tiny(), train, test, func(p Progress) { reports = append(reports, p) })
	if err != nil {
		t.Fatal(err)
	}
	if len(results.Trials) != len(Methods) {
		t.Fatalf("%d methods' trials", len(results.Trials))
	}
	for i, trials := range results.Trials {
		if len(trials) != 2 {
			t.Fatalf("%s: %d trials, want one per seed", Methods[i].Name, len(trials))
		}
		for k, r := range trials {
			if r.Method != Methods[i].Name || r.Seed != 3+uint64(k) || len(r.Epochs) != 2 || len(r.PR) == 0 || len(r.ClassAP) != 10 || len(r.ByM) != MaxLabels {
				t.Errorf("trial %d/%d: %s seed %d, %d epochs, %d PR points, %d APs, %d label counts", i, k, r.Method, r.Seed, len(r.Epochs), len(r.PR), len(r.ClassAP), len(r.ByM))
			}
			for name, v := range map[string]float64{"mAP": r.MAP, "micro-F1": r.MicroF1, "P@M": r.PrecisionAtM, "exact": r.ExactSet} {
				if !(v >= 0 && v <= 1) {
					t.Errorf("%s %s = %v", r.Method, name, v)
				}
			}
			if r.MAP < 0.6 {
				t.Errorf("%s: mAP %v on an easy set", r.Method, r.MAP)
			}
			if math.IsInf(r.Threshold, 0) || r.Threshold <= 0 || r.Threshold >= 1 {
				t.Errorf("%s: threshold %v", r.Method, r.Threshold)
			}
		}
		// The two seeds are two experiments, not one repeated.
		if trials[0].MAP == trials[1].MAP && trials[0].Epochs[0].TrainLoss == trials[1].Epochs[0].TrainLoss {
			t.Errorf("%s: seeds 3 and 4 gave the same trial", Methods[i].Name)
		}
	}
	// Every method saw the same images from one seed: the first epoch's
	// losses differ, but sigmoid and class-balanced sigmoid (on balanced
	// classes, weights near 1) start alike.
	if total := 2 * len(Methods) * 2; len(reports) != total {
		t.Errorf("%d progress reports, want %d", len(reports), total)
	} else if last := reports[total-1]; last.Left != 0 || last.SeedIndex != 2 || last.MethodIndex != len(Methods) || last.Epoch != 2 {
		t.Errorf("last report %+v", last)
	} else if first := reports[0]; first.Left <= 0 || !strings.Contains(first.String(), "seed 3 (1/2), multilabel-softmax (1/5), epoch 1/2") {
		t.Errorf("first report %q, left %v", first, first.Left)
	}
	var sum float64
	for _, s := range results.ClassShare {
		sum += s
	}
	if !(sum > 1 && sum < 4) { // an image holds 1 to 4 classes
		t.Errorf("training class shares sum to %v", sum)
	}

	again, err := Run(tiny(), train, test, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range results.Trials {
		for k := range results.Trials[i] {
			results.Trials[i][k].Seconds, again.Trials[i][k].Seconds = 0, 0
		}
	}
	if a, b := fmt.Sprintf("%#v", results), fmt.Sprintf("%#v", again); a != b { // every field, every bit of each float
		t.Errorf("the same config gave other results:\n%s\n%s", a, b)
	}

	dir := t.TempDir()
	if err := WriteReport(dir, results); err != nil {
		t.Fatal(err)
	}
	for _, f := range ReportFiles(results) {
		if fi, err := os.Stat(filepath.Join(dir, f)); err != nil || fi.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
	page, err := os.ReadFile(filepath.Join(dir, "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range ReportFiles(results) {
		if strings.HasSuffix(f, ".svg") && !strings.Contains(string(page), `src="`+f+`"`) {
			t.Errorf("report.html shows no %s", f)
		}
	}
	table, err := Table(results)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range Methods {
		if !strings.Contains(table, "| "+m.Name+" |") {
			t.Errorf("the table has no row for %s:\n%s", m.Name, table)
		}
	}
}

// TestRunLongTail runs one seed on long-tail images: the training
// split's class shares fall from digit 0 to digit 9, and the tables gain
// the head's and the tail's average precision.
func TestRunLongTail(t *testing.T) {
	cfg := tiny()
	cfg.Train, cfg.Seeds, cfg.Epochs, cfg.LongTail = 1500, 1, 1, true
	results, err := Run(cfg, digits(2000, 1), digits(100, 2), nil)
	if err != nil {
		t.Fatal(err)
	}
	s := results.ClassShare
	if !(s[0] > 20*s[9]) {
		t.Errorf("training shares %v: digit 0 is not far more frequent than digit 9", s)
	}
	head, tail := results.HeadTailClasses()
	if fmt.Sprint(head, tail) != "[0 1 2] [7 8 9]" {
		t.Errorf("head %v, tail %v", head, tail)
	}
	table, err := Table(results)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(table, "AP of digits 0–2") || !strings.Contains(table, "AP of digits 7–9") {
		t.Errorf("no head and tail columns:\n%s", table)
	}
	if !slices.Contains(ReportFiles(results), "ap-frequency.svg") {
		t.Errorf("no AP-against-frequency figure in %v", ReportFiles(results))
	}
	dir := t.TempDir()
	if err := WriteReport(dir, results); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	var back struct {
		Summary []struct {
			Differences []struct{ Low *float64 } `json:"differences_from_baseline"`
		} `json:"summary"`
	}
	if err := json.Unmarshal(b, &back); err != nil || len(back.Summary) != len(Methods) || back.Summary[0].Differences[0].Low != nil {
		t.Errorf("results.json: %v; one seed's interval should be null: %+v", err, back.Summary)
	}
}

func TestProbabilities(t *testing.T) {
	logits := []float32{2, -1, 0.5, 30}
	soft, sig := make([]float64, 4), make([]float64, 4)
	Probabilities(xent.MultiLabelSoftmax, logits, soft)
	Probabilities(xent.Sigmoid, logits, sig)
	sum, m := 0.0, 30.0
	z := 0.0
	for _, v := range logits {
		z += math.Exp(float64(v) - m)
	}
	for j, v := range logits {
		want := math.Exp(float64(v)-m) / z
		if math.Abs(soft[j]-want) > 1e-15 {
			t.Errorf("softmax[%d] = %v, want %v", j, soft[j], want)
		}
		if w := 1 / (1 + math.Exp(-float64(v))); math.Abs(sig[j]-w) > 1e-15 {
			t.Errorf("sigmoid[%d] = %v, want %v", j, sig[j], w)
		}
		sum += soft[j]
	}
	if math.Abs(sum-1) > 1e-15 {
		t.Errorf("softmax sums to %v", sum)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, change := range []func(*Config){
		func(c *Config) { c.Train = 0 },
		func(c *Config) { c.Epochs = 0 },
		func(c *Config) { c.LR = math.Inf(1) },
		func(c *Config) { c.Workers = 0 },
		func(c *Config) { c.Seeds = 0 },
		func(c *Config) { c.Seeds = MaxSeeds + 1 },
		func(c *Config) { c.Seed = math.MaxUint64 },
	} {
		c := tiny()
		change(&c)
		if _, err := Run(c, digits(10, 1), digits(10, 2), nil); err == nil || !strings.Contains(err.Error(), "experiment: ") {
			t.Errorf("%+v: no error", c)
		}
	}
}

// handResults are three seeds of made-up trials: multilabel-softmax's
// mAP is sigmoid's + 0.02, 0.021, 0.019 (interval 0.02 ± 0.0025,
// significant), sigmoid-focal's + 0.02, 0.01, 0.03 (0.02 ± 0.0248, not);
// every other measure is sigmoid's. Precision@M of multilabel-softmax
// falls by 0.05 from M = 1 to M = 4 in every seed.
func handResults() *Results {
	r := &Results{Config: Config{Seeds: 3, Seed: 1, Epochs: 1}, Methods: Methods, DigitFrequency: make([]float64, 10), ClassShare: make([]float64, 10)}
	base := []float64{0.90, 0.91, 0.92}
	plus := map[string][]float64{"multilabel-softmax": {0.02, 0.021, 0.019}, "sigmoid-focal": {0.02, 0.01, 0.03}}
	for _, m := range Methods {
		var trials []Trial
		for k := range 3 {
			v := base[k]
			if p, ok := plus[m.Name]; ok {
				v += p[k]
			}
			byM := make([]multilabel.CountMetrics, MaxLabels)
			for j := range byM {
				byM[j] = multilabel.CountMetrics{M: j + 1, PrecisionAtM: 0.9}
				if m.Name == "multilabel-softmax" {
					byM[j].PrecisionAtM = 0.95 - 0.05*float64(j)/3
				}
			}
			trials = append(trials, Trial{Method: m.Name, Seed: uint64(k + 1), MAP: v, MicroF1: 0.8, PrecisionAtM: 0.9, ExactSet: 0.7,
				ClassAP: make([]float64, 10), ByM: byM, Epochs: []Epoch{{Epoch: 1}}})
		}
		r.Trials = append(r.Trials, trials)
	}
	return r
}

func TestAnalysis(t *testing.T) {
	r := handResults()
	rows, err := r.Analyze()
	if err != nil {
		t.Fatal(err)
	}
	soft, focal := rows[0].Differences[0], rows[2].Differences[0]
	if !soft.Significant() || math.Abs(soft.Mean-0.02) > 1e-12 || focal.Significant() || math.Abs(focal.High-focal.Mean-0.0248414) > 1e-6 {
		t.Errorf("mAP differences: softmax %+v, focal %+v", soft, focal)
	}
	if d := rows[1].Differences[0]; d.Mean != 0 || d.Significant() {
		t.Errorf("sigmoid against itself: %+v", d)
	}
	table, err := Table(r)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(table, "| multilabel-softmax | **+0.0200 [+0.0175, +0.0225]** |") {
		t.Errorf("the difference table does not mark multilabel-softmax's mAP:\n%s", table)
	}
	if !strings.Contains(table, "| sigmoid-focal | +0.0200 [−0.0048, +0.0448] |") {
		t.Errorf("the difference table marks or misprints sigmoid-focal's mAP:\n%s", table)
	}
	if !strings.Contains(table, "| multilabel-softmax | 0.9500 | 0.9333 | 0.9167 | 0.9000 | −0.0500 [−0.0500, −0.0500] |") {
		t.Errorf("precision@M by M:\n%s", table)
	}
	text := strings.Join(Conclusion(r, rows), "\n")
	for _, want := range []string{
		"multilabel-softmax has the highest mean mAP, 0.9300 ± 0.0095 (sigmoid: 0.9100 ± 0.0100)",
		"mAP: significantly above sigmoid: multilabel-softmax (+0.0200); the rest within",
		"micro-F1: no method differs from sigmoid beyond its 95% interval.",
		"changes by −0.0500 for multilabel-softmax and +0.0000 for sigmoid",
		"it is worse by −0.0500 [−0.0500, −0.0500], beyond the 95% interval: on this data the claim does not hold.",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the conclusion lacks %q:\n%s", want, text)
		}
	}
}
