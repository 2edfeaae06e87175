//go:build amd64 && !noasm

package kernel

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

//go:generate sh -c "cd _gen && go run . -out ../kernel_amd64.s -stubs ../kernel_amd64_stubs.go -pkg kernel"

// detect chooses the fastest path this CPU runs. The tail masks need BMI2
// (SHLX), the kernels FMA; XNNPACK-style exp needs AVX-512 F, and the
// float64 sums the DQ conversions.
func detect() Path {
	x := cpu.X86
	if x.HasAVX512F && x.HasAVX512DQ && x.HasAVX512VL && x.HasFMA && x.HasBMI2 {
		return AVX512
	}
	return Go
}

func maxF32(x []float32) float32 { return maxAVX512(x) }

func expShiftSumF32(dst, x []float32, m float32) float64 {
	if dst == nil {
		return expShiftSumNoStoreAVX512(x, m)
	}
	return expShiftSumAVX512(dst[:len(x)], x, m)
}

func scaleAddF32(dst []float32, a float32, u []float32, b, c float32) {
	if u == nil {
		scaleAddConstAVX512(dst, a, c)
		return
	}
	u = u[:len(dst)]
	scaleAddAVX512(dst, a, unsafe.SliceData(u), b, c)
}

func firstOutsideF32(x []float32, lo, hi float32) int { return firstOutsideAVX512(x, lo, hi) }

func dotF32(u, v []float32) float64 {
	if u == nil {
		return sumAVX512(v)
	}
	return dotAVX512(u[:len(v)], v)
}

// elemArgs is the frame of the element kernels; _gen/gen.go reads it at
// fixed offsets (argX … argLanes), which TestElemArgsLayout pins. A nil
// optional operand is pointed, by the kernel, at its lane below, which
// holds its scalar (or, for an output, takes the values nobody wants).
type elemArgs struct {
	x, t, w, q, g, h, grad, loss             *float32
	n                                        int
	wInc, qInc, gInc, hInc, gradInc, lossInc int // set by the kernel
	a1, a2                                   float32
	gamma                                    int
	lanes                                    [5]lane16 // w, q, g, h, sink
}

// lane16 is one vector of a broadcast scalar.
type lane16 [16]float32

func fill(v float32) (l lane16) {
	for i := range l {
		l[i] = v
	}
	return l
}

// frame fills the element-kernel frame for e: only pointers to the
// caller's data, so that a stays on the stack.
func frame(e *Elements[float32], a *elemArgs) {
	a.x, a.t = unsafe.SliceData(e.X), unsafe.SliceData(e.T)
	a.n = len(e.X)
	a.w, a.q, a.g, a.h = unsafe.SliceData(e.W), unsafe.SliceData(e.Q), unsafe.SliceData(e.G), unsafe.SliceData(e.G)
	a.grad, a.loss = unsafe.SliceData(e.Grad), unsafe.SliceData(e.Losses)
	a.lanes[0], a.lanes[1], a.lanes[2], a.lanes[3] = fill(e.WS), fill(e.QS), fill(e.GS), fill(1) // h: the sum's weight, g or 1
}

// as32 views Elements of a float32 type as Elements[float32]: the same
// memory layout.
func as32[T Float](e *Elements[T]) *Elements[float32] {
	return (*Elements[float32])(unsafe.Pointer(e))
}

func sigmoidF32[T Float](e *Elements[T]) float64 {
	var a elemArgs
	frame(as32(e), &a)
	return sigmoidAVX512((*uint8)(unsafe.Pointer(&a)))
}

func sigmoidFocalF32[T Float](e *Elements[T], alpha float64, gamma int) float64 {
	var a elemArgs
	frame(as32(e), &a)
	a.a1, a.a2 = 1, 0 // α_t = 1 when α < 0
	if alpha >= 0 {
		a.a1, a.a2 = float32(1-alpha), float32(2*alpha-1) // α·t + (1−α)(1−t)
	}
	a.gamma = gamma
	return sigmoidFocalAVX512((*uint8)(unsafe.Pointer(&a)))
}
