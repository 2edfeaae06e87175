package experiment

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xent-go/xent"
	"github.com/xent-go/xent/data"
)

// digits is a source set of 28×28 images whose class k is a bright band at
// rows 2k…2k+2, under noise: learnable, so the measures leave chance.
func digits(n int, seed uint64) *data.Set {
	rng := rand.New(rand.NewPCG(seed, 3))
	s := &data.Set{N: n, Height: 28, Width: 28, Classes: 10, Images: make([]float32, n*784), Labels: make([]uint8, n)}
	for i := range n {
		k := i % 10
		s.Labels[i] = uint8(k)
		img := s.Image(i)
		for p := range img {
			v := 0.2 * rng.Float32()
			if r := p / 28; r >= 2*k+2 && r < 2*k+5 {
				v += 0.8
			}
			img[p] = v
		}
	}
	return s
}

func tiny() Config {
	return Config{Train: 400, Validation: 100, Test: 100, Epochs: 2, Batch: 16, LR: 2e-3, Seed: 3, Workers: 2}
}

func TestRun(t *testing.T) {
	train, test := digits(500, 1), digits(100, 2)
	results, err := Run(tiny(), train, test, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != len(Losses) {
		t.Fatalf("%d results", len(results))
	}
	for i, r := range results {
		if r.Loss != Losses[i] || len(r.Epochs) != 2 || len(r.PR) == 0 {
			t.Errorf("result %d: %s, %d epochs, %d PR points", i, r.Loss, len(r.Epochs), len(r.PR))
		}
		for name, v := range map[string]float64{"mAP": r.MAP, "micro-F1": r.MicroF1, "P@M": r.PrecisionAtM, "exact": r.ExactSet} {
			if !(v >= 0 && v <= 1) {
				t.Errorf("%s %s = %v", r.Loss, name, v)
			}
		}
		if r.MAP < 0.6 {
			t.Errorf("%s: mAP %v on an easy set", r.Loss, r.MAP)
		}
		if math.IsInf(r.Threshold, 0) || r.Threshold <= 0 || r.Threshold >= 1 {
			t.Errorf("%s: threshold %v", r.Loss, r.Threshold)
		}
	}
	again, err := Run(tiny(), train, test, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range results {
		results[i].Seconds, again[i].Seconds = 0, 0
	}
	if a, b := fmt.Sprintf("%#v", results), fmt.Sprintf("%#v", again); a != b { // every field, every bit of each float
		t.Errorf("the same config gave other results:\n%s\n%s", a, b)
	}

	dir := t.TempDir()
	if err := WriteReport(dir, tiny(), results); err != nil {
		t.Fatal(err)
	}
	for _, f := range ReportFiles {
		if fi, err := os.Stat(filepath.Join(dir, f)); err != nil || fi.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
	table := Table(results)
	for _, l := range Losses {
		if !strings.Contains(table, "| "+string(l)+" |") {
			t.Errorf("the table has no row for %s:\n%s", l, table)
		}
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
	} {
		c := tiny()
		change(&c)
		if _, err := Run(c, digits(10, 1), digits(10, 2), nil); err == nil {
			t.Errorf("%+v: no error", c)
		}
	}
}
