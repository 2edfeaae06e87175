package report

import (
	"bytes"
	"encoding/json"
	"image/png"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/xent-go/xent"
	"github.com/xent-go/xent/train"
)

func sample() train.Metrics {
	m := train.Metrics{Dataset: "mnist", Config: train.Defaults()}
	for e := 1; e <= 3; e++ {
		conf := [][]int{{50 + e, 2}, {3, 45 + e}}
		m.Epochs = append(m.Epochs, train.Epoch{Epoch: e, TrainLoss: 1 / float64(e), TrainAccuracy: 0.9 + 0.01*float64(e),
			TestLoss: 1.1 / float64(e), TestAccuracy: 0.88 + 0.02*float64(e), Confusion: conf})
	}
	return m
}

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	m := sample()
	if err := Write(dir, m); err != nil {
		t.Fatal(err)
	}
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	var back train.Metrics
	if err := json.Unmarshal(read("metrics.json"), &back); err != nil || !reflect.DeepEqual(back, m) {
		t.Fatalf("metrics.json does not read back: %v\n%+v", err, back)
	}
	for _, name := range Files {
		b := read(name)
		switch filepath.Ext(name) {
		case ".png":
			img, err := png.Decode(bytes.NewReader(b))
			if err != nil || img.Bounds().Dx() < 100 {
				t.Errorf("%s: %v", name, err)
			}
		case ".svg":
			if !bytes.Contains(b, []byte("<svg")) {
				t.Errorf("%s is not SVG", name)
			}
		}
	}
	html := string(read("report.html"))
	for _, want := range []string{"94.00%", "<td>53</td>", "loss.svg", "accuracy.svg", "confusion.svg", string(xent.Softmax)} {
		if !strings.Contains(html, want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
	again, err := MetricsJSON(m)
	if err != nil || !bytes.Equal(again, read("metrics.json")) {
		t.Error("MetricsJSON differs from the file Write wrote")
	}
}

func TestWriteNoEpochs(t *testing.T) {
	dir := t.TempDir()
	m := sample()
	m.Epochs = []train.Epoch{}
	if err := Write(dir, m); err != nil {
		t.Fatal(err)
	}
	html, err := os.ReadFile(filepath.Join(dir, "report.html"))
	if err != nil || !strings.Contains(string(html), "No epoch has finished yet") {
		t.Fatalf("report.html: %v %q", err, html)
	}
	if _, err := os.Stat(filepath.Join(dir, "loss.png")); err == nil {
		t.Error("a plot was drawn with no epochs")
	}
}
