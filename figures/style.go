package figures

import (
	"image/color"
	"math"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	vgdraw "gonum.org/v1/plot/vg/draw"
)

// PageStyle is the style sheet of the HTML reports (xent train's and the
// experiment's), so that they look alike.
const PageStyle = `<style>
body { font-family: sans-serif; max-width: 70em; margin: 2em auto; color: #222; }
table { border-collapse: collapse; margin: 1em 0; }
td, th { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }
img { width: 32em; margin-right: 1em; }
</style>`

// RoundTicks marks an axis at round values: a step of 1, 2 or 5 times a
// power of ten, chosen for about five labelled ticks, every multiple of
// it in the range (0 among them when the range holds it), with unlabelled
// minor ticks between. gonum/plot's default ticker labels at values such
// as 0.06, 0.1, 0.14 or −0.9, −0.5, −0.1. Whole keeps the step at 1 or
// more, with no minor ticks below 1, for an axis of counts such as epochs.
type RoundTicks struct{ Whole bool }

// Ticks returns the ticks of [lo, hi].
func (t RoundTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(hi > lo) || math.IsInf(lo, 0) || math.IsInf(hi, 0) {
		return nil
	}
	step := roundStep((hi - lo) / 5)
	if t.Whole {
		step = math.Max(step, 1)
	}
	var ticks []plot.Tick
	for k := math.Ceil(lo/step*2 - 1e-9); k <= math.Floor(hi/step*2+1e-9); k++ {
		v := k * step / 2
		if int64(k)%2 != 0 {
			if t.Whole && step < 2 {
				continue
			}
			ticks = append(ticks, plot.Tick{Value: v}) // minor, half way
			continue
		}
		ticks = append(ticks, plot.Tick{Value: v, Label: formatTick(v, step)})
	}
	return ticks
}

// LogTicks marks a logarithmic axis at 1, 2 and 5 × 10^k in its range,
// labelled, with unlabelled minor ticks at the other whole multiples of
// 10^k; when the range holds fewer than two of those labels, the minor
// ticks are labelled too. lo must be > 0.
type LogTicks struct{}

// Ticks returns the ticks of [lo, hi].
func (LogTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(lo > 0 && hi > lo) || math.IsInf(hi, 0) {
		return nil
	}
	var ticks []plot.Tick
	labelled := 0
	for e := math.Floor(math.Log10(lo)); math.Pow(10, e) <= hi; e++ {
		p := math.Pow(10, e)
		for m := 1; m <= 9; m++ {
			v := float64(m) * p
			if v < lo*(1-1e-9) || v > hi*(1+1e-9) {
				continue
			}
			t := plot.Tick{Value: v}
			if m == 1 || m == 2 || m == 5 {
				t.Label = formatTick(v, p)
				labelled++
			}
			ticks = append(ticks, t)
		}
	}
	if labelled < 2 {
		for i := range ticks {
			p := math.Pow(10, math.Floor(math.Log10(ticks[i].Value)+1e-9))
			ticks[i].Label = formatTick(ticks[i].Value, p)
		}
	}
	return ticks
}

// ZeroAxis returns the range of an axis drawn for the data range [lo, hi]:
// it holds 0 (every figure here is a loss, a gradient or a probability,
// for which 0 is the reference), and an end that lies within 5% of the
// range from a labelled tick of RoundTicks is moved out to that tick, so
// that a curve from −0.9997 to 0 is drawn on an axis from −1 to 0 with
// both ends labelled instead of ending just short of them.
func ZeroAxis(lo, hi float64) (float64, float64) {
	lo, hi = math.Min(lo, 0), math.Max(hi, 0)
	if !(hi > lo) || math.IsInf(lo, 0) || math.IsInf(hi, 0) {
		return lo, hi
	}
	step, near := roundStep((hi-lo)/5), 0.05*(hi-lo)
	if down := math.Floor(lo/step) * step; lo-down < near {
		lo = down
	}
	if up := math.Ceil(hi/step) * step; up-hi < near {
		hi = up
	}
	return lo, hi
}

// roundStep returns the 1, 2 or 5 × 10^k nearest above raw.
func roundStep(raw float64) float64 {
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= raw*0.999 {
			return m * p
		}
	}
	return 10 * p
}

// formatTick prints v with as many decimals as step needs: 0.05 steps
// give "0.1", "0.15"; no "0.30000000000000004", and 0 is "0", not "-0".
func formatTick(v, step float64) string {
	decimals := max(0, int(-math.Floor(math.Log10(step)+1e-9)))
	if math.Abs(v) < step/1e6 {
		v = 0
	}
	return strconv.FormatFloat(v, 'f', decimals, 64)
}

// legendBackground is a plotter, added after the curves, that paints the
// legend's box white (with a margin), so that neither the grid nor a
// curve runs through the legend's text.
type legendBackground struct{ p *plot.Plot }

// LegendBackground returns the plotter for p; add it last.
func LegendBackground(p *plot.Plot) plot.Plotter { return legendBackground{p} }

func (b legendBackground) Plot(c vgdraw.Canvas, _ *plot.Plot) {
	l := &b.p.Legend
	size := l.Rectangle(c).Size() // its extent; the position is computed below, as Legend.Draw places it
	margin := vg.Points(3)
	var r vg.Rectangle
	if l.Left {
		r.Min.X = c.Min.X + l.XOffs
	} else {
		r.Min.X = c.Max.X - size.X + l.XOffs
	}
	if l.Top {
		r.Min.Y = c.Max.Y - size.Y + l.YOffs
	} else {
		r.Min.Y = c.Min.Y + l.YOffs
	}
	r.Max = vg.Point{X: r.Min.X + size.X, Y: r.Min.Y + size.Y}
	r.Min.X, r.Min.Y, r.Max.X, r.Max.Y = r.Min.X-margin, r.Min.Y-margin, r.Max.X+margin, r.Max.Y+margin
	c.SetColor(color.White)
	c.Fill(r.Path())
}
