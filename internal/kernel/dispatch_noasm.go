//go:build noasm || !amd64

package kernel

func detect() Path { return Go }

// Without assembly the float32 entry points are never reached: active is
// always Go. They exist so that the generic code compiles everywhere.

func maxF32(x []float32) float32                                      { panic("kernel: no assembly") }
func expShiftSumF32(dst, x []float32, m float32) float64              { panic("kernel: no assembly") }
func scaleAddF32(dst []float32, a float32, u []float32, b, c float32) { panic("kernel: no assembly") }
func firstOutsideF32(x []float32, lo, hi float32) int                 { panic("kernel: no assembly") }
func dotF32(u, v []float32) float64                                   { panic("kernel: no assembly") }
func sigmoidF32[T Float](e *Elements[T]) float64                      { panic("kernel: no assembly") }
func sigmoidFocalF32[T Float](e *Elements[T], alpha float64, gamma int) float64 {
	panic("kernel: no assembly")
}

func firstOutsideF64(x []float64, lo, hi float64) int { panic("kernel: no assembly") }
func sigmoidF64[T Float](e *Elements[T]) float64      { panic("kernel: no assembly") }
func sigmoidFocalF64[T Float](e *Elements[T], alpha float64, gamma int) float64 {
	panic("kernel: no assembly")
}

func softmaxRowsF32(x, grad []float32, c int, ys []int64, scales, ms, ss []float64, poly float64) {
	panic("kernel: no assembly")
}

func softmaxRowsStreamF32(x, grad []float32, c int, ys []int64, scales, ms, ss []float64) {
	panic("kernel: no assembly")
}

func softmaxRowsStreamF64(x, grad []float64, c int, ys []int64, scales, ms, ss []float64) {
	panic("kernel: no assembly")
}

func maxDotF32(x, u []float32) (float32, float64, float64) { panic("kernel: no assembly") }
func maxDotF64(x, u []float64) (float64, float64, float64) { panic("kernel: no assembly") }

func maxF64(x []float64) float64                                      { panic("kernel: no assembly") }
func expShiftSumF64(dst, x []float64, m float64) float64              { panic("kernel: no assembly") }
func scaleAddF64(dst []float64, a float64, u []float64, b, c float64) { panic("kernel: no assembly") }
func dotF64(u, v []float64) float64                                   { panic("kernel: no assembly") }
func softmaxRowsF64(x, grad []float64, c int, ys []int64, scales, ms, ss []float64, poly float64) {
	panic("kernel: no assembly")
}

func gemmTileF32() (mr, nr int)                                 { panic("kernel: no assembly") }
func gemmKernelF32(k int, a, b, c []float32, ldc int, add bool) { panic("kernel: no assembly") }

func asymmetricF32[T Float](e *Elements[T], p AsymmetricParams) float64 { panic("kernel: no assembly") }
func asymmetricF64[T Float](e *Elements[T], p AsymmetricParams) float64 { panic("kernel: no assembly") }
