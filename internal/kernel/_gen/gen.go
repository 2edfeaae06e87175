// Command gen writes xent's amd64 kernels with avo:
//
//	cd internal/kernel/_gen && go run . -out ../kernel_amd64.s -stubs ../kernel_amd64_stubs.go -pkg kernel
//
// (go generate ./internal/kernel does the same). Every kernel processes
// whole vectors of 16 float32 lanes and a masked tail, so it needs no
// scalar code; internal/kernel documents each one by its Go reference loop.
package main

import (
	"fmt"
	"math"

	"github.com/mmcloughlin/avo/gotypes"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

func main() {
	ConstraintExpr("!noasm") // amd64 from the file names

	genMax()
	genExpShiftSum(true)
	genExpShiftSum(false)
	genScaleAdd(true)
	genScaleAdd(false)
	genDot(true)
	genDot(false)
	genFirstOutside()
	genElements("sigmoidAVX512", sigmoidBody)
	genElements("sigmoidFocalAVX512", focalBody)
	Generate()
}

// Predicates of VCMPPS.
const (
	cmpEQ = 0x00 // ordered, quiet: false for NaN
	cmpLE = 0x12 // ordered, quiet
	cmpGE = 0x1D // ordered, quiet
)

func genFirstOutside() {
	TEXT("firstOutsideAVX512", NOSPLIT, "func(x []float32, lo, hi float32) int")
	Pragma("noescape")
	Doc("firstOutsideAVX512 returns the index of the first x_i outside [lo, hi] (NaN is outside), or −1.")
	p := Load(Param("x").Base(), GP64())
	n := GP64()
	Load(Param("x").Len(), n)
	lo, hi := ZMM(), ZMM()
	VBROADCASTSS(addr(Param("lo")), lo)
	VBROADCASTSS(addr(Param("hi")), hi)
	i, bad := GP64(), GP64()
	XORQ(i, i)
	v, ge, in := ZMM(), K(), K()

	Label("loop")
	CMPQ(n, U8(16))
	JL(LabelRef("tail"))
	VMOVUPS(Mem{Base: p}, v)
	VCMPPS(U8(cmpGE), lo, v, ge)
	VCMPPS(U8(cmpLE), hi, v, ge, in) // lo ≤ v ≤ hi
	KMOVW(in, bad.As32())
	NOTL(bad.As32())
	ANDL(U32(0xFFFF), bad.As32()) // lanes out of range
	JNZ(LabelRef("found"))
	ADDQ(U8(64), p)
	ADDQ(U8(16), i)
	SUBQ(U8(16), n)
	JMP(LabelRef("loop"))

	Label("tail")
	TESTQ(n, n)
	JZ(LabelRef("none"))
	k := K()
	tailMask(n, k)
	VMOVUPS_Z(Mem{Base: p}, k, v)
	VCMPPS(U8(cmpGE), lo, v, k, ge)
	VCMPPS(U8(cmpLE), hi, v, ge, in)
	all := GP32()
	KMOVW(in, bad.As32())
	KMOVW(k, all)
	XORL(all, bad.As32()) // tail lanes out of range
	JNZ(LabelRef("found"))

	Label("none")
	MOVQ(I32(-1), i)
	Store(i, ReturnIndex(0))
	VZEROUPPER()
	RET()

	Label("found")
	TZCNTL(bad.As32(), bad.As32())
	ADDQ(bad, i)
	Store(i, ReturnIndex(0))
	VZEROUPPER()
	RET()
}

// addr returns the frame address of an argument.
func addr(c gotypes.Component) Mem {
	b, err := c.Resolve()
	if err != nil {
		panic(err)
	}
	return b.Addr
}

// constants memoizes the read-only data, one symbol per name.
var constants = map[string]Mem{}

// constF32 returns the address of a float32 constant, stored by its bits
// (the assembler reads no Inf or NaN literal).
func constF32(name string, v float32) Mem {
	if m, ok := constants[name]; ok {
		return m
	}
	m := ConstData(name, U32(math.Float32bits(v)))
	constants[name] = m
	return m
}

// broadcast returns a register holding v in every lane.
func broadcast(name string, v float32) VecVirtual {
	r := ZMM()
	VBROADCASTSS(constF32(name, v), r)
	return r
}

// tailMask sets k to the low n bits (0 < n < 16).
func tailMask(n GPVirtual, k Register) {
	one, bits := GP32(), GP32()
	MOVL(U32(1), one)
	SHLXL(n.As32(), one, bits)
	DECL(bits)
	KMOVW(bits, k)
}

// loop16 emits the loop over n elements: body(mem offset register?, mask)
// is called twice, for full vectors (mask nil) and for the masked tail.
// advance moves the pointers one vector on.
func loop16(n GPVirtual, body func(k Register), advance func()) {
	Label("loop")
	CMPQ(n, U8(16))
	JL(LabelRef("tail"))
	body(nil)
	advance()
	SUBQ(U8(16), n)
	JMP(LabelRef("loop"))

	Label("tail")
	TESTQ(n, n)
	JZ(LabelRef("done"))
	k := K()
	tailMask(n, k)
	body(k)
	Label("done")
}

// load reads 16 lanes at m into r, the inactive lanes of k zeroed.
func load(m Mem, k Register, r VecVirtual) {
	if k == nil {
		VMOVUPS(m, r)
	} else {
		VMOVUPS_Z(m, k, r)
	}
}

func storeVec(r VecVirtual, k Register, m Mem) {
	if k == nil {
		VMOVUPS(r, m)
	} else {
		VMOVUPS(r, k, m)
	}
}

// addToF64 adds the 16 float32 lanes of v to the float64 accumulators lo
// and hi (8 lanes each).
func addToF64(v VecVirtual, lo, hi VecVirtual) {
	a, b := ZMM(), ZMM()
	VCVTPS2PD(v.AsY(), a)
	VEXTRACTF32X8(U8(1), v, b.AsY())
	VCVTPS2PD(b.AsY(), b)
	VADDPD(a, lo, lo)
	VADDPD(b, hi, hi)
}

// reduceF64 sums the 16 float64 lanes of lo and hi, in a fixed order, into
// the low lane of an X register it returns.
func reduceF64(lo, hi VecVirtual) VecVirtual {
	VADDPD(hi, lo, lo)
	y := ZMM()
	VEXTRACTF64X4(U8(1), lo, y.AsY())
	VADDPD(y.AsY(), lo.AsY(), y.AsY())
	x := ZMM()
	VEXTRACTF128(U8(1), y.AsY(), x.AsX())
	VADDPD(x.AsX(), y.AsX(), x.AsX())
	s := ZMM()
	VPERMILPD(U8(1), x.AsX(), s.AsX())
	VADDSD(s.AsX(), x.AsX(), x.AsX())
	return x
}

func genMax() {
	TEXT("maxAVX512", NOSPLIT, "func(x []float32) float32")
	Pragma("noescape")
	Doc("maxAVX512 returns max_i x_i, or −Inf for an empty x.")
	p := Load(Param("x").Base(), GP64())
	n := GP64()
	Load(Param("x").Len(), n)
	acc := broadcast("negInf", float32(math.Inf(-1)))
	loop16(n, func(k Register) {
		v := ZMM()
		if k == nil {
			VMAXPS(Mem{Base: p}, acc, acc)
			return
		}
		VMOVAPS(acc, v)
		VMOVUPS(Mem{Base: p}, k, v) // inactive lanes stay −Inf
		VMAXPS(v, acc, acc)
	}, func() { ADDQ(U8(64), p) })
	y := ZMM()
	VEXTRACTF32X8(U8(1), acc, y.AsY())
	VMAXPS(y.AsY(), acc.AsY(), y.AsY())
	x := ZMM()
	VEXTRACTF128(U8(1), y.AsY(), x.AsX())
	VMAXPS(x.AsX(), y.AsX(), x.AsX())
	s := ZMM()
	VPERMILPS(U8(0x4E), x.AsX(), s.AsX())
	VMAXPS(s.AsX(), x.AsX(), x.AsX())
	VPERMILPS(U8(0xB1), x.AsX(), s.AsX())
	VMAXPS(s.AsX(), x.AsX(), x.AsX())
	Store(x.AsX(), ReturnIndex(0))
	VZEROUPPER()
	RET()
}

// expConsts are the constants of exp: the clamp in a register, the others
// as broadcast memory operands.
type expConsts struct {
	min                                         VecVirtual
	log2e, ln2hi, ln2lo, c0, c1, c2, c3, c4, c5 Mem
}

func newExpConsts() expConsts {
	return expConsts{
		// Below −103.97, e^x underflows float32 even as a subnormal; the
		// clamp turns −Inf into a 0 result instead of NaN.
		min:   broadcast("expMin", -104),
		log2e: constF32("log2e", (math.Float32frombits(0x3FB8AA3B))),       // 0x1.715476p+0
		ln2hi: constF32("minusLn2Hi", (-math.Float32frombits(0x3F317218))), // −0x1.62E43p-1
		ln2lo: constF32("minusLn2Lo", (math.Float32frombits(0x3102E308))),  // 0x1.05C61p-29
		c0:    constF32("one", (1)),
		c1:    constF32("expC1", (math.Float32frombits(0x3F7FFFFB))), // 0x1.FFFFF6p-1
		c2:    constF32("expC2", (math.Float32frombits(0x3EFFFEE3))), // 0x1.FFFDC6p-2
		c3:    constF32("expC3", (math.Float32frombits(0x3E2AAD40))), // 0x1.555A80p-3
		c4:    constF32("expC4", (math.Float32frombits(0x3D2B9D0D))), // 0x1.573A1Ap-5
		c5:    constF32("expC5", (math.Float32frombits(0x3C07CFCE))), // 0x1.0F9F9Cp-7
	}
}

// exp sets out = e^z for z ≤ 0 (XNNPACK's p5 with scalef): n = round(z·log2e),
// r = z − n·ln2 in two steps, e^r by a degree-5 polynomial, times 2^n.
// A NaN z gives NaN.
func (c expConsts) exp(z, out VecVirtual) {
	zc, n, r := ZMM(), ZMM(), ZMM()
	VMAXPS(z, c.min, zc) // z is Intel's second source: max returns it when NaN
	VMULPS_BCST(c.log2e, zc, n)
	VRNDSCALEPS(U8(0), n, n)
	VMOVAPS(zc, r)
	VFMADD231PS_BCST(c.ln2hi, n, r)
	VFMADD231PS_BCST(c.ln2lo, n, r)
	VBROADCASTSS(c.c5, out)
	VFMADD213PS_BCST(c.c4, r, out)
	VFMADD213PS_BCST(c.c3, r, out)
	VFMADD213PS_BCST(c.c2, r, out)
	VFMADD213PS_BCST(c.c1, r, out)
	VFMADD213PS_BCST(c.c0, r, out)
	VSCALEFPS(n, out, out)
}

func genExpShiftSum(stores bool) {
	if stores {
		TEXT("expShiftSumAVX512", NOSPLIT, "func(dst, x []float32, m float32) float64")
		Doc("expShiftSumAVX512 stores dst_i = exp(x_i − m) and returns their sum in float64.")
	} else {
		TEXT("expShiftSumNoStoreAVX512", NOSPLIT, "func(x []float32, m float32) float64")
		Doc("expShiftSumNoStoreAVX512 returns Σ exp(x_i − m) in float64.")
	}
	Pragma("noescape")
	var d Register
	if stores {
		d = Load(Param("dst").Base(), GP64())
	}
	p := Load(Param("x").Base(), GP64())
	n := GP64()
	Load(Param("x").Len(), n)
	m := ZMM()
	VBROADCASTSS(addr(Param("m")), m)
	c := newExpConsts()
	lo, hi := ZMM(), ZMM()
	VXORPD(lo, lo, lo)
	VXORPD(hi, hi, hi)
	loop16(n, func(k Register) {
		x, e := ZMM(), ZMM()
		load(Mem{Base: p}, k, x)
		VSUBPS(m, x, x)
		c.exp(x, e)
		if k != nil {
			VMOVAPS_Z(e, k, e)
		}
		if stores {
			storeVec(e, k, Mem{Base: d})
		}
		addToF64(e, lo, hi)
	}, func() {
		ADDQ(U8(64), p)
		if stores {
			ADDQ(U8(64), d)
		}
	})
	Store(reduceF64(lo, hi).AsX(), ReturnIndex(0))
	VZEROUPPER()
	RET()
}

func genScaleAdd(withU bool) {
	if withU {
		TEXT("scaleAddAVX512", NOSPLIT, "func(dst []float32, a float32, u *float32, b, c float32)")
		Doc("scaleAddAVX512 sets dst_i = a·dst_i + b·u_i + c.")
	} else {
		TEXT("scaleAddConstAVX512", NOSPLIT, "func(dst []float32, a, c float32)")
		Doc("scaleAddConstAVX512 sets dst_i = a·dst_i + c.")
	}
	Pragma("noescape")
	d := Load(Param("dst").Base(), GP64())
	n := GP64()
	Load(Param("dst").Len(), n)
	a, cc := ZMM(), ZMM()
	VBROADCASTSS(addr(Param("a")), a)
	VBROADCASTSS(addr(Param("c")), cc)
	var u Register
	b := ZMM()
	if withU {
		u = Load(Param("u"), GP64())
		VBROADCASTSS(addr(Param("b")), b)
	}
	loop16(n, func(k Register) {
		v := ZMM()
		load(Mem{Base: d}, k, v)
		VFMADD213PS(cc, a, v) // v = a·v + c
		if withU {
			w := ZMM()
			load(Mem{Base: u}, k, w)
			VFMADD231PS(w, b, v) // v += b·u
		}
		storeVec(v, k, Mem{Base: d})
	}, func() {
		ADDQ(U8(64), d)
		if withU {
			ADDQ(U8(64), u)
		}
	})
	VZEROUPPER()
	RET()
}

func genDot(withU bool) {
	if withU {
		TEXT("dotAVX512", NOSPLIT, "func(u, v []float32) float64")
		Doc("dotAVX512 returns Σ u_i·v_i, multiplied and summed in float64 (len(u) ≥ len(v)).")
	} else {
		TEXT("sumAVX512", NOSPLIT, "func(v []float32) float64")
		Doc("sumAVX512 returns Σ v_i in float64.")
	}
	Pragma("noescape")
	var u Register
	if withU {
		u = Load(Param("u").Base(), GP64())
	}
	p := Load(Param("v").Base(), GP64())
	n := GP64()
	Load(Param("v").Len(), n)
	lo, hi := ZMM(), ZMM()
	VXORPD(lo, lo, lo)
	VXORPD(hi, hi, hi)
	loop16(n, func(k Register) {
		v := ZMM()
		load(Mem{Base: p}, k, v)
		if !withU {
			addToF64(v, lo, hi)
			return
		}
		w := ZMM()
		load(Mem{Base: u}, k, w)
		a, b, c, e := ZMM(), ZMM(), ZMM(), ZMM()
		VCVTPS2PD(v.AsY(), a)
		VCVTPS2PD(w.AsY(), b)
		VFMADD231PD(a, b, lo)
		VEXTRACTF32X8(U8(1), v, c.AsY())
		VEXTRACTF32X8(U8(1), w, e.AsY())
		VCVTPS2PD(c.AsY(), c)
		VCVTPS2PD(e.AsY(), e)
		VFMADD231PD(c, e, hi)
	}, func() {
		ADDQ(U8(64), p)
		if withU {
			ADDQ(U8(64), u)
		}
	})
	Store(reduceF64(lo, hi).AsX(), ReturnIndex(0))
	VZEROUPPER()
	RET()
}

// The element kernels take a pointer to this frame (elemArgs in
// internal/kernel): eight operand pointers, n, the byte steps of the
// operands that may be broadcast (set here: 64, or 0 for a nil pointer),
// the focal constants, then one 16-lane vector per optional operand that a
// nil pointer is pointed at (its scalar, or a sink for an output).
const (
	argX, argT, argW, argQ, argG, argH, argGrad, argLoss = 0, 8, 16, 24, 32, 40, 48, 56
	argN                                                 = 64
	argWInc, argQInc, argGInc, argHInc, argGradInc       = 72, 80, 88, 96, 104
	argLossInc                                           = 112
	argA1, argA2                                         = 120, 124
	argGamma                                             = 128
	argLanes                                             = 136 // W, Q, G, H, sink: 64 bytes each
)

// elemRegs are the registers an element kernel body works with.
type elemRegs struct {
	ptr                                     map[int]Register // operand pointers by argument offset
	x, t, w, q, g, h                        VecVirtual
	exp                                     expConsts
	one, two, zero, absMask, a1, a2, gammaN VecVirtual
	series                                  []Mem
	gamma                                   Mem
	sumLo, sumHi                            VecVirtual
}

// genElements emits an element kernel whose per-vector work is body: it
// loads x, t, w, q, g (gradient scale) and h (sum weight), and body
// returns the loss and the derivative·g to store.
func genElements(name string, body func(r *elemRegs, k Register) (loss, grad VecVirtual)) {
	TEXT(name, NOSPLIT, "func(a *uint8) float64")
	Pragma("noescape")
	args := Load(Param("a"), GP64())
	r := &elemRegs{ptr: map[int]Register{}}
	for _, off := range []int{argX, argT} {
		p := GP64()
		MOVQ(Mem{Base: args, Disp: off}, p)
		r.ptr[off] = p
	}
	// A nil optional operand reads (or writes) its lane in the frame, with
	// a step of 0.
	for i, o := range []struct{ ptr, inc, lane int }{
		{argW, argWInc, argLanes}, {argQ, argQInc, argLanes + 64}, {argG, argGInc, argLanes + 128},
		{argH, argHInc, argLanes + 192}, {argGrad, argGradInc, argLanes + 256}, {argLoss, argLossInc, argLanes + 256},
	} {
		p := GP64()
		MOVQ(Mem{Base: args, Disp: o.ptr}, p)
		set, done := fmt.Sprintf("set%d", i), fmt.Sprintf("done%d", i)
		TESTQ(p, p)
		JNZ(LabelRef(set))
		LEAQ(Mem{Base: args, Disp: o.lane}, p)
		MOVQ(U32(0), Mem{Base: args, Disp: o.inc})
		JMP(LabelRef(done))
		Label(set)
		MOVQ(U32(64), Mem{Base: args, Disp: o.inc})
		Label(done)
		r.ptr[o.ptr] = p
	}
	n := GP64()
	MOVQ(Mem{Base: args, Disp: argN}, n)
	r.a1, r.a2 = ZMM(), ZMM()
	VBROADCASTSS(Mem{Base: args, Disp: argA1}, r.a1)
	VBROADCASTSS(Mem{Base: args, Disp: argA2}, r.a2)
	r.gamma = Mem{Base: args, Disp: argGamma}
	r.gammaN = ZMM()
	CVTSQ2SS(r.gamma, r.gammaN.AsX())
	VBROADCASTSS(r.gammaN.AsX(), r.gammaN)
	r.exp = newExpConsts()
	r.one = broadcast("one", 1)
	r.two = broadcast("two", 2)
	r.zero = ZMM()
	VXORPS(r.zero, r.zero, r.zero)
	r.absMask = ZMM()
	VBROADCASTSS(constF32("absMask", math.Float32frombits(0x7FFFFFFF)), r.absMask)
	for _, d := range []float32{1.0 / 13, 1.0 / 11, 1.0 / 9, 1.0 / 7, 1.0 / 5, 1.0 / 3} {
		r.series = append(r.series, constF32("inv"+itoa(int(math.Round(float64(1/d)))), d))
	}
	r.sumLo, r.sumHi = ZMM(), ZMM()
	VXORPD(r.sumLo, r.sumLo, r.sumLo)
	VXORPD(r.sumHi, r.sumHi, r.sumHi)
	r.x, r.t, r.w, r.q, r.g, r.h = ZMM(), ZMM(), ZMM(), ZMM(), ZMM(), ZMM()

	loop16(n, func(k Register) {
		load(Mem{Base: r.ptr[argX]}, k, r.x)
		load(Mem{Base: r.ptr[argT]}, k, r.t)
		load(Mem{Base: r.ptr[argW]}, k, r.w)
		load(Mem{Base: r.ptr[argQ]}, k, r.q)
		load(Mem{Base: r.ptr[argG]}, k, r.g)
		load(Mem{Base: r.ptr[argH]}, k, r.h)
		loss, grad := body(r, k)
		storeVec(grad, k, Mem{Base: r.ptr[argGrad]})
		storeVec(loss, k, Mem{Base: r.ptr[argLoss]})
		VMULPS(r.h, loss, loss)
		if k != nil {
			VMOVAPS_Z(loss, k, loss)
		}
		addToF64(loss, r.sumLo, r.sumHi)
	}, func() {
		ADDQ(U8(64), r.ptr[argX])
		ADDQ(U8(64), r.ptr[argT])
		ADDQ(Mem{Base: args, Disp: argWInc}, r.ptr[argW])
		ADDQ(Mem{Base: args, Disp: argQInc}, r.ptr[argQ])
		ADDQ(Mem{Base: args, Disp: argGInc}, r.ptr[argG])
		ADDQ(Mem{Base: args, Disp: argHInc}, r.ptr[argH])
		ADDQ(Mem{Base: args, Disp: argGradInc}, r.ptr[argGrad])
		ADDQ(Mem{Base: args, Disp: argLossInc}, r.ptr[argLoss])
	})
	Store(reduceF64(r.sumLo, r.sumHi).AsX(), ReturnIndex(0))
	VZEROUPPER()
	RET()
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}

// reciprocal sets out = 1/d for d in [1, 3]: VRCP14PS (relative error
// below 2⁻¹⁴) and one Newton–Raphson step, r·(2 − d·r), which squares the
// error to about 2⁻²⁸, under float32's half ulp. out may be d.
func reciprocal(d, out, two VecVirtual) {
	r, t := ZMM(), ZMM()
	VRCP14PS(d, r)
	VMOVAPS(d, t)
	VFNMADD213PS(two, r, t) // 2 − d·r
	VMULPS(t, r, out)
}

// bceParts computes what both element kernels share: e = e^−|x|,
// σ(x), σ(−x), softplus(−|x|) and the mask of x ≥ 0.
func bceParts(r *elemRegs) (sx, smx, sp VecVirtual, pos Register) {
	z, e := ZMM(), ZMM()
	VANDPS(r.absMask, r.x, z)
	VSUBPS(z, r.zero, z) // −|x|
	r.exp.exp(z, e)
	d, big, small := ZMM(), ZMM(), ZMM()
	VADDPS(r.one, e, d)
	reciprocal(d, big, r.two) // σ(|x|) = 1/(1+e)
	VMULPS(e, big, small)     // σ(−|x|)
	// softplus(−|x|) = log1p(e) = 2·atanh(s), s = e/(2+e) ≤ 1/3.
	s, s2, p := ZMM(), ZMM(), ZMM()
	VADDPS(r.two, e, s)
	reciprocal(s, s, r.two)
	VMULPS(e, s, s)
	VMULPS(s, s, s2)
	VBROADCASTSS(r.series[0], p)
	for _, c := range r.series[1:] {
		VFMADD213PS_BCST(c, s2, p)
	}
	VFMADD213PS(r.one, s2, p)
	VADDPS(s, s, s)
	sp = ZMM()
	VMULPS(p, s, sp)
	pos = K()
	VCMPPS(U8(cmpGE), r.zero, r.x, pos)
	sx, smx = ZMM(), ZMM()
	VBLENDMPS(big, small, pos, sx)  // x ≥ 0 ? σ(|x|) : σ(−|x|)
	VBLENDMPS(small, big, pos, smx) // x ≥ 0 ? σ(−|x|) : σ(|x|)
	return sx, smx, sp, pos
}

// sigmoidBody: l = w·[lw·sp + (x ≥ 0 ? (1−t)·x : −q·t·x)],
// grad = w·g·[(1−t)·σ(x) − q·t·σ(−x)], lw = 1 + (q−1)·t.
func sigmoidBody(r *elemRegs, k Register) (loss, grad VecVirtual) {
	sx, smx, sp, pos := bceParts(r)
	omt, qt, lw, coef := ZMM(), ZMM(), ZMM(), ZMM()
	VSUBPS(r.t, r.one, omt)
	VMULPS(r.t, r.q, qt)
	VSUBPS(r.one, r.q, lw)
	VFMADD213PS(r.one, r.t, lw) // (q−1)·t + 1
	negqt := ZMM()
	VSUBPS(qt, r.zero, negqt)
	VBLENDMPS(omt, negqt, pos, coef)
	loss = ZMM()
	VMULPS(coef, r.x, loss)
	VFMADD231PS(lw, sp, loss)
	VMULPS(r.w, loss, loss)
	grad = ZMM()
	VMULPS(qt, smx, grad)
	VFMSUB231PS(omt, sx, grad) // (1−t)·σ(x) − q·t·σ(−x)
	VMULPS(r.w, grad, grad)
	VMULPS(r.g, grad, grad)
	return loss, grad
}

// focalBody: l = α_t·u^γ·bce, grad = g·α_t·u^γ·(γ·r·(1−2t)·bce + dbce) with
// u = t·σ(−x) + (1−t)·σ(x), r = σ(x)σ(−x)/u, α_t = a1 + a2·t; lanes with
// u = 0 give 0 when γ > 0.
func focalBody(r *elemRegs, k Register) (loss, grad VecVirtual) {
	sx, smx, sp, pos := bceParts(r)
	omt, coef, bce, dbce := ZMM(), ZMM(), ZMM(), ZMM()
	VSUBPS(r.t, r.one, omt)
	negt := ZMM()
	VSUBPS(r.t, r.zero, negt)
	VBLENDMPS(omt, negt, pos, coef)
	VMULPS(coef, r.x, bce)
	VADDPS(sp, bce, bce)
	VMULPS(r.t, smx, dbce)
	VFMSUB231PS(omt, sx, dbce) // (1−t)·σ(x) − t·σ(−x)
	at := ZMM()
	VMOVAPS(r.a2, at)
	VFMADD213PS(r.a1, r.t, at) // a1 + a2·t
	loss, grad = ZMM(), ZMM()

	VMULPS(at, bce, loss)
	VMULPS(at, dbce, grad)
	CMPQ(r.gamma, U8(0))
	JE(LabelRef("scaled" + suffix(k)))

	u, ug := ZMM(), ZMM()
	VMULPS(r.t, smx, u)
	VFMADD231PS(omt, sx, u) // t·σ(−x) + (1−t)·σ(x)
	VMOVAPS(u, ug)
	cnt := GP64()
	MOVQ(r.gamma, cnt)
	Label("pow" + suffix(k))
	DECQ(cnt)
	JZ(LabelRef("powdone" + suffix(k)))
	VMULPS(u, ug, ug)
	JMP(LabelRef("pow" + suffix(k)))
	Label("powdone" + suffix(k))
	ratio := ZMM()
	VMULPS(smx, sx, ratio)
	VDIVPS(u, ratio, ratio)
	f := ZMM()
	VMOVAPS(r.t, f)
	VFNMADD213PS(r.one, r.two, f) // 1 − 2t
	VMULPS(r.gammaN, f, f)
	VMULPS(ratio, f, f)
	VMULPS(bce, f, f)
	VADDPS(dbce, f, f) // γ·r·(1−2t)·bce + dbce
	VMULPS(at, ug, ug)
	VMULPS(ug, bce, loss)
	VMULPS(ug, f, grad)
	nz := K()
	VCMPPS(U8(cmpEQ), r.zero, u, nz)
	KNOTW(nz, nz) // u ≠ 0, or NaN
	VMOVAPS_Z(loss, nz, loss)
	VMOVAPS_Z(grad, nz, grad)
	Label("scaled" + suffix(k))
	VMULPS(r.g, grad, grad)
	return loss, grad
}

func suffix(k Register) string {
	if k == nil {
		return "Full"
	}
	return "Tail"
}
