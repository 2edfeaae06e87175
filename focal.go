package xent

import "math"

// Defaults of the focal losses, as in torchvision.ops.sigmoid_focal_loss and
// Lin et al. (2017).
const (
	DefaultFocalAlpha = 0.25
	DefaultFocalGamma = 2.0
)

// focalGamma returns γ (DefaultFocalGamma when nil) or an error when it is
// negative or not finite.
func focalGamma(g *float64) (float64, error) { return exponent("gamma", g, DefaultFocalGamma) }

// exponent returns *v, or def when v is nil, checked to be a finite
// number ≥ 0: a focusing exponent (focal γ, the asymmetric loss's γ±).
func exponent(name string, v *float64, def float64) (float64, error) {
	if v == nil {
		return def, nil
	}
	if g := *v; !(g >= 0) || math.IsInf(g, 1) {
		return 0, optionError("%s %v is not a finite number ≥ 0", name, g)
	}
	return *v, nil
}
