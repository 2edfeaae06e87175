package experiment

import (
	"fmt"
	"math"
)

// Summary is the mean and sample standard deviation (n − 1 in the
// denominator; 0 for one value) of a metric over seeds.
type Summary struct {
	Mean float64 `json:"mean"`
	SD   float64 `json:"sd"`
}

// Summarize returns v's mean and sample standard deviation.
func Summarize(v []float64) Summary {
	if len(v) == 0 {
		return Summary{Mean: math.NaN(), SD: math.NaN()}
	}
	mean := 0.0
	for _, x := range v {
		mean += x
	}
	mean /= float64(len(v))
	if len(v) == 1 {
		return Summary{Mean: mean}
	}
	ss := 0.0
	for _, x := range v {
		ss += (x - mean) * (x - mean)
	}
	return Summary{Mean: mean, SD: math.Sqrt(ss / float64(len(v)-1))}
}

// Difference is a paired comparison of two methods run on the same seeds:
// the mean of the per-seed differences a_k − b_k and its two-sided 95%
// confidence interval [Low, High] by Student's t with K − 1 degrees of
// freedom, mean ± t_{0.975, K−1}·s_d/√K. With one seed there is no
// interval and Low and High are NaN.
type Difference struct {
	Mean float64 `json:"mean"`
	Low  float64 `json:"low"`
	High float64 `json:"high"`
}

// Significant reports whether the interval excludes 0.
func (d Difference) Significant() bool { return d.Low > 0 || d.High < 0 }

// PairedDifference compares a with b seed by seed (a[k] and b[k] from
// seed k); they must have the same length, at least 1.
func PairedDifference(a, b []float64) (Difference, error) {
	if len(a) != len(b) || len(a) == 0 {
		return Difference{}, fmt.Errorf("experiment: paired difference of %d and %d values", len(a), len(b))
	}
	d := make([]float64, len(a))
	for k := range a {
		d[k] = a[k] - b[k]
	}
	s := Summarize(d)
	if len(d) == 1 {
		return Difference{Mean: s.Mean, Low: math.NaN(), High: math.NaN()}, nil
	}
	half := StudentT975(len(d)-1) * s.SD / math.Sqrt(float64(len(d)))
	return Difference{Mean: s.Mean, Low: s.Mean - half, High: s.Mean + half}, nil
}

// StudentT975 is the 0.975 quantile of Student's t with nu ≥ 1 degrees of
// freedom, the t of a two-sided 95% interval: the t at which
// P(|T| ≤ t) = 0.95. P(|T| ≤ t) has a closed form for whole nu
// (Abramowitz and Stegun 26.7.3 and 26.7.4): with θ = atan(t/√nu),
//
//	nu odd:  (2/π)·(θ + sin θ·(cos θ + (2/3)cos³θ + … + (2·4⋯(nu−3))/(1·3⋯(nu−2))·cos^(nu−2)θ))
//	nu even: sin θ·(1 + (1/2)cos²θ + … + (1·3⋯(nu−3))/(2·4⋯(nu−2))·cos^(nu−2)θ)
//
// (for nu = 1 the odd sum is empty), increasing in θ ∈ [0, π/2); the
// quantile is found by bisection on θ to the last bit of float64, then
// t = √nu·tan θ. It is 12.706 for nu = 1, 4.303 for 2 (exactly
// √(1.805/0.0975)), 2.262 for 9, and tends to 1.960.
func StudentT975(nu int) float64 {
	lo, hi := 0.0, math.Pi/2
	for range 200 {
		mid := (lo + hi) / 2
		if mid == lo || mid == hi {
			break
		}
		if tCentral(mid, nu) < 0.95 {
			lo = mid
		} else {
			hi = mid
		}
	}
	return math.Sqrt(float64(nu)) * math.Tan((lo+hi)/2)
}

// tCentral is P(|T| ≤ √nu·tan θ) for T of Student's t with nu degrees.
func tCentral(theta float64, nu int) float64 {
	s, c := math.Sincos(theta)
	if nu%2 == 0 {
		sum, term := 1.0, 1.0
		for k := 2; k <= nu-2; k += 2 {
			term *= float64(k-1) / float64(k) * c * c
			sum += term
		}
		return s * sum
	}
	if nu == 1 {
		return 2 * theta / math.Pi
	}
	sum, term := c, c
	for k := 3; k <= nu-2; k += 2 {
		term *= float64(k-1) / float64(k) * c * c
		sum += term
	}
	return 2 / math.Pi * (theta + s*sum)
}
