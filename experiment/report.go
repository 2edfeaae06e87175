package experiment

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"maps"
	"strings"

	"github.com/xent-go/xent/figures"
	"github.com/xent-go/xent/internal/outfile"
	"github.com/xent-go/xent/multilabel"
)

// Table is the results as a markdown table.
func Table(results []Result) string {
	var b strings.Builder
	b.WriteString("| loss | mAP | micro-F1 (threshold from validation) | precision@M | exact-set accuracy | training time |\n")
	b.WriteString("|---|---|---|---|---|---|\n")
	for _, r := range results {
		fmt.Fprintf(&b, "| %s | %.4f | %.4f (%.3g) | %.4f | %.4f | %.0f s |\n",
			r.Loss, r.MAP, r.MicroF1, r.Threshold, r.PrecisionAtM, r.ExactSet, r.Seconds)
	}
	return b.String()
}

// ReportFiles lists what WriteReport puts in the directory.
var ReportFiles = []string{"results.json", "train-loss.png", "train-loss.svg", "validation-map.png", "validation-map.svg",
	"precision-recall.png", "precision-recall.svg", "report.html"}

// WriteReport writes ReportFiles into dir, which must exist: all of them
// or, on any failure, none.
func WriteReport(dir string, cfg Config, results []Result) error {
	b, err := json.MarshalIndent(struct {
		Config  Config   `json:"config"`
		Results []Result `json:"results"`
	}{cfg, results}, "", "  ")
	if err != nil {
		return err
	}
	files := map[string][]byte{"results.json": append(b, '\n')}
	curves := figures.Figure{Name: "validation-map", Title: "validation mAP after each epoch",
		XLabel: "epoch", YLabel: "mean average precision", LegendBottom: true}
	losses := figures.Figure{Name: "train-loss", Title: "mean training loss per epoch (each loss on its own scale)",
		XLabel: "epoch", YLabel: "training loss"}
	pr := figures.Figure{Name: "precision-recall", Title: "micro-averaged precision–recall, test split",
		XLabel: "recall", YLabel: "precision", YMax: 1, LegendLeft: true, LegendBottom: true}
	for _, r := range results {
		s := figures.Series{Name: string(r.Loss)}
		for _, e := range r.Epochs {
			s.X, s.Y = append(s.X, float64(e.Epoch)), append(s.Y, e.ValidationMAP)
		}
		curves.Series = append(curves.Series, s)
		l := figures.Series{Name: string(r.Loss)}
		for _, e := range r.Epochs {
			l.X, l.Y = append(l.X, float64(e.Epoch)), append(l.Y, e.TrainLoss)
		}
		losses.Series = append(losses.Series, l)
		p := figures.Series{Name: string(r.Loss)}
		for _, pt := range thin(r.PR, 0.002) {
			p.X, p.Y = append(p.X, pt.Recall), append(p.Y, pt.Precision)
		}
		pr.Series = append(pr.Series, p)
	}
	plots, err := figures.Render([]figures.Figure{losses, curves, pr})
	if err != nil {
		return err
	}
	maps.Copy(files, plots)
	var page bytes.Buffer
	if err := reportTemplate.Execute(&page, struct {
		Config  Config
		Results []Result
	}{cfg, results}); err != nil {
		return err
	}
	files["report.html"] = page.Bytes()
	var set outfile.Set
	if err := set.AddFiles(dir, ReportFiles, files); err != nil {
		return err
	}
	return set.Commit(nil)
}

// thin keeps the points of a curve where recall moved by at least step
// since the last kept one, and the last point: enough to draw it.
func thin(points []multilabel.PRPoint, step float64) []multilabel.PRPoint {
	var kept []multilabel.PRPoint
	for i, p := range points {
		if i == 0 || i == len(points)-1 || p.Recall-kept[len(kept)-1].Recall >= step {
			kept = append(kept, p)
		}
	}
	return kept
}

var reportTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"f4": func(v float64) string { return fmt.Sprintf("%.4f", v) },
	"g3": func(v float64) string { return fmt.Sprintf("%.3g", v) },
	"s0": func(v float64) string { return fmt.Sprintf("%.0f s", v) },
}).Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>xent experiment multilabel</title>
` + figures.PageStyle + `</head><body>
<h1>Multi-label MNIST: softmax with 1/M against sigmoid</h1>
<p>56×56 images of 1–4 MNIST digits in a 2×2 grid; {{.Config.Train}} training,
{{.Config.Validation}} validation and {{.Config.Test}} test images; the same network, initial
weights and batch order for each loss; Adam, learning rate {{.Config.LR}}, batch {{.Config.Batch}},
{{.Config.Epochs}} epochs, seed {{.Config.Seed}}, {{.Config.Workers}} workers.</p>
<table><tr><th>loss</th><th>mAP</th><th>micro-F1</th><th>threshold (validation)</th><th>precision@M</th><th>exact-set accuracy</th><th>training time</th></tr>
{{range .Results}}<tr><td>{{.Loss}}</td><td>{{f4 .MAP}}</td><td>{{f4 .MicroF1}}</td><td>{{g3 .Threshold}}</td><td>{{f4 .PrecisionAtM}}</td><td>{{f4 .ExactSet}}</td><td>{{s0 .Seconds}}</td></tr>
{{end}}</table>
<p><img src="train-loss.svg" alt="training loss per epoch"><img src="validation-map.svg" alt="validation mAP per epoch"></p>
<p><img src="precision-recall.svg" alt="precision-recall curves"></p>
<p>The numbers are in <a href="results.json">results.json</a>.</p>
</body></html>
`))
