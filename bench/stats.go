package bench

import (
	"math"
	"slices"
	"time"
)

// Durations is a set of latency samples, in the order they were taken.
type Durations []time.Duration

// Quantile returns the q-quantile (0 ≤ q ≤ 1) by the nearest-rank method:
// the smallest sample with at least q·n samples at or below it. It returns
// 0 for an empty set. It sorts a copy; d is left as it is.
func (d Durations) Quantile(q float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[rank(q, len(s))]
}

// Summary returns p50, p90, p99, p99.9 and max of d.
func (d Durations) Summary() Summary {
	if len(d) == 0 {
		return Summary{}
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return Summary{
		N:    len(s),
		P50:  s[rank(0.50, len(s))],
		P90:  s[rank(0.90, len(s))],
		P99:  s[rank(0.99, len(s))],
		P999: s[rank(0.999, len(s))],
		Max:  s[len(s)-1],
	}
}

// rank is the 0-based index of the nearest-rank q-quantile of n sorted
// samples.
func rank(q float64, n int) int {
	switch {
	case q <= 0:
		return 0
	case q >= 1:
		return n - 1
	}
	r := int(math.Ceil(q*float64(n))) - 1
	return max(0, min(r, n-1))
}

// Summary holds the percentiles of one set of latency samples.
type Summary struct {
	N                        int
	P50, P90, P99, P999, Max time.Duration
}

// Median returns the median of xs (the mean of the two middle values for an
// even count), or 0 for an empty slice. xs is left as it is.
func Median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	m := len(s) / 2
	if len(s)%2 == 1 {
		return s[m]
	}
	return (s[m-1] + s[m]) / 2
}

// Spread returns the smallest and largest of xs (0, 0 for none).
func Spread(xs []float64) (lo, hi float64) {
	if len(xs) == 0 {
		return 0, 0
	}
	return slices.Min(xs), slices.Max(xs)
}

// Micros converts d to microseconds as a float, for reports and plots.
func Micros(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
