package experiment

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"maps"
	"math"
	"strings"

	"github.com/xent-go/xent/figures"
	"github.com/xent-go/xent/internal/outfile"
	"github.com/xent-go/xent/multilabel"
)

// Table is the results as markdown: each metric's mean ± standard
// deviation over the seeds; each method's paired difference from Baseline
// with its 95% interval, in bold where the interval excludes 0; and
// precision@M on the test images of each label count.
func Table(r *Results) (string, error) {
	rows, err := r.Analyze()
	if err != nil {
		return "", err
	}
	metrics := r.Metrics()
	var b strings.Builder
	header := func(first string) {
		b.WriteString("| " + first + " |")
		for _, m := range metrics {
			b.WriteString(" " + m.Name + " |")
		}
	}
	header("method")
	b.WriteString(" training time |\n|---|" + strings.Repeat("---|", len(metrics)+1) + "\n")
	for _, row := range rows {
		b.WriteString("| " + row.Method + " |")
		for _, v := range row.Values {
			b.WriteString(" " + pm(v) + " |")
		}
		fmt.Fprintf(&b, " %.0f s |\n", row.Seconds.Mean)
	}
	fmt.Fprintf(&b, "\nDifference from %s, paired over %d seed%s, with its 95%% interval (bold: the interval excludes 0):\n\n", Baseline, r.Config.Seeds, plural(r.Config.Seeds))
	header("method")
	b.WriteString("\n|---|" + strings.Repeat("---|", len(metrics)) + "\n")
	for _, row := range rows {
		if row.Method == Baseline {
			continue
		}
		b.WriteString("| " + row.Method + " |")
		for _, d := range row.Differences {
			cell := differenceText(d)
			if d.Significant() {
				cell = "**" + cell + "**"
			}
			b.WriteString(" " + cell + " |")
		}
		b.WriteString("\n")
	}
	b.WriteString("\nPrecision@M on the test images of M labels (mean over seeds):\n\n| method |")
	for m := 1; m <= MaxLabels; m++ {
		fmt.Fprintf(&b, " M = %d |", m)
	}
	fmt.Fprintf(&b, " M = %d − M = 1 |\n|---|%s\n", MaxLabels, strings.Repeat("---|", MaxLabels+1))
	for i, m := range r.Methods {
		b.WriteString("| " + m.Name + " |")
		for _, s := range r.ByM(i, precisionAtM) {
			fmt.Fprintf(&b, " %.4f |", s.Mean)
		}
		d := r.ChangeWithM(i)
		b.WriteString(" " + differenceText(d) + " |\n")
	}
	return b.String(), nil
}

// ReportFiles lists what WriteReport puts in the directory for r.
func ReportFiles(r *Results) []string { return reportFiles(reportFigures(r, nil)) }

func reportFiles(figs []figures.Figure) []string {
	return append(append([]string{"results.json"}, figures.Files(figs)...), "report.html")
}

// WriteReport writes ReportFiles(r) into dir, which must exist: all of
// them or, on any failure, none.
func WriteReport(dir string, r *Results) error {
	rows, err := r.Analyze()
	if err != nil {
		return err
	}
	b, err := json.MarshalIndent(struct {
		*Results
		Summary []Row `json:"summary"`
	}{r, rows}, "", "  ")
	if err != nil {
		return err
	}
	files := map[string][]byte{"results.json": append(b, '\n')}
	figs := reportFigures(r, rows)
	plots, err := figures.Render(figs)
	if err != nil {
		return err
	}
	maps.Copy(files, plots)
	var page bytes.Buffer
	if err := reportTemplate.Execute(&page, reportPage(r, rows, figs)); err != nil {
		return err
	}
	files["report.html"] = page.Bytes()
	var set outfile.Set
	if err := set.AddFiles(dir, reportFiles(figs), files); err != nil {
		return err
	}
	return set.Commit(nil)
}

// reportFigures are the report's figures; with rows nil, only their names
// are meant (for ReportFiles).
func reportFigures(r *Results, rows []Row) []figures.Figure {
	metrics := r.Metrics()
	k := r.Config.Seeds
	names := make([]string, len(r.Methods))
	for i, m := range r.Methods {
		names[i] = m.Name
	}
	var figs []figures.Figure
	for j, metric := range metrics {
		f := figures.Figure{Name: "bars-" + metric.Key, Title: fmt.Sprintf("%s, mean ± sd over %d seed%s (axis cut)", metric.Name, k, plural(k)),
			YLabel: metric.Name, Bars: true, Categories: names}
		if rows != nil {
			var s figures.Series // one series, no legend
			lo, hi := math.Inf(1), math.Inf(-1)
			for _, row := range rows {
				v := row.Values[j]
				s.Y, s.Err = append(s.Y, v.Mean), append(s.Err, v.SD)
				lo, hi = math.Min(lo, v.Mean-v.SD), math.Max(hi, v.Mean+v.SD)
			}
			f.Series = []figures.Series{s}
			f.YMin, f.YMax = cutAxis(lo, hi)
		}
		figs = append(figs, f)
	}
	diff := figures.Figure{Name: "differences", Title: fmt.Sprintf("difference from %s, paired over %d seed%s, 95%% interval", Baseline, k, plural(k)),
		YLabel: "difference", Bars: true, YZero: true, LegendRoom: true}
	for _, m := range metrics {
		diff.Categories = append(diff.Categories, m.Name)
	}
	for _, row := range rows {
		if row.Method == Baseline {
			continue
		}
		s := figures.Series{Name: row.Method}
		for _, d := range row.Differences {
			s.Y, s.Err = append(s.Y, d.Mean), append(s.Err, d.High-d.Mean)
		}
		diff.Series = append(diff.Series, s)
	}
	figs = append(figs, diff)

	if r.Config.LongTail {
		f := figures.Figure{Name: "ap-frequency", Title: "average precision of each digit against its training frequency",
			XLabel: "share of training images holding the digit (log scale)", YLabel: "test average precision, mean ± sd",
			LogX: true, Points: true, LegendBottom: true, LegendRoom: true}
		for i, m := range r.Methods {
			if rows == nil {
				break
			}
			s := figures.Series{Name: m.Name, X: r.ClassShare}
			for _, v := range r.ClassAP(i) {
				s.Y, s.Err = append(s.Y, v.Mean), append(s.Err, v.SD)
			}
			f.Series = append(f.Series, s)
		}
		figs = append(figs, f)
	}
	for _, by := range []struct {
		name, title string
		of          func(multilabel.CountMetrics) float64
	}{
		{"by-m-precision", "precision@M", precisionAtM},
		{"by-m-map", "mAP", func(c multilabel.CountMetrics) float64 { return c.MAP }},
	} {
		f := figures.Figure{Name: by.name, Title: by.title + " on the test images of M labels, mean ± sd over seeds",
			XLabel: "number of labels M (the methods side by side)", YLabel: by.title, Points: true, XWhole: true,
			LegendBottom: true, LegendLeft: true, LegendRoom: true}
		for i, m := range r.Methods {
			if rows == nil {
				break
			}
			s := figures.Series{Name: m.Name}
			dodge := 0.06 * (float64(i) - float64(len(r.Methods)-1)/2) // so that the error bars do not overlap
			for j, v := range r.ByM(i, by.of) {
				s.X, s.Y, s.Err = append(s.X, float64(j+1)+dodge), append(s.Y, v.Mean), append(s.Err, v.SD)
			}
			f.Series = append(f.Series, s)
		}
		figs = append(figs, f)
	}
	curves := figures.Figure{Name: "validation-map", Title: "validation mAP after each epoch, mean ± sd over seeds",
		XLabel: "epoch", YLabel: "mean average precision", Points: true, XWhole: true, LegendBottom: true, LegendRoom: true}
	losses := figures.Figure{Name: "train-loss", Title: "mean training loss per epoch (each loss on its own scale)",
		XLabel: "epoch", YLabel: "training loss", Points: true, XWhole: true, YZero: true, LegendRoom: true}
	pr := figures.Figure{Name: "precision-recall", Title: fmt.Sprintf("micro-averaged precision–recall, test split, seed %d", r.Config.Seed),
		XLabel: "recall", YLabel: "precision", YMax: 1, LegendLeft: true, LegendBottom: true}
	for i, m := range r.Methods {
		if rows == nil {
			break
		}
		v := figures.Series{Name: m.Name}
		l := figures.Series{Name: m.Name}
		for e := range r.Config.Epochs {
			ve := Summarize(r.values(i, func(t *Trial) float64 { return t.Epochs[e].ValidationMAP }))
			le := Summarize(r.values(i, func(t *Trial) float64 { return t.Epochs[e].TrainLoss }))
			x := float64(e + 1)
			v.X, v.Y, v.Err = append(v.X, x), append(v.Y, ve.Mean), append(v.Err, ve.SD)
			l.X, l.Y = append(l.X, x), append(l.Y, le.Mean)
		}
		curves.Series, losses.Series = append(curves.Series, v), append(losses.Series, l)
		p := figures.Series{Name: m.Name}
		for _, pt := range thin(r.Trials[i][0].PR, 0.002) {
			p.X, p.Y = append(p.X, pt.Recall), append(p.Y, pt.Precision)
		}
		pr.Series = append(pr.Series, p)
	}
	return append(figs, curves, losses, pr)
}

// cutAxis returns the ends of a y axis for values from lo to hi that do
// not start at 0: a fifth of the range below, as much above, within
// [0, 1] for these metrics, and at least 0.01 wide.
func cutAxis(lo, hi float64) (float64, float64) {
	span := math.Max(hi-lo, 0.01)
	return math.Max(0, lo-span/5), math.Min(1, hi+span/5)
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

// page is what the report's template shows.
type page struct {
	Config      Config
	LastSeed    uint64
	Data        string
	Methods     []Method
	Metrics     []string
	Rows        []pageRow
	ByM         []pageByM
	Conclusion  []string
	Figures     []figures.Figure
	Frequencies []pageDigit
}

type pageRow struct {
	Method   string
	Values   []string
	Diffs    []pageDiff
	Seconds  string
	Baseline bool
}

type pageDiff struct {
	Text        string
	Significant bool
}

type pageByM struct {
	Method string
	Values []string
	Change string
}

type pageDigit struct {
	Digit     int
	Frequency string
	Share     string
	Methods   []string
}

func reportPage(r *Results, rows []Row, figs []figures.Figure) page {
	p := page{Config: r.Config, LastSeed: r.Config.Seed + uint64(r.Config.Seeds) - 1, Methods: r.Methods, Conclusion: Conclusion(r, rows), Figures: figs}
	p.Data = "balanced: every digit equally likely in a cell"
	if r.Config.LongTail {
		p.Data = fmt.Sprintf("long tail: in the training images digit k fills a cell with probability ∝ r^k, r = %d^(−1/9), "+
			"so digit 0 is %d× as frequent as digit 9; validation and test images are balanced", LongTailRatio, LongTailRatio)
	}
	for _, m := range r.Metrics() {
		p.Metrics = append(p.Metrics, m.Name)
	}
	for _, row := range rows {
		pr := pageRow{Method: row.Method, Seconds: fmt.Sprintf("%.0f s", row.Seconds.Mean), Baseline: row.Method == Baseline}
		for j, v := range row.Values {
			pr.Values = append(pr.Values, pm(v))
			d := row.Differences[j]
			pr.Diffs = append(pr.Diffs, pageDiff{differenceText(d), d.Significant()})
		}
		p.Rows = append(p.Rows, pr)
	}
	for i, m := range r.Methods {
		b := pageByM{Method: m.Name}
		for _, s := range r.ByM(i, precisionAtM) {
			b.Values = append(b.Values, pm(s))
		}
		d := r.ChangeWithM(i)
		b.Change = differenceText(d)
		p.ByM = append(p.ByM, b)
	}
	aps := make([][]Summary, len(r.Methods))
	for i := range r.Methods {
		aps[i] = r.ClassAP(i)
	}
	for c, f := range r.DigitFrequency {
		d := pageDigit{Digit: c, Frequency: fmt.Sprintf("%.4f", f), Share: fmt.Sprintf("%.4f", r.ClassShare[c])}
		for i := range r.Methods {
			d.Methods = append(d.Methods, fmt.Sprintf("%.4f", aps[i][c].Mean))
		}
		p.Frequencies = append(p.Frequencies, d)
	}
	return p
}

var reportTemplate = template.Must(template.New("report").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>xent experiment multilabel</title>
` + figures.PageStyle + `
<style>td.sig { font-weight: bold; background: #eef6ee; } td.method, th.method { text-align: left; }</style>
</head><body>
<h1>Multi-label MNIST: softmax with 1/M against the sigmoid losses</h1>

<h2>Conclusion</h2>
{{range .Conclusion}}<p>{{.}}</p>
{{end}}
<h2>Results</h2>
<p>Each metric on the test split, mean ± standard deviation over {{.Config.Seeds}} seeds.</p>
<table><tr><th class="method">method</th>{{range .Metrics}}<th>{{.}}</th>{{end}}<th>training time</th></tr>
{{range .Rows}}<tr><td class="method">{{.Method}}</td>{{range .Values}}<td>{{.}}</td>{{end}}<td>{{.Seconds}}</td></tr>
{{end}}</table>
<p>Difference from sigmoid, paired over the seeds (each seed's images, initial weights and batch order are the
same for every method), with its 95% confidence interval by Student's t; shaded where the interval excludes 0.</p>
<table><tr><th class="method">method</th>{{range .Metrics}}<th>{{.}}</th>{{end}}</tr>
{{range .Rows}}{{if not .Baseline}}<tr><td class="method">{{.Method}}</td>{{range .Diffs}}<td{{if .Significant}} class="sig"{{end}}>{{.Text}}</td>{{end}}</tr>
{{end}}{{end}}</table>
<p>Precision@M on the test images of M labels, mean ± sd over seeds, and its change from M = 1 to M = 4 with the 95% interval.</p>
<table><tr><th class="method">method</th><th>M = 1</th><th>M = 2</th><th>M = 3</th><th>M = 4</th><th>M = 4 − M = 1</th></tr>
{{range .ByM}}<tr><td class="method">{{.Method}}</td>{{range .Values}}<td>{{.}}</td>{{end}}<td>{{.Change}}</td></tr>
{{end}}</table>
<p>Each digit: its probability of filling a training cell, the share of training images holding it (mean over seeds),
and each method's test average precision (mean over seeds).</p>
<table><tr><th>digit</th><th>cell probability</th><th>training images</th>{{range .Methods}}<th>{{.Name}}</th>{{end}}</tr>
{{range .Frequencies}}<tr><td>{{.Digit}}</td><td>{{.Frequency}}</td><td>{{.Share}}</td>{{range .Methods}}<td>{{.}}</td>{{end}}</tr>
{{end}}</table>

<h2>Figures</h2>
{{range .Figures}}<img src="{{.Name}}.svg" alt="{{.Title}}">{{end}}

<h2>Settings</h2>
<p>56×56 images of 1–4 MNIST digits in a 2×2 grid (a cell filled with probability ½, drawn again until one is),
the targets the set of distinct digits. Training images: {{.Data}}.
{{.Config.Train}} training, {{.Config.Validation}} validation and {{.Config.Test}} test images; seeds
{{.Config.Seed}} to {{.LastSeed}}, each giving its own images, initial weights and batch order;
Adam, learning rate {{.Config.LR}}, batch {{.Config.Batch}}, {{.Config.Epochs}} epochs, {{.Config.Workers}} workers.
Scores are softmax(x) for multilabel-softmax and σ(x) for the others; micro-F1 and exact-set accuracy at the threshold
that maximises micro-F1 on the validation split.</p>
<table><tr><th class="method">method</th><th class="method">loss</th></tr>
{{range .Methods}}<tr><td class="method">{{.Name}}</td><td class="method">{{.Settings}}</td></tr>
{{end}}</table>
<p>The numbers are in <a href="results.json">results.json</a>.</p>
</body></html>
`))
