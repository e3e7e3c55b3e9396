package main

import (
	"fmt"
	"image/color"
	"math"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

func newPlot(title, x, y string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = x
	p.Y.Label.Text = y
	p.Add(plotter.NewGrid())
	p.Legend.Top = true
	return p
}

func save(p *plot.Plot, path string) error {
	return p.Save(8*vg.Inch, 4.5*vg.Inch, path)
}

// cdfPlot draws latency CDFs (x: µs, log scale; y: fraction ≤ x).
func cdfPlot(path, title string, names []string, samples map[string][]float64) error {
	p := newPlot(title, "round trip (µs, log scale)", "fraction of pings ≤ x")
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = plot.LogTicks{Prec: -1}
	for i, name := range names {
		s := slices.Clone(samples[name])
		if len(s) == 0 {
			continue
		}
		slices.Sort(s)
		// At most 400 points per curve.
		step := max(1, len(s)/400)
		var pts plotter.XYs
		for j := 0; j < len(s); j += step {
			pts = append(pts, plotter.XY{X: math.Max(s[j], 0.1), Y: float64(j+1) / float64(len(s))})
		}
		pts = append(pts, plotter.XY{X: math.Max(s[len(s)-1], 0.1), Y: 1})
		l, err := plotter.NewLine(pts)
		if err != nil {
			return err
		}
		l.Color = plotutil.Color(i)
		l.Width = vg.Points(1.5)
		p.Add(l)
		p.Legend.Add(name, l)
	}
	p.Legend.Left = false
	p.Legend.Top = false
	p.Legend.XOffs = -10
	p.Legend.YOffs = 10
	return save(p, path)
}

// barPlot draws one group of bars per series over the same categories.
func barPlot(path, title, ylabel string, cats []string, series []string, vals map[string][]float64) error {
	p := newPlot(title, "", ylabel)
	w := vg.Points(60 / float64(max(len(series), 1)))
	for i, s := range series {
		b, err := plotter.NewBarChart(plotter.Values(vals[s]), w)
		if err != nil {
			return err
		}
		b.Color = plotutil.Color(i)
		b.LineStyle.Width = 0
		b.Offset = w * vg.Length(float64(i)-float64(len(series)-1)/2)
		p.Add(b)
		if len(series) > 1 {
			p.Legend.Add(s, b)
		}
	}
	p.NominalX(cats...)
	return save(p, path)
}

type line struct {
	name   string
	pts    plotter.XYs
	dashed bool
	color  color.Color
}

// intTicks labels a linear axis with whole numbers.
type intTicks struct{ step float64 }

func (t intTicks) Ticks(min, max float64) []plot.Tick {
	var ts []plot.Tick
	for v := math.Ceil(min/t.step) * t.step; v <= max; v += t.step {
		ts = append(ts, plot.Tick{Value: v, Label: fmt.Sprintf("%.0f", v)})
	}
	return ts
}

func linePlot(path, title, x, y string, lines []line, logY bool, xStep float64) error {
	p := newPlot(title, x, y)
	if xStep > 0 {
		p.X.Tick.Marker = intTicks{xStep}
	}
	if logY {
		p.Legend.Top = false
	}
	if logY {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	}
	p.Legend.Left = !logY
	for i, l := range lines {
		ln, sc, err := plotter.NewLinePoints(l.pts)
		if err != nil {
			return err
		}
		c := l.color
		if c == nil {
			c = plotutil.Color(i)
		}
		ln.Color, sc.Color = c, c
		ln.Width = vg.Points(1.5)
		if l.dashed {
			ln.Dashes = []vg.Length{vg.Points(5), vg.Points(4)}
		}
		sc.Shape = plotutil.Shape(i)
		p.Add(ln, sc)
		p.Legend.Add(l.name, ln, sc)
	}
	return save(p, path)
}

func fmtF(v float64) string {
	switch {
	case v == math.Trunc(v) && math.Abs(v) < 1e15:
		return fmt.Sprintf("%.0f", v)
	case math.Abs(v) >= 100:
		return fmt.Sprintf("%.0f", v)
	case math.Abs(v) >= 10:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.2f", v)
	}
}
