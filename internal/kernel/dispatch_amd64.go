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

// Each kernel has one dispatch point below, its On function: the active
// path and the element type pick the assembly, and the Go path runs the
// kernel's reference loop. dispatch_noasm.go has the same functions, each
// its reference loop. is32[T]() is a constant of each instantiation.

func maxOn[T Float](x []T) T {
	switch {
	case active == Go:
		return maxGo(x)
	case is32[T]() && active == AVX512:
		return T(maxAVX512(f32s(x)))
	case is32[T]():
		return T(maxAVX2(f32s(x)))
	case active == AVX512:
		return T(maxF64AVX512(f64s(x)))
	}
	return T(maxF64AVX2(f64s(x)))
}

func expShiftSumOn[T Float](dst, x []T, m T) float64 {
	if active == Go {
		return expShiftSumGo(dst, x, m)
	}
	if is32[T]() {
		x, m := f32s(x), float32(m)
		switch {
		case dst == nil && active == AVX512:
			return expShiftSumNoStoreAVX512(x, m)
		case dst == nil:
			return expShiftSumNoStoreAVX2(x, m)
		case active == AVX512:
			return expShiftSumAVX512(f32s(dst[:len(x)]), x, m)
		}
		return expShiftSumAVX2(f32s(dst[:len(x)]), x, m)
	}
	x64, m64 := f64s(x), float64(m)
	switch {
	case dst == nil && active == AVX512:
		return expShiftSumNoStoreF64AVX512(x64, m64)
	case dst == nil:
		return expShiftSumNoStoreF64AVX2(x64, m64)
	case active == AVX512:
		return expShiftSumF64AVX512(f64s(dst[:len(x)]), x64, m64)
	}
	return expShiftSumF64AVX2(f64s(dst[:len(x)]), x64, m64)
}

func scaleAddOn[T Float](dst []T, a T, u []T, b, c T) {
	if active == Go {
		scaleAddGo(dst, a, u, b, c)
		return
	}
	if is32[T]() {
		d, a, b, c := f32s(dst), float32(a), float32(b), float32(c)
		switch {
		case u == nil && active == AVX512:
			scaleAddConstAVX512(d, a, c)
		case u == nil:
			scaleAddConstAVX2(d, a, c)
		case active == AVX512:
			scaleAddAVX512(d, a, unsafe.SliceData(f32s(u[:len(dst)])), b, c)
		default:
			scaleAddAVX2(d, a, unsafe.SliceData(f32s(u[:len(dst)])), b, c)
		}
		return
	}
	d, a64, b64, c64 := f64s(dst), float64(a), float64(b), float64(c)
	switch {
	case u == nil && active == AVX512:
		scaleAddConstF64AVX512(d, a64, c64)
	case u == nil:
		scaleAddConstF64AVX2(d, a64, c64)
	case active == AVX512:
		scaleAddF64AVX512(d, a64, unsafe.SliceData(f64s(u[:len(dst)])), b64, c64)
	default:
		scaleAddF64AVX2(d, a64, unsafe.SliceData(f64s(u[:len(dst)])), b64, c64)
	}
}

func maxDotOn[T Float](x, u []T) (T, float64, float64) {
	switch {
	case active == Go:
		return maxDotGo(x, u)
	case is32[T]() && active == AVX512:
		m, su, sux := maxDotAVX512(f32s(x), f32s(u))
		return T(m), su, sux
	case is32[T]():
		m, su, sux := maxDotAVX2(f32s(x), f32s(u))
		return T(m), su, sux
	case active == AVX512:
		m, su, sux := maxDotF64AVX512(f64s(x), f64s(u))
		return T(m), su, sux
	}
	m, su, sux := maxDotF64AVX2(f64s(x), f64s(u))
	return T(m), su, sux
}

func dotOn[T Float](u, v []T) float64 {
	switch {
	case active == Go:
		return dotGo(u, v)
	case is32[T]() && u == nil && active == AVX512:
		return sumAVX512(f32s(v))
	case is32[T]() && u == nil:
		return sumAVX2(f32s(v))
	case is32[T]() && active == AVX512:
		return dotAVX512(f32s(u[:len(v)]), f32s(v))
	case is32[T]():
		return dotAVX2(f32s(u[:len(v)]), f32s(v))
	case u == nil && active == AVX512:
		return sumF64AVX512(f64s(v))
	case u == nil:
		return sumF64AVX2(f64s(v))
	case active == AVX512:
		return dotF64AVX512(f64s(u[:len(v)]), f64s(v))
	}
	return dotF64AVX2(f64s(u[:len(v)]), f64s(v))
}

func firstOutsideOn[T Float](x []T, lo, hi T) int {
	switch {
	case active == Go:
		return firstOutsideGo(x, lo, hi)
	case is32[T]() && active == AVX512:
		return firstOutsideAVX512(f32s(x), float32(lo), float32(hi))
	case is32[T]():
		return firstOutsideAVX2(f32s(x), float32(lo), float32(hi))
	case active == AVX512:
		return firstOutsideF64AVX512(f64s(x), float64(lo), float64(hi))
	}
	return firstOutsideF64AVX2(f64s(x), float64(lo), float64(hi))
}

// gemmTileOn is the GEMM micro-kernel's tile: the assembly's for float32,
// the Go loop's 4×8 otherwise.
func gemmTileOn[T Float]() (mr, nr int) {
	switch {
	case active == Go || !is32[T]():
		return 4, 8
	case active == AVX512:
		return 8, 32
	}
	return 6, 16
}

// gemmKernelOn takes k ≥ 1.
func gemmKernelOn[T Float](k int, a, b, c []T, ldc int, add bool) {
	switch {
	case active == Go || !is32[T]():
		gemmKernelGo(k, a, b, c, ldc, add)
	case active == AVX512:
		gemmKernelAVX512(k, unsafe.SliceData(f32s(a)), unsafe.SliceData(f32s(b)), unsafe.SliceData(f32s(c)), ldc, add)
	default:
		gemmKernelAVX2(k, unsafe.SliceData(f32s(a)), unsafe.SliceData(f32s(b)), unsafe.SliceData(f32s(c)), ldc, add)
	}
}

// softmaxRowsOn takes c ≥ 1. The float32 kernels take their scales and
// maxima as float32.
func softmaxRowsOn[T Float](x, grad []T, c int, ys []int64, scales, ms, ss []float64, poly float64) {
	if active == Go {
		softmaxRowsGo(x, grad, c, ys, scales, ms, ss, poly)
		return
	}
	if !is32[T]() {
		x, grad := unsafe.SliceData(f64s(x)), unsafe.SliceData(f64s(grad))
		if active == AVX512 {
			softmaxRowsF64AVX512(x, grad, c, ys, scales, ms, ss, poly)
		} else {
			softmaxRowsF64AVX2(x, grad, c, ys, scales, ms, ss, poly)
		}
		return
	}
	var sc, m [SoftmaxRowsBatch]float32
	rows := len(ys)
	for r, v := range scales {
		sc[r] = float32(v)
	}
	xp, gp := unsafe.SliceData(f32s(x)), unsafe.SliceData(f32s(grad))
	switch {
	case active == AVX512 && smallRowsFaster(c, ys):
		t := &smallRowTables[c]
		softmaxRowsSmallAVX512(xp, gp, c, ys, sc[:rows], m[:rows], ss, poly, &t.in[0], &t.out[0][0])
	case active == AVX512:
		softmaxRowsAVX512(xp, gp, c, ys, sc[:rows], m[:rows], ss, poly)
	default:
		softmaxRowsAVX2(xp, gp, c, ys, sc[:rows], m[:rows], ss, poly)
	}
	for r, y := range ys {
		if y >= 0 {
			ms[r] = float64(m[r])
		}
	}
}

// smallRowClasses is the most classes of the rows the small-row kernel
// (genSoftmaxRowsSmall: 16 rows at a time, one lane a row) takes.
const smallRowClasses = 16

// smallRowsFaster reports whether the small-row kernel is the faster for
// a batch of rows of c classes with targets ys: c ≤ 8 and at most a
// fraction (9 − c)/12 of the rows ignored. Its 16-lane gathers cost most
// of its time, and it computes ignored rows' lanes too, which the row
// kernel skips. On an AMD EPYC (Zen 4, family 25 model 17), 64-row
// batches, all rows counted, it took 0.43× the row kernel's time at c = 3,
// 0.59× at 5, 0.70× at 6, 0.79× at 7, 0.79–0.87× at 8 and 0.99–1.09× at 9
// and 10; the fraction of ignored rows at which the two take the same time
// was about 0.5 at c = 3, 0.45 at 5, 0.25 at 6, 0.2 at 7 and 0.1 at 8.
func smallRowsFaster(c int, ys []int64) bool {
	if c > 8 {
		return false
	}
	ignored := 0
	for _, y := range ys {
		if y < 0 {
			ignored++
		}
	}
	return 12*ignored <= (9-c)*len(ys)
}

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

// softmaxRowsStreamOn runs rows that all count (ys[r] ≥ 0) through the
// streaming kernel, AVX-512's only, then writes each target's gradient:
// after the kernel's SFENCE, so that the ordinary store lands after the
// non-temporal ones.
func softmaxRowsStreamOn[T Float](x, grad []T, c int, ys []int64, scales, ms, ss []float64) {
	rows := len(ys)
	if !is32[T]() {
		var fix [SoftmaxRowsBatch]float64
		g := f64s(grad)
		buf := getScratch(c)
		softmaxRowsStreamF64AVX512(unsafe.SliceData(f64s(x)), unsafe.SliceData(g), unsafe.SliceData(buf),
			c, ys, scales, ms, fix[:rows], ss)
		putScratch(buf)
		for r, y := range ys {
			g[r*c+int(y)] = fix[r]
		}
		return
	}
	var sc, m, fix [SoftmaxRowsBatch]float32
	for r, v := range scales {
		sc[r] = float32(v)
	}
	g := f32s(grad)
	buf := getScratch((c + 1) / 2) // c float32
	softmaxRowsStreamAVX512(unsafe.SliceData(f32s(x)), unsafe.SliceData(g), (*float32)(unsafe.Pointer(unsafe.SliceData(buf))),
		c, ys, sc[:rows], m[:rows], fix[:rows], ss)
	putScratch(buf)
	for r, y := range ys {
		ms[r] = float64(m[r])
		g[r*c+int(y)] = fix[r]
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

func sigmoidOn[T Float](e *Elements[T]) float64 {
	switch {
	case active == Go:
		return sigmoidGo(e)
	case is32[T]():
		var a elemArgs
		frame(as[float32](e), &a.x, &a.t, &a.w, &a.q, &a.g, &a.h, &a.grad, &a.loss, &a.n, &a.ws, &a.qs, &a.gs, &a.s, &a.rows)
		if active == AVX512 {
			return sigmoidAVX512(&a)
		}
		return sigmoidAVX2(&a)
	}
	var a elemArgs64
	frame(as[float64](e), &a.x, &a.t, &a.w, &a.q, &a.g, &a.h, &a.grad, &a.loss, &a.n, &a.ws, &a.qs, &a.gs, &a.s, &a.rows)
	if active == AVX512 {
		return sigmoidF64AVX512(&a)
	}
	return sigmoidF64AVX2(&a)
}

// sigmoidFocalOn takes a whole γ ≤ maxIntegerGamma.
func sigmoidFocalOn[T Float](e *Elements[T], alpha float64, gamma int) float64 {
	a1, a2 := focalConstants(alpha)
	switch {
	case active == Go:
		return sigmoidFocalGo(e, alpha, float64(gamma))
	case is32[T]():
		var a elemArgs
		frame(as[float32](e), &a.x, &a.t, &a.w, &a.q, &a.g, &a.h, &a.grad, &a.loss, &a.n, &a.ws, &a.qs, &a.gs, &a.s, &a.rows)
		a.a1, a.a2, a.gamma = float32(a1), float32(a2), gamma
		if active == AVX512 {
			return sigmoidFocalAVX512(&a)
		}
		return sigmoidFocalAVX2(&a)
	}
	var a elemArgs64
	frame(as[float64](e), &a.x, &a.t, &a.w, &a.q, &a.g, &a.h, &a.grad, &a.loss, &a.n, &a.ws, &a.qs, &a.gs, &a.s, &a.rows)
	a.a1, a.a2, a.gamma = a1, a2, gamma
	if active == AVX512 {
		return sigmoidFocalF64AVX512(&a)
	}
	return sigmoidFocalF64AVX2(&a)
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

// asymmetricOn takes whole γ+ and γ− ≤ maxIntegerGamma and m = 0 or
// m ≥ 2⁻¹⁰⁰.
func asymmetricOn[T Float](e *Elements[T], p AsymmetricParams) float64 {
	switch {
	case active == Go:
		return asymmetricGo(e, p)
	case is32[T]():
		var a elemArgs
		frame(as[float32](e), &a.x, &a.t, &a.w, &a.q, &a.g, &a.h, &a.grad, &a.loss, &a.n, &a.ws, &a.qs, &a.gs, &a.s, &a.rows)
		a.a1, a.gamma, a.gamma2, a.mode = float32(p.Clip), int(p.GammaNeg), int(p.GammaPos), asymmetricMode(p)
		if active == AVX512 {
			return asymmetricAVX512(&a)
		}
		return asymmetricAVX2(&a)
	}
	var a elemArgs64
	frame(as[float64](e), &a.x, &a.t, &a.w, &a.q, &a.g, &a.h, &a.grad, &a.loss, &a.n, &a.ws, &a.qs, &a.gs, &a.s, &a.rows)
	a.a1, a.gamma, a.gamma2, a.mode = p.Clip, int(p.GammaNeg), int(p.GammaPos), asymmetricMode(p)
	if active == AVX512 {
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

// fillRowsOn takes c ≥ 1.
func fillRowsOn[T Float](dst, s []T, c int, ws T) {
	switch {
	case active == Go:
		fillRowsGo(dst, s, c, ws)
	case is32[T]() && active == AVX512:
		fillRowsAVX512(unsafe.SliceData(f32s(dst)), f32s(s), c, float32(ws))
	case is32[T]():
		fillRowsAVX2(unsafe.SliceData(f32s(dst)), f32s(s), c, float32(ws))
	case active == AVX512:
		fillRowsF64AVX512(unsafe.SliceData(f64s(dst)), f64s(s), c, float64(ws))
	default:
		fillRowsF64AVX2(unsafe.SliceData(f64s(dst)), f64s(s), c, float64(ws))
	}
}

func logOn(dst, x []float64) {
	switch active {
	case Go:
		logGo(dst, x)
	case AVX512:
		logF64AVX512(dst, x)
	default:
		logF64AVX2(dst, x)
	}
}
