// Package report writes what a training run measured into a directory:
// metrics.json, the loss and accuracy curves and the last epoch's
// confusion matrix as PNG and SVG (drawn with gonum.org/v1/plot), and
// report.html, one page that shows them with the numbers.
package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/xent-go/xent/figures"
	"github.com/xent-go/xent/internal/outfile"
	"github.com/xent-go/xent/train"
)

// Files lists what Write puts in the directory.
var Files = []string{"metrics.json", "loss.png", "loss.svg", "accuracy.png", "accuracy.svg",
	"confusion.png", "confusion.svg", "report.html"}

// MetricsJSON is metrics.json's content: indented JSON ending in a newline,
// the same bytes for the same metrics.
func MetricsJSON(m train.Metrics) ([]byte, error) {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// Write writes Files into dir, which must exist, all or (on any failure)
// none. With no epochs yet it writes metrics.json and a report that says
// so.
func Write(dir string, m train.Metrics) error {
	b, err := MetricsJSON(m)
	if err != nil {
		return err
	}
	files := map[string][]byte{"metrics.json": b}
	names := []string{"metrics.json"}
	if len(m.Epochs) > 0 {
		for _, f := range []struct {
			name string
			plot func(train.Metrics) (*plot.Plot, error)
		}{{"loss", lossPlot}, {"accuracy", accuracyPlot}, {"confusion", confusionPlot}} {
			p, err := f.plot(m)
			if err != nil {
				return err
			}
			for _, ext := range []string{".png", ".svg"} {
				if files[f.name+ext], err = figures.Encode(p, 5*vg.Inch, 3.75*vg.Inch, ext[1:]); err != nil {
					return err
				}
				names = append(names, f.name+ext)
			}
		}
	}
	var page bytes.Buffer
	if err := pageTemplate.Execute(&page, m); err != nil {
		return err
	}
	files["report.html"] = page.Bytes()
	names = append(names, "report.html")
	var set outfile.Set
	if err := set.AddFiles(dir, names, files); err != nil {
		return err
	}
	return set.Commit(nil)
}

// curves plots one value per epoch for the training and the test set.
func curves(m train.Metrics, title, yLabel string, legendTop bool, trainValue, testValue func(train.Epoch) float64) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "epoch"
	p.Y.Label.Text = yLabel
	p.Add(plotter.NewGrid())
	for i, s := range []struct {
		name  string
		value func(train.Epoch) float64
	}{{"train", trainValue}, {"test", testValue}} {
		xys := make(plotter.XYs, len(m.Epochs))
		for k, e := range m.Epochs {
			xys[k] = plotter.XY{X: float64(e.Epoch), Y: s.value(e)}
		}
		line, points, err := plotter.NewLinePoints(xys)
		if err != nil {
			return nil, err
		}
		line.Color = plotColors[i]
		points.Color = plotColors[i]
		p.Add(line, points)
		p.Legend.Add(s.name, line, points)
	}
	p.Legend.Top = legendTop // away from the curves: loss falls, accuracy rises
	p.X.Tick.Marker = epochTicks{}
	p.Y.Tick.Marker = figures.RoundTicks{}
	if len(m.Epochs) == 1 { // one point per curve: centred, not at the frame's edge
		p.X.Min, p.X.Max = 0.5, 1.5
	}
	p.Y.Max += 0.08 * (p.Y.Max - p.Y.Min) // no point on the frame
	p.Add(figures.LegendBackground(p))
	return p, nil
}

var plotColors = palette.Rainbow(2, 0.6, 0.95, 0.8, 1, 0.9).Colors()

func lossPlot(m train.Metrics) (*plot.Plot, error) {
	p, err := curves(m, fmt.Sprintf("%s loss, %s", m.Config.Loss, m.Dataset), "mean loss", true,
		func(e train.Epoch) float64 { return e.TrainLoss }, func(e train.Epoch) float64 { return e.TestLoss })
	if err == nil && p.Y.Min > 0 {
		p.Y.Min = 0 // a loss axis starts at 0, where a perfect fit would be
	}
	return p, err
}

func accuracyPlot(m train.Metrics) (*plot.Plot, error) {
	return curves(m, fmt.Sprintf("accuracy, %s", m.Dataset), "accuracy (%)", false,
		func(e train.Epoch) float64 { return 100 * e.TrainAccuracy }, func(e train.Epoch) float64 { return 100 * e.TestAccuracy })
}

// epochTicks marks whole epochs only.
type epochTicks struct{}

func (epochTicks) Ticks(lo, hi float64) []plot.Tick {
	var t []plot.Tick
	step := math.Max(1, math.Ceil((hi-lo)/10))
	for e := math.Ceil(lo); e <= hi; e += step {
		t = append(t, plot.Tick{Value: e, Label: fmt.Sprint(e)})
	}
	return t
}

// confusionGrid is the last epoch's confusion matrix as a heat map:
// column c is the predicted class, row r the true class counted from the
// top, the colour log(1+count) so that the mistakes show beside the
// diagonal.
type confusionGrid [][]int

func (g confusionGrid) Dims() (c, r int)   { return len(g), len(g) }
func (g confusionGrid) Z(c, r int) float64 { return math.Log1p(float64(g[len(g)-1-r][c])) }
func (g confusionGrid) X(c int) float64    { return float64(c) }
func (g confusionGrid) Y(r int) float64    { return float64(r) }

func confusionPlot(m train.Metrics) (*plot.Plot, error) {
	last := m.Epochs[len(m.Epochs)-1]
	g := confusionGrid(last.Confusion)
	n := len(g)
	p := plot.New()
	p.Title.Text = fmt.Sprintf("confusion after epoch %d (test accuracy %.2f%%)", last.Epoch, 100*last.TestAccuracy)
	p.X.Label.Text = "predicted class"
	p.Y.Label.Text = "true class"
	p.Add(plotter.NewHeatMap(g, lightToDark{palette.Heat(32, 1)}))
	var labels plotter.XYLabels
	for r := range n {
		for c := range n {
			labels.XYs = append(labels.XYs, plotter.XY{X: float64(c), Y: float64(n - 1 - r)})
			labels.Labels = append(labels.Labels, fmt.Sprint(g[r][c]))
		}
	}
	l, err := plotter.NewLabels(labels)
	if err != nil {
		return nil, err
	}
	// The cell's count, as large as its cell allows (9 pt for 10 classes
	// on the 5-inch figure).
	size := vg.Points(math.Max(5, math.Min(11, 90/float64(n))))
	for i := range l.TextStyle {
		l.TextStyle[i].Font.Size = size
		l.TextStyle[i].XAlign, l.TextStyle[i].YAlign = -0.5, -0.5
	}
	p.Add(l)
	ticks := make([]plot.Tick, n)
	rows := make([]plot.Tick, n)
	for i := range n {
		ticks[i] = plot.Tick{Value: float64(i), Label: fmt.Sprint(i)}
		rows[i] = plot.Tick{Value: float64(n - 1 - i), Label: fmt.Sprint(i)}
	}
	p.X.Tick.Marker, p.Y.Tick.Marker = plot.ConstantTicks(ticks), plot.ConstantTicks(rows)
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = -0.5, float64(n)-0.5, -0.5, float64(n)-0.5
	return p, nil
}

// lightToDark reverses a palette, so that zero counts are white.
type lightToDark struct{ palette.Palette }

func (p lightToDark) Colors() []color.Color {
	c := p.Palette.Colors()
	r := make([]color.Color, len(c))
	for i := range c {
		r[i] = c[len(c)-1-i]
	}
	return r
}

var pageTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"pct": func(v float64) string { return fmt.Sprintf("%.2f%%", 100*v) },
	"f4":  func(v float64) string { return fmt.Sprintf("%.4f", v) },
	"last": func(es []train.Epoch) train.Epoch {
		return es[len(es)-1]
	},
}).Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>xent train: {{.Dataset}}, {{.Config.Loss}}</title>
` + figures.PageStyle + `</head><body>
<h1>xent train: {{.Dataset}}, {{.Config.Loss}} loss</h1>
<p>{{.Config.Optimizer}}, learning rate {{.Config.LR}}, batch {{.Config.Batch}}, seed {{.Config.Seed}},
{{.Config.Workers}} workers; {{len .Epochs}} of {{.Config.Epochs}} epochs run.</p>
{{if .Epochs}}
<p>Test accuracy after epoch {{(last .Epochs).Epoch}}: <b>{{pct (last .Epochs).TestAccuracy}}</b>.</p>
<table><tr><th>epoch</th><th>train loss</th><th>train accuracy</th><th>test loss</th><th>test accuracy</th></tr>
{{range .Epochs}}<tr><td>{{.Epoch}}</td><td>{{f4 .TrainLoss}}</td><td>{{pct .TrainAccuracy}}</td><td>{{f4 .TestLoss}}</td><td>{{pct .TestAccuracy}}</td></tr>
{{end}}</table>
<p><img src="loss.svg" alt="loss per epoch"><img src="accuracy.svg" alt="accuracy per epoch"></p>
<h2>Confusion matrix, epoch {{(last .Epochs).Epoch}}</h2>
<p>Row: the true class; column: the predicted one.</p>
<p><img src="confusion.svg" alt="confusion matrix"></p>
<table><tr><th></th>{{range $i, $_ := (last .Epochs).Confusion}}<th>{{$i}}</th>{{end}}</tr>
{{range $i, $row := (last .Epochs).Confusion}}<tr><th>{{$i}}</th>{{range $row}}<td>{{.}}</td>{{end}}</tr>
{{end}}</table>
{{else}}
<p>No epoch has finished yet.</p>
{{end}}
<p>The numbers are in <a href="metrics.json">metrics.json</a>.</p>
</body></html>
`))
