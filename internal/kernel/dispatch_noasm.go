//go:build noasm || !amd64

package kernel

func detect() Path { return Go }

// Without assembly the path is always Go, and the generic code calls the
// reference loops itself. The per-type entry points it names on the
// assembly path exist here as those same references, so that they are
// correct code wherever they are compiled, not stubs that would panic.

func maxF32(x []float32) float32                                      { return maxGo(x) }
func maxF64(x []float64) float64                                      { return maxGo(x) }
func expShiftSumF32(dst, x []float32, m float32) float64              { return expShiftSumGo(dst, x, m) }
func expShiftSumF64(dst, x []float64, m float64) float64              { return expShiftSumGo(dst, x, m) }
func scaleAddF32(dst []float32, a float32, u []float32, b, c float32) { scaleAddGo(dst, a, u, b, c) }
func scaleAddF64(dst []float64, a float64, u []float64, b, c float64) { scaleAddGo(dst, a, u, b, c) }
func firstOutsideF32(x []float32, lo, hi float32) int                 { return firstOutsideGo(x, lo, hi) }
func firstOutsideF64(x []float64, lo, hi float64) int                 { return firstOutsideGo(x, lo, hi) }
func dotF32(u, v []float32) float64                                   { return dotGo(u, v) }
func dotF64(u, v []float64) float64                                   { return dotGo(u, v) }
func maxDotF32(x, u []float32) (float32, float64, float64)            { return maxDotGo(x, u) }
func maxDotF64(x, u []float64) (float64, float64, float64)            { return maxDotGo(x, u) }

func softmaxRowsF32(x, grad []float32, c int, ys []int64, scales, ms, ss []float64, poly float64) {
	softmaxRowsGo(x, grad, c, ys, scales, ms, ss, poly)
}

func softmaxRowsF64(x, grad []float64, c int, ys []int64, scales, ms, ss []float64, poly float64) {
	softmaxRowsGo(x, grad, c, ys, scales, ms, ss, poly)
}

// The streaming kernels compute what SoftmaxRows does, to the bit.

func softmaxRowsStreamF32(x, grad []float32, c int, ys []int64, scales, ms, ss []float64) {
	softmaxRowsGo(x, grad, c, ys, scales, ms, ss, 0)
}

func softmaxRowsStreamF64(x, grad []float64, c int, ys []int64, scales, ms, ss []float64) {
	softmaxRowsGo(x, grad, c, ys, scales, ms, ss, 0)
}

func sigmoidF32[T Float](e *Elements[T]) float64 { return sigmoidGo(e) }
func sigmoidF64[T Float](e *Elements[T]) float64 { return sigmoidGo(e) }

func sigmoidFocalF32[T Float](e *Elements[T], alpha float64, gamma int) float64 {
	return sigmoidFocalGo(e, alpha, float64(gamma))
}

func sigmoidFocalF64[T Float](e *Elements[T], alpha float64, gamma int) float64 {
	return sigmoidFocalGo(e, alpha, float64(gamma))
}

func asymmetricF32[T Float](e *Elements[T], p AsymmetricParams) float64 { return asymmetricGo(e, p) }
func asymmetricF64[T Float](e *Elements[T], p AsymmetricParams) float64 { return asymmetricGo(e, p) }

// The Go tile and loop.
func gemmTileF32() (mr, nr int)                                 { return 4, 8 }
func gemmKernelF32(k int, a, b, c []float32, ldc int, add bool) { gemmKernelGo(k, a, b, c, ldc, add) }

func fillRowsF32(dst, s []float32, c int, ws float32) { fillRowsGo(dst, s, c, ws) }
func fillRowsF64(dst, s []float64, c int, ws float64) { fillRowsGo(dst, s, c, ws) }

func logF64(dst, x []float64) { logGo(dst, x) }
