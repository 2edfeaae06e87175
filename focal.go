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
func focalGamma(g *float64) (float64, error) {
	if g == nil {
		return DefaultFocalGamma, nil
	}
	if !(*g >= 0) || math.IsInf(*g, 1) {
		return 0, optionError("gamma %v is not a finite number ≥ 0", *g)
	}
	return *g, nil
}
