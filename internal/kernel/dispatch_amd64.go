//go:build amd64 && !noasm

package kernel

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

//go:generate sh -c "cd _gen && go run . -out ../kernel_amd64.s -stubs ../kernel_amd64_stubs.go -pkg kernel"

// detect chooses the fastest path this CPU runs: AVX-512 (F, DQ, VL) or
// AVX2, each with FMA, and BMI2 for the tail masks.
func detect() Path {
	x := cpu.X86
	switch {
	case x.HasAVX512F && x.HasAVX512DQ && x.HasAVX512VL && x.HasFMA && x.HasBMI2:
		return AVX512
	case x.HasAVX2 && x.HasFMA && x.HasBMI2:
		return AVX2
	}
	return Go
}

func avx512() bool { return active == AVX512 }

func maxF32(x []float32) float32 {
	if avx512() {
		return maxAVX512(x)
	}
	return maxAVX2(x)
}

func maxF64(x []float64) float64 {
	if avx512() {
		return maxF64AVX512(x)
	}
	return maxF64AVX2(x)
}

func expShiftSumF32(dst, x []float32, m float32) float64 {
	switch {
	case dst == nil && avx512():
		return expShiftSumNoStoreAVX512(x, m)
	case dst == nil:
		return expShiftSumNoStoreAVX2(x, m)
	case avx512():
		return expShiftSumAVX512(dst[:len(x)], x, m)
	}
	return expShiftSumAVX2(dst[:len(x)], x, m)
}

func expShiftSumF64(dst, x []float64, m float64) float64 {
	switch {
	case dst == nil && avx512():
		return expShiftSumNoStoreF64AVX512(x, m)
	case dst == nil:
		return expShiftSumNoStoreF64AVX2(x, m)
	case avx512():
		return expShiftSumF64AVX512(dst[:len(x)], x, m)
	}
	return expShiftSumF64AVX2(dst[:len(x)], x, m)
}

func scaleAddF32(dst []float32, a float32, u []float32, b, c float32) {
	switch {
	case u == nil && avx512():
		scaleAddConstAVX512(dst, a, c)
	case u == nil:
		scaleAddConstAVX2(dst, a, c)
	case avx512():
		scaleAddAVX512(dst, a, unsafe.SliceData(u[:len(dst)]), b, c)
	default:
		scaleAddAVX2(dst, a, unsafe.SliceData(u[:len(dst)]), b, c)
	}
}

func scaleAddF64(dst []float64, a float64, u []float64, b, c float64) {
	switch {
	case u == nil && avx512():
		scaleAddConstF64AVX512(dst, a, c)
	case u == nil:
		scaleAddConstF64AVX2(dst, a, c)
	case avx512():
		scaleAddF64AVX512(dst, a, unsafe.SliceData(u[:len(dst)]), b, c)
	default:
		scaleAddF64AVX2(dst, a, unsafe.SliceData(u[:len(dst)]), b, c)
	}
}

func maxDotF32(x, u []float32) (float32, float64, float64) {
	if avx512() {
		return maxDotAVX512(x, u)
	}
	return maxDotAVX2(x, u)
}

func maxDotF64(x, u []float64) (float64, float64, float64) {
	if avx512() {
		return maxDotF64AVX512(x, u)
	}
	return maxDotF64AVX2(x, u)
}

func dotF32(u, v []float32) float64 {
	switch {
	case u == nil && avx512():
		return sumAVX512(v)
	case u == nil:
		return sumAVX2(v)
	case avx512():
		return dotAVX512(u[:len(v)], v)
	}
	return dotAVX2(u[:len(v)], v)
}

func dotF64(u, v []float64) float64 {
	switch {
	case u == nil && avx512():
		return sumF64AVX512(v)
	case u == nil:
		return sumF64AVX2(v)
	case avx512():
		return dotF64AVX512(u[:len(v)], v)
	}
	return dotF64AVX2(u[:len(v)], v)
}

func gemmTileF32() (mr, nr int) {
	if avx512() {
		return 8, 32
	}
	return 6, 16
}

func gemmKernelF32(k int, a, b, c []float32, ldc int, add bool) {
	if avx512() {
		gemmKernelAVX512(k, unsafe.SliceData(a), unsafe.SliceData(b), unsafe.SliceData(c), ldc, add)
	} else {
		gemmKernelAVX2(k, unsafe.SliceData(a), unsafe.SliceData(b), unsafe.SliceData(c), ldc, add)
	}
}

func firstOutsideF32(x []float32, lo, hi float32) int {
	if avx512() {
		return firstOutsideAVX512(x, lo, hi)
	}
	return firstOutsideAVX2(x, lo, hi)
}

func firstOutsideF64(x []float64, lo, hi float64) int {
	if avx512() {
		return firstOutsideF64AVX512(x, lo, hi)
	}
	return firstOutsideF64AVX2(x, lo, hi)
}

func softmaxRowsF32(x, grad []float32, c int, ys []int64, scales, ms, ss []float64, poly float64) {
	var sc, m [SoftmaxRowsBatch]float32
	rows := len(ys)
	for r, v := range scales {
		sc[r] = float32(v)
	}
	switch {
	case avx512() && c <= smallRowsFaster:
		t := &smallRowTables[c]
		softmaxRowsSmallAVX512(unsafe.SliceData(x), unsafe.SliceData(grad), c, ys, sc[:rows], m[:rows], ss, poly,
			&t.in[0], &t.out[0][0])
	case avx512():
		softmaxRowsAVX512(unsafe.SliceData(x), unsafe.SliceData(grad), c, ys, sc[:rows], m[:rows], ss, poly)
	default:
		softmaxRowsAVX2(unsafe.SliceData(x), unsafe.SliceData(grad), c, ys, sc[:rows], m[:rows], ss, poly)
	}
	for r, y := range ys {
		if y >= 0 {
			ms[r] = float64(m[r])
		}
	}
}

// smallRowClasses is the most classes of the rows the small-row kernel
// (genSoftmaxRowsSmall: 16 rows at a time, one lane a row) takes, and
// smallRowsFaster the most for which softmaxRowsF32 runs it: on an AMD
// EPYC (Zen 4, family 25 model 17) it took 1.95 ns/element at c = 2
// against the row kernel's 7.3, 1.34 against 2.87 at c = 5, 1.22 against
// 1.26 at c = 10 and 1.21 against 1.04 at c = 12, all rows counted; its 16-lane gathers cost most
// of its time, and it computes ignored rows' lanes too, which the row
// kernel skips: with a fifth of the rows ignored, softmax at 65536×10 took
// 4.2–4.7 ns/element against 3.7–3.9.
const (
	smallRowClasses = 16
	smallRowsFaster = 7
)

// smallRowTables holds, for each c ≤ 16, the small-row kernel's gather
// indices: in, each lane's row start (lane·c); out[j], the place in the
// class-major 16×16 block (class·16 + row) of element 16j + lane of the
// group's row-major c·16 elements.
var smallRowTables = func() (t [smallRowClasses + 1]struct {
	in  [16]int32
	out [16][16]int32
}) {
	for c := 1; c <= smallRowClasses; c++ {
		for lane := range 16 {
			t[c].in[lane] = int32(lane * c)
		}
		for k := range 16 * c {
			t[c].out[k/16][k%16] = int32(k%c*16 + k/c)
		}
	}
	return t
}()

func softmaxRowsF64(x, grad []float64, c int, ys []int64, scales, ms, ss []float64, poly float64) {
	if avx512() {
		softmaxRowsF64AVX512(unsafe.SliceData(x), unsafe.SliceData(grad), c, ys, scales, ms, ss, poly)
	} else {
		softmaxRowsF64AVX2(unsafe.SliceData(x), unsafe.SliceData(grad), c, ys, scales, ms, ss, poly)
	}
}

// softmaxRowsStreamF32 runs rows that all count (ys[r] ≥ 0) through the
// streaming kernel, then writes each target's gradient: after the
// kernel's SFENCE, so that the ordinary store lands after the
// non-temporal ones.
func softmaxRowsStreamF32(x, grad []float32, c int, ys []int64, scales, ms, ss []float64) {
	var sc, m, fix [SoftmaxRowsBatch]float32
	rows := len(ys)
	for r, v := range scales {
		sc[r] = float32(v)
	}
	buf := getScratch((c + 1) / 2) // c float32
	softmaxRowsStreamAVX512(unsafe.SliceData(x), unsafe.SliceData(grad), (*float32)(unsafe.Pointer(unsafe.SliceData(buf))),
		c, ys, sc[:rows], m[:rows], fix[:rows], ss)
	putScratch(buf)
	for r, y := range ys {
		ms[r] = float64(m[r])
		grad[r*c+int(y)] = fix[r]
	}
}

func softmaxRowsStreamF64(x, grad []float64, c int, ys []int64, scales, ms, ss []float64) {
	var fix [SoftmaxRowsBatch]float64
	buf := getScratch(c)
	softmaxRowsStreamF64AVX512(unsafe.SliceData(x), unsafe.SliceData(grad), unsafe.SliceData(buf),
		c, ys, scales, ms, fix[:len(ys)], ss)
	putScratch(buf)
	for r, y := range ys {
		grad[r*c+int(y)] = fix[r]
	}
}

// scratchRows keeps the streaming kernels' scratch rows between calls, one
// per goroutine that ran at once: a buffered channel rather than a
// sync.Pool, which the garbage collector empties.
var scratchRows = make(chan []float64, 64)

// getScratch returns a scratch of n float64s, reused when one is free.
func getScratch(n int) []float64 {
	select {
	case s := <-scratchRows:
		if cap(s) >= n {
			return s[:n]
		}
	default:
	}
	return make([]float64, n)
}

func putScratch(s []float64) {
	select {
	case scratchRows <- s:
	default:
	}
}

// The asymmetric kernel's frame: a1 = m, gamma = γ−, gamma2 = γ+, mode's
// bits modeClip (m > 0) and modeDetach.
const (
	modeClip   = 1
	modeDetach = 2
)

func asymmetricMode(p AsymmetricParams) int {
	mode := 0
	if p.Clip > 0 {
		mode |= modeClip
	}
	if p.Detach {
		mode |= modeDetach
	}
	return mode
}

func asymmetricF32[T Float](e *Elements[T], p AsymmetricParams) float64 {
	var a elemArgs
	frame(as[float32](e), &a.x, &a.t, &a.w, &a.q, &a.g, &a.h, &a.grad, &a.loss, &a.n, &a.ws, &a.qs, &a.gs, &a.s, &a.rows)
	a.a1, a.gamma, a.gamma2, a.mode = float32(p.Clip), int(p.GammaNeg), int(p.GammaPos), asymmetricMode(p)
	if avx512() {
		return asymmetricAVX512(&a)
	}
	return asymmetricAVX2(&a)
}

func asymmetricF64[T Float](e *Elements[T], p AsymmetricParams) float64 {
	var a elemArgs64
	frame(as[float64](e), &a.x, &a.t, &a.w, &a.q, &a.g, &a.h, &a.grad, &a.loss, &a.n, &a.ws, &a.qs, &a.gs, &a.s, &a.rows)
	a.a1, a.gamma, a.gamma2, a.mode = p.Clip, int(p.GammaNeg), int(p.GammaPos), asymmetricMode(p)
	if avx512() {
		return asymmetricF64AVX512(&a)
	}
	return asymmetricF64AVX2(&a)
}

// frame fills an element-kernel frame for e: only pointers to the
// caller's data and the scalars, so that the frame stays on the stack. (A
// generic function of the frame's fields, not of its type.)
func frame[F float32 | float64](e *Elements[F], x, t, w, q, g, h, grad, loss **F, n *int, ws, qs, gs *F, s **F, rows *int) {
	*x, *t = unsafe.SliceData(e.X), unsafe.SliceData(e.T)
	*n, *rows = e.rowLen(), 1
	if e.S != nil {
		*rows = len(e.S)
	}
	*w, *q, *g, *h = unsafe.SliceData(e.W), unsafe.SliceData(e.Q), unsafe.SliceData(e.G), unsafe.SliceData(e.G) // h, the sum's weight: g, or 1
	*grad, *loss = unsafe.SliceData(e.Grad), unsafe.SliceData(e.Losses)
	*ws, *qs, *gs, *s = e.WS, e.QS, e.GS, unsafe.SliceData(e.S)
}

// focalConstants returns a1 and a2 of α_t = a1 + a2·t: α·t + (1−α)(1−t),
// or 1 when α < 0.
func focalConstants(alpha float64) (a1, a2 float64) {
	if alpha < 0 {
		return 1, 0
	}
	return 1 - alpha, 2*alpha - 1
}

// as views Elements of a type whose underlying type is F as Elements[F]:
// the same memory layout.
func as[F float32 | float64, T Float](e *Elements[T]) *Elements[F] {
	return (*Elements[F])(unsafe.Pointer(e))
}

func sigmoidF32[T Float](e *Elements[T]) float64 {
	var a elemArgs
	frame(as[float32](e), &a.x, &a.t, &a.w, &a.q, &a.g, &a.h, &a.grad, &a.loss, &a.n, &a.ws, &a.qs, &a.gs, &a.s, &a.rows)
	if avx512() {
		return sigmoidAVX512(&a)
	}
	return sigmoidAVX2(&a)
}

func sigmoidF64[T Float](e *Elements[T]) float64 {
	var a elemArgs64
	frame(as[float64](e), &a.x, &a.t, &a.w, &a.q, &a.g, &a.h, &a.grad, &a.loss, &a.n, &a.ws, &a.qs, &a.gs, &a.s, &a.rows)
	if avx512() {
		return sigmoidF64AVX512(&a)
	}
	return sigmoidF64AVX2(&a)
}

func sigmoidFocalF32[T Float](e *Elements[T], alpha float64, gamma int) float64 {
	var a elemArgs
	frame(as[float32](e), &a.x, &a.t, &a.w, &a.q, &a.g, &a.h, &a.grad, &a.loss, &a.n, &a.ws, &a.qs, &a.gs, &a.s, &a.rows)
	a1, a2 := focalConstants(alpha)
	a.a1, a.a2, a.gamma = float32(a1), float32(a2), gamma
	if avx512() {
		return sigmoidFocalAVX512(&a)
	}
	return sigmoidFocalAVX2(&a)
}

func sigmoidFocalF64[T Float](e *Elements[T], alpha float64, gamma int) float64 {
	var a elemArgs64
	frame(as[float64](e), &a.x, &a.t, &a.w, &a.q, &a.g, &a.h, &a.grad, &a.loss, &a.n, &a.ws, &a.qs, &a.gs, &a.s, &a.rows)
	a.a1, a.a2 = focalConstants(alpha)
	a.gamma = gamma
	if avx512() {
		return sigmoidFocalF64AVX512(&a)
	}
	return sigmoidFocalF64AVX2(&a)
}

func fillRowsF32(dst, s []float32, c int, ws float32) {
	if avx512() {
		fillRowsAVX512(unsafe.SliceData(dst), s, c, ws)
		return
	}
	fillRowsAVX2(unsafe.SliceData(dst), s, c, ws)
}

func fillRowsF64(dst, s []float64, c int, ws float64) {
	if avx512() {
		fillRowsF64AVX512(unsafe.SliceData(dst), s, c, ws)
		return
	}
	fillRowsF64AVX2(unsafe.SliceData(dst), s, c, ws)
}

func logF64(dst, x []float64) {
	if avx512() {
		logF64AVX512(dst, x)
		return
	}
	logF64AVX2(dst, x)
}
