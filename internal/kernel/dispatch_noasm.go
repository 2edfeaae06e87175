//go:build noasm || !amd64

package kernel

func detect() Path { return Go }

// Without assembly the path is always Go: each kernel's dispatch point
// (dispatch_amd64.go's On functions) is its reference loop, correct code
// wherever it is compiled.

func maxOn[T Float](x []T) T                                           { return maxGo(x) }
func expShiftSumOn[T Float](dst, x []T, m T) float64                   { return expShiftSumGo(dst, x, m) }
func scaleAddOn[T Float](dst []T, a T, u []T, b, c T)                  { scaleAddGo(dst, a, u, b, c) }
func maxDotOn[T Float](x, u []T) (T, float64, float64)                 { return maxDotGo(x, u) }
func dotOn[T Float](u, v []T) float64                                  { return dotGo(u, v) }
func firstOutsideOn[T Float](x []T, lo, hi T) int                      { return firstOutsideGo(x, lo, hi) }
func gemmTileOn[T Float]() (mr, nr int)                                { return 4, 8 }
func gemmKernelOn[T Float](k int, a, b, c []T, ldc int, add bool)      { gemmKernelGo(k, a, b, c, ldc, add) }
func sigmoidOn[T Float](e *Elements[T]) float64                        { return sigmoidGo(e) }
func asymmetricOn[T Float](e *Elements[T], p AsymmetricParams) float64 { return asymmetricGo(e, p) }
func fillRowsOn[T Float](dst, s []T, c int, ws T)                      { fillRowsGo(dst, s, c, ws) }
func logOn(dst, x []float64)                                           { logGo(dst, x) }

func sigmoidFocalOn[T Float](e *Elements[T], alpha float64, gamma int) float64 {
	return sigmoidFocalGo(e, alpha, float64(gamma))
}

func softmaxRowsOn[T Float](x, grad []T, c int, ys []int64, scales, ms, ss []float64, poly float64) {
	softmaxRowsGo(x, grad, c, ys, scales, ms, ss, poly)
}

// The streaming kernel computes what SoftmaxRows does, to the bit.
func softmaxRowsStreamOn[T Float](x, grad []T, c int, ys []int64, scales, ms, ss []float64) {
	softmaxRowsGo(x, grad, c, ys, scales, ms, ss, 0)
}
