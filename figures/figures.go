// Package figures computes the pictures of the tutorial xent began from
// with xent's own functions, and draws them as PNG and SVG with
// gonum.org/v1/plot:
//
//   - focal: the focal loss −(1−p_t)^γ·log p_t against p_t for
//     γ ∈ {0, 0.5, 1, 2, 5}, Lin et al. (2017), figure 1 — from
//     SigmoidFocalLoss with α off and target 1 at logit log(p/(1−p));
//   - cross-entropy-loss and cross-entropy-gradient: the loss and its
//     derivative with respect to the positive class's logit z, for softmax
//     cross-entropy over 10 classes whose other logits are 0 and for
//     sigmoid cross-entropy with target 1 — from SoftmaxCrossEntropy and
//     SigmoidCrossEntropy with reduction None, value and gradient;
//   - activations: softmax against sigmoid of one score vector — the
//     softmax from the gradient p − e_y of summed softmax cross-entropy,
//     the sigmoid from the gradient σ(x) − 0 of summed sigmoid
//     cross-entropy with targets 0.
//
// Every plotted value is a value the library returned.
package figures

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"unicode/utf8"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	vgdraw "gonum.org/v1/plot/vg/draw"

	"github.com/xent-go/xent"
	"github.com/xent-go/xent/internal/outfile"
)

// Series is one curve (or one set of bars, at X = 0, 1, …).
type Series struct {
	Name string
	X, Y []float64
	// Err, if not nil, holds for each point the half length of an error
	// bar drawn from Y − Err to Y + Err.
	Err []float64
}

// Figure is one picture.
type Figure struct {
	Name                  string // the file name without extension
	Title, XLabel, YLabel string
	Series                []Series
	Bars                  bool     // grouped bars instead of lines
	Categories            []string // with Bars, the name of each group of bars
	Points                bool     // a marker at each point of a line
	LogX                  bool     // a logarithmic x axis, ticks at 1, 2 and 5 × 10^k
	XWhole                bool     // x ticks at whole numbers only (epochs, counts)
	YMin, YMax            float64  // the ends of the y axis; 0: from the data
	YZero                 bool     // the y axis holds 0, its ends snapped as ZeroAxis says
	// The legend goes top right unless these move it, away from the curves.
	LegendLeft, LegendBottom bool
	// LegendRoom extends the y axis on the legend's side (top or bottom) by
	// the legend's height, so that it covers no data.
	LegendRoom bool
}

// FocalGammas are the γ of Lin et al.'s figure 1.
var FocalGammas = []float64{0, 0.5, 1, 2, 5}

// Scores is the score vector of the activations figure.
var Scores = []float64{3, 1, 0.2, -1, -2}

// All computes every figure.
func All() ([]Figure, error) {
	var figs []Figure
	f, err := Focal()
	if err != nil {
		return nil, err
	}
	figs = append(figs, f)
	loss, grad, err := CrossEntropy()
	if err != nil {
		return nil, err
	}
	figs = append(figs, loss, grad)
	a, err := Activations()
	if err != nil {
		return nil, err
	}
	return append(figs, a), nil
}

// Focal is the focal loss against p_t ∈ [0.005, 1) for each of FocalGammas.
func Focal() (Figure, error) {
	const n = 200
	p := make([]float64, n-1)
	logits := make([]float64, len(p))
	ones := make([]float64, len(p))
	for i := range p {
		p[i] = float64(i+1) / n
		logits[i] = math.Log(p[i] / (1 - p[i]))
		ones[i] = 1
	}
	fig := Figure{Name: "focal", Title: "focal loss (Lin et al. 2017, figure 1)",
		XLabel: "probability of the ground-truth class p_t", YLabel: "loss", YMax: 5, YZero: true}
	for _, g := range FocalGammas {
		losses := make([]float64, len(p))
		_, err := xent.SigmoidFocalLoss([]int{len(p), 1}, logits, ones,
			xent.SigmoidFocalOptions[float64]{Reduction: xent.None, Alpha: new(-1.0), Gamma: new(g)},
			xent.Output[float64]{Losses: losses})
		if err != nil {
			return Figure{}, err
		}
		name := fmt.Sprintf("γ = %g", g)
		if g == 0 {
			name += " (cross-entropy)"
		}
		fig.Series = append(fig.Series, Series{Name: name, X: p, Y: losses})
	}
	return fig, nil
}

// Classes is the number of classes of the softmax curves.
const Classes = 10

// CrossEntropy is the loss and the gradient against the positive logit
// z ∈ [−8, 8], for softmax (Classes classes, the others at 0) and sigmoid.
func CrossEntropy() (loss, grad Figure, err error) {
	const n = 161
	z := make([]float64, n)
	rows := make([]float64, n*Classes)
	targets := make([]int64, n)
	ones := make([]float64, n)
	for i := range z {
		z[i] = -8 + 16*float64(i)/(n-1)
		rows[i*Classes] = z[i]
		ones[i] = 1
	}
	softLoss, softGradAll := make([]float64, n), make([]float64, n*Classes)
	if _, err := xent.SoftmaxCrossEntropy([]int{n, Classes}, rows, targets,
		xent.SoftmaxOptions[float64]{Reduction: xent.None},
		xent.Output[float64]{Losses: softLoss, Grad: softGradAll}); err != nil {
		return loss, grad, err
	}
	softGrad := make([]float64, n)
	for i := range softGrad {
		softGrad[i] = softGradAll[i*Classes]
	}
	sigLoss, sigGrad := make([]float64, n), make([]float64, n)
	if _, err := xent.SigmoidCrossEntropy([]int{n, 1}, z, ones,
		xent.SigmoidOptions[float64]{Reduction: xent.None},
		xent.Output[float64]{Losses: sigLoss, Grad: sigGrad}); err != nil {
		return loss, grad, err
	}
	softName := fmt.Sprintf("softmax CE, %d classes, others at 0", Classes)
	sigName := "sigmoid CE, target 1"
	loss = Figure{Name: "cross-entropy-loss", Title: "loss against the positive class's logit",
		XLabel: "logit z of the positive class", YLabel: "loss", YZero: true,
		Series: []Series{{softName, z, softLoss, nil}, {sigName, z, sigLoss, nil}}}
	grad = Figure{Name: "cross-entropy-gradient", Title: "gradient with respect to that logit",
		XLabel: "logit z of the positive class", YLabel: "∂loss/∂z", YZero: true, LegendLeft: true, // top left is empty; short names keep it there
		Series: []Series{{fmt.Sprintf("softmax, %d classes: p − 1", Classes), z, softGrad, nil}, {"sigmoid: σ(z) − 1", z, sigGrad, nil}}}
	return loss, grad, nil
}

// Activations is softmax against sigmoid of Scores, one bar per class.
func Activations() (Figure, error) {
	c := len(Scores)
	classes := make([]float64, c)
	for i := range classes {
		classes[i] = float64(i)
	}
	soft := make([]float64, c)
	if _, err := xent.SoftmaxCrossEntropy([]int{1, c}, Scores, []int64{0},
		xent.SoftmaxOptions[float64]{Reduction: xent.Sum}, xent.Output[float64]{Grad: soft}); err != nil {
		return Figure{}, err
	}
	soft[0]++ // p − e_0 + e_0
	categories := make([]string, c)
	for i := range categories {
		categories[i] = fmt.Sprintf("%d (score %g)", i, Scores[i])
	}
	sig := make([]float64, c)
	if _, err := xent.SigmoidCrossEntropy([]int{1, c}, Scores, make([]float64, c),
		xent.SigmoidOptions[float64]{Reduction: xent.Sum}, xent.Output[float64]{Grad: sig}); err != nil {
		return Figure{}, err
	}
	return Figure{Name: "activations", Title: fmt.Sprintf("softmax and sigmoid of the scores %v", Scores),
		XLabel: "class", YLabel: "activation", YMax: 1.2, YZero: true, Bars: true, // room for the legend
		Categories: categories,
		Series:     []Series{{"softmax (sums to 1)", classes, soft, nil}, {"sigmoid (each in (0, 1))", classes, sig, nil}}}, nil
}

// Files returns the names Write writes for figs.
func Files(figs []Figure) []string {
	var names []string
	for _, f := range figs {
		names = append(names, f.Name+".png", f.Name+".svg")
	}
	return names
}

// Write draws each figure into dir, which must exist, as <Name>.png and
// <Name>.svg: all the files or, on any failure (a full disk), none, each
// through a temporary file renamed into place.
func Write(dir string, figs []Figure) error {
	files, err := Render(figs)
	if err != nil {
		return err
	}
	var set outfile.Set
	if err := set.AddFiles(dir, Files(figs), files); err != nil {
		return err
	}
	return set.Commit(nil)
}

// Render draws figs and returns the bytes of their files by the names
// Files gives, for a caller that writes them with other files of its own.
func Render(figs []Figure) (map[string][]byte, error) {
	files := map[string][]byte{}
	for _, f := range figs {
		p, err := draw(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.Name, err)
		}
		for _, ext := range []string{".png", ".svg"} {
			b, err := Encode(p, 6*vg.Inch, 4*vg.Inch, ext[1:])
			if err != nil {
				return nil, fmt.Errorf("%s%s: %w", f.Name, ext, err)
			}
			files[f.Name+ext] = b
		}
	}
	return files, nil
}

// Encode renders p at the size in format ("png", "svg") into bytes.
func Encode(p *plot.Plot, w, h vg.Length, format string) ([]byte, error) {
	wt, err := p.WriterTo(w, h, format)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if _, err := wt.WriteTo(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func draw(f Figure) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = f.Title
	p.X.Label.Text, p.Y.Label.Text = f.XLabel, f.YLabel
	p.Add(plotter.NewGrid())
	colors := seriesColors(len(f.Series))
	// 18 points a bar, narrower where the groups would run into each other
	// (about 300 points of the axis hold the bars); a lone series takes 48.
	width := vg.Points(min(18, 300/float64(max(len(f.Series)*len(f.Categories), 1))))
	if len(f.Series) == 1 {
		width = vg.Points(48)
	}
	for i, s := range f.Series {
		if f.Bars {
			bars, err := plotter.NewBarChart(plotter.Values(s.Y), width)
			if err != nil {
				return nil, err
			}
			bars.Color = colors[i]
			bars.LineStyle.Width = 0
			bars.Offset = width * vg.Length(2*i-len(f.Series)+1) / 2
			p.Add(bars)
			if s.Name != "" {
				p.Legend.Add(s.Name, bars)
			}
			if s.Err != nil {
				e, err := newErrorBars(s, nil, bars.Offset, colors[i])
				if err != nil {
					return nil, err
				}
				p.Add(e)
			}
			continue
		}
		xys := make(plotter.XYs, len(s.X))
		for k := range s.X {
			xys[k] = plotter.XY{X: s.X[k], Y: s.Y[k]}
		}
		line, err := plotter.NewLine(xys)
		if err != nil {
			return nil, err
		}
		line.Color = colors[i]
		line.Width = vg.Points(1.5)
		p.Add(line)
		if f.Points {
			dots, err := plotter.NewScatter(xys)
			if err != nil {
				return nil, err
			}
			dots.Color, dots.Radius = colors[i], vg.Points(2.5)
			dots.Shape = vgdraw.CircleGlyph{}
			p.Add(dots)
			p.Legend.Add(s.Name, line, dots)
		} else {
			p.Legend.Add(s.Name, line)
		}
		if s.Err != nil {
			e, err := newErrorBars(s, s.X, 0, colors[i])
			if err != nil {
				return nil, err
			}
			p.Add(e)
		}
	}
	if f.Bars {
		p.NominalX(f.Categories...)
		if longest(f.Categories)*len(f.Categories) > 75 { // they would run into each other: slant them
			p.X.Tick.Label.Rotation = math.Pi / 9
			p.X.Tick.Label.XAlign, p.X.Tick.Label.YAlign = vgdraw.XRight, vgdraw.YTop
		}
		p.Add(plotter.NewFunction(func(float64) float64 { return 0 })) // the axis line
	}
	if f.LogX {
		p.X.Scale = plot.LogScale{}
		p.X.Tick.Marker = LogTicks{}
	}
	if f.YZero {
		p.Y.Min, p.Y.Max = ZeroAxis(p.Y.Min, p.Y.Max)
	}
	if f.YMin != 0 {
		p.Y.Min = f.YMin
	}
	if f.YMax != 0 {
		p.Y.Max = f.YMax
	}
	p.Legend.Top, p.Legend.Left = !f.LegendBottom, f.LegendLeft
	p.Legend.TextStyle.Color = color.Black
	if f.LegendRoom {
		p.Y.Min, p.Y.Max = legendRoom(p, len(f.Series), f.LegendBottom)
	}
	p.Y.Tick.Marker = RoundTicks{}
	if !f.Bars && !f.LogX {
		p.X.Tick.Marker = RoundTicks{Whole: f.XWhole}
	}
	p.Add(LegendBackground(p))
	return p, nil
}

// longest is the length in characters of the longest of names.
func longest(names []string) int {
	n := 0
	for _, s := range names {
		n = max(n, utf8.RuneCountInString(s))
	}
	return n
}

// okabeIto is Okabe and Ito's palette for colour-blind readers, without
// its yellow (too pale on white), in the order the series take it.
var okabeIto = []color.Color{
	color.RGBA{0x00, 0x72, 0xB2, 0xff}, // blue
	color.RGBA{0xD5, 0x5E, 0x00, 0xff}, // vermillion
	color.RGBA{0x00, 0x9E, 0x73, 0xff}, // bluish green
	color.RGBA{0xCC, 0x79, 0xA7, 0xff}, // reddish purple
	color.RGBA{0xE6, 0x9F, 0x00, 0xff}, // orange
	color.RGBA{0x56, 0xB4, 0xE9, 0xff}, // sky blue
	color.RGBA{0x00, 0x00, 0x00, 0xff}, // black
}

// seriesColors are the colours of n series: okabeIto, then a rainbow
// beyond its seven.
func seriesColors(n int) []color.Color {
	if n <= len(okabeIto) {
		return okabeIto
	}
	return palette.Rainbow(n, 0, 0.8, 0.8, 0.85, 1).Colors()
}

// legendRoom returns the y range that leaves room for a legend of n
// entries above (or, bottom, below) the data: the legend's height as a
// share of the data area (the figure is 4 inches tall, of which title and
// x axis take about 0.8), plus a margin.
func legendRoom(p *plot.Plot, n int, bottom bool) (lo, hi float64) {
	lo, hi = p.Y.Min, p.Y.Max
	entry := p.Legend.TextStyle.Height("M") + p.Legend.Padding
	share := float64(entry)*float64(n)/float64(3.2*vg.Inch) + 0.04
	if !(hi > lo) || share >= 0.8 {
		return lo, hi
	}
	grown := (hi - lo) / (1 - share)
	if bottom {
		return hi - grown, hi
	}
	return lo, lo + grown
}

// errorBars is a plotter of vertical error bars, each from Y − Err to
// Y + Err with caps, at X shifted right by offset (a bar's offset in a
// group of bars), drawn darker than the bars' colour so that they show on
// them.
type errorBars struct {
	x, y, err []float64
	offset    vg.Length
	color     color.Color
}

// newErrorBars returns s's error bars at x (nil: at 0, 1, …, where bars stand).
func newErrorBars(s Series, x []float64, offset vg.Length, c color.Color) (*errorBars, error) {
	if len(s.Err) != len(s.Y) || (x != nil && len(x) != len(s.Y)) {
		return nil, fmt.Errorf("series %q: %d error bars for %d values", s.Name, len(s.Err), len(s.Y))
	}
	if x == nil {
		x = make([]float64, len(s.Y))
		for k := range x {
			x[k] = float64(k)
		}
	}
	r, g, b, _ := c.RGBA()
	dark := color.RGBA{uint8(r >> 9), uint8(g >> 9), uint8(b >> 9), 255} // half the brightness
	return &errorBars{x: x, y: s.Y, err: s.Err, offset: offset, color: dark}, nil
}

// Plot draws the bars on c.
func (e *errorBars) Plot(c vgdraw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	style := vgdraw.LineStyle{Color: e.color, Width: vg.Points(1.2)}
	capHalf := vg.Points(3)
	for k := range e.y {
		if math.IsNaN(e.err[k]) || math.IsNaN(e.y[k]) {
			continue
		}
		x := trX(e.x[k]) + e.offset
		lo, hi := trY(e.y[k]-e.err[k]), trY(e.y[k]+e.err[k])
		c.StrokeLine2(style, x, lo, x, hi)
		c.StrokeLine2(style, x-capHalf, lo, x+capHalf, lo)
		c.StrokeLine2(style, x-capHalf, hi, x+capHalf, hi)
	}
}

// DataRange makes the axes hold the bars' ends.
func (e *errorBars) DataRange() (xmin, xmax, ymin, ymax float64) {
	xmin, xmax, ymin, ymax = math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for k := range e.y {
		if math.IsNaN(e.err[k]) || math.IsNaN(e.y[k]) {
			continue
		}
		xmin, xmax = math.Min(xmin, e.x[k]), math.Max(xmax, e.x[k])
		ymin, ymax = math.Min(ymin, e.y[k]-e.err[k]), math.Max(ymax, e.y[k]+e.err[k])
	}
	return xmin, xmax, ymin, ymax
}
