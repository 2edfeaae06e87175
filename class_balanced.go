package xent

import "math"

// ClassBalancedWeights returns the class-balanced weights of Cui et al.
// (2019) for class counts n_c and β ∈ [0, 1): each class weighs the inverse
// of its "effective number" of samples, (1 − β^n_c)/(1 − β),
//
//	w_c = (1 − β)/(1 − β^n_c),  normalised so that Σ_c w_c = C
//
// β = 0 gives every class 1; as β → 1 the weights approach the inverse
// class frequencies. 1 − β^n is computed as −expm1(n·log β), so that β
// close to 1 loses no digits. The weights are for the Weight option of
// SoftmaxCrossEntropy, SoftmaxProbCrossEntropy, SigmoidCrossEntropy and
// AsymmetricLoss (or SoftmaxFocalLoss's α).
//
// Errors wrap ErrOption: no count, a count ≤ 0 (named by class), β outside
// [0, 1).
func ClassBalancedWeights(counts []int64, beta float64) ([]float64, error) {
	if !(beta >= 0 && beta < 1) {
		return nil, optionError("beta %v is outside [0, 1)", beta)
	}
	if len(counts) == 0 {
		return nil, optionError("no class counts")
	}
	for c, n := range counts {
		if n <= 0 {
			return nil, optionError("class %d has count %d; class-balanced weights need every count ≥ 1", c, n)
		}
	}
	w := make([]float64, len(counts))
	if beta == 0 {
		for c := range w {
			w[c] = 1
		}
		return w, nil
	}
	sum, logBeta := 0.0, math.Log(beta)
	for c, n := range counts {
		w[c] = (1 - beta) / -math.Expm1(float64(n)*logBeta)
		sum += w[c]
	}
	for c := range w {
		w[c] *= float64(len(w)) / sum
	}
	return w, nil
}
