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

func dotF32(u, v []float32) float64 {
	if u == nil {
		return sumAVX512(v)
	}
	return dotAVX512(u[:len(v)], v)
}

// elemArgs is the frame of the element kernels; _gen/gen.go reads it at
// fixed offsets (argX … argGamma), which TestElemArgsLayout pins.
type elemArgs struct {
	x, t, w, q, g, h, grad, loss             *float32
	n                                        int
	wInc, qInc, gInc, hInc, gradInc, lossInc int
	a1, a2                                   float32
	gamma                                    int
}

// lane16 is one vector of a broadcast scalar, read with step 0.
type lane16 [16]float32

func fill(v float32) (l lane16) {
	for i := range l {
		l[i] = v
	}
	return l
}

// operand points a at v's data with a step of one vector, or, when v is
// nil, at the broadcast scalar rep with a step of 0.
func operand(v []float32, rep *lane16) (*float32, int) {
	if v == nil {
		return &rep[0], 0
	}
	return unsafe.SliceData(v), 64
}

// frame fills the element-kernel frame for e (float32 only).
func frame[T Float](e *Elements[T], a *elemArgs, reps *[5]lane16) {
	a.x, a.t = unsafe.SliceData(f32s(e.X)), unsafe.SliceData(f32s(e.T))
	a.n = len(e.X)
	reps[0], reps[1], reps[2], reps[3] = fill(float32(e.WS)), fill(float32(e.QS)), fill(float32(e.GS)), fill(1)
	a.w, a.wInc = operand(f32s(e.W), &reps[0])
	a.q, a.qInc = operand(f32s(e.Q), &reps[1])
	a.g, a.gInc = operand(f32s(e.G), &reps[2])
	a.h, a.hInc = operand(f32s(e.G), &reps[3]) // the sum's weight: g, or 1
	a.grad, a.gradInc = operand(f32s(e.Grad), &reps[4])
	a.loss, a.lossInc = operand(f32s(e.Losses), &reps[4])
}

func sigmoidF32[T Float](e *Elements[T]) float64 {
	var a elemArgs
	var reps [5]lane16
	frame(e, &a, &reps)
	return sigmoidAVX512(uintptr(unsafe.Pointer(&a)))
}

func sigmoidFocalF32[T Float](e *Elements[T], alpha float64, gamma int) float64 {
	var a elemArgs
	var reps [5]lane16
	frame(e, &a, &reps)
	a.a1, a.a2 = 1, 0 // α_t = 1 when α < 0
	if alpha >= 0 {
		a.a1, a.a2 = float32(1-alpha), float32(2*alpha-1) // α·t + (1−α)(1−t)
	}
	a.gamma = gamma
	return sigmoidFocalAVX512(uintptr(unsafe.Pointer(&a)))
}
