// Command gen writes xent's amd64 kernels with avo:
//
//	cd internal/kernel/_gen && go run . -out ../kernel_amd64.s -stubs ../kernel_amd64_stubs.go -pkg kernel
//
// (go generate ./internal/kernel does the same). Every kernel processes
// whole vectors (16 float32 or 8 float64 lanes) and a masked tail, so it
// needs no scalar code; internal/kernel documents each one by its Go
// reference loop.
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

	for _, t := range []flt{f32, f64} {
		genMax(t)
		genExpShiftSum(t, true)
		genExpShiftSum(t, false)
		genScaleAdd(t, true)
		genScaleAdd(t, false)
		genDot(t, true)
		genDot(t, false)
		genSoftmaxRows(t)
		genFirstOutside(t)
		genElements(t, "sigmoid", sigmoidBody)
		genElements(t, "sigmoidFocal", focalBody)
	}
	Generate()
}

// Predicates of VCMPPS and VCMPPD.
const (
	cmpEQ = 0x00 // ordered, quiet: false for NaN
	cmpLE = 0x12 // ordered, quiet
	cmpGE = 0x1D // ordered, quiet
)

// flt is an element type: the instructions and constants that differ
// between float32 (16 lanes) and float64 (8 lanes).
type flt struct {
	suffix string // of the kernels' names: "" for float32, "F64"
	size   int    // bytes
	lanes  int
	goType string
}

var (
	f32 = flt{suffix: "", size: 4, lanes: 16, goType: "float32"}
	f64 = flt{suffix: "F64", size: 8, lanes: 8, goType: "float64"}
)

func (t flt) is64() bool { return t.size == 8 }

func (t flt) name(base string) string { return base + t.suffix + "AVX512" }

// constants memoizes the read-only data, one symbol per name.
var constants = map[string]Mem{}

// c returns the address of a constant of type t, stored by its bits (the
// assembler reads no Inf or NaN literal).
func (t flt) c(name string, v float64) Mem {
	key := name + t.suffix
	if m, ok := constants[key]; ok {
		return m
	}
	var m Mem
	if t.is64() {
		m = ConstData(key, U64(math.Float64bits(v)))
	} else {
		m = ConstData(key, U32(math.Float32bits(float32(v))))
	}
	constants[key] = m
	return m
}

// cBits is c for a constant given by its bits.
func (t flt) cBits(name string, bits uint64) Mem {
	if t.is64() {
		return t.c(name, math.Float64frombits(bits))
	}
	return t.c(name, float64(math.Float32frombits(uint32(bits))))
}

func (t flt) bcast(m Mem, r VecVirtual) {
	if t.is64() {
		VBROADCASTSD(m, r)
	} else {
		VBROADCASTSS(m, r)
	}
}

// broadcast returns a register holding v in every lane.
func (t flt) broadcast(name string, v float64) VecVirtual {
	r := ZMM()
	t.bcast(t.c(name, v), r)
	return r
}

// The instructions, in Go operand order (sources first, destination last).
func (t flt) pick(ps, pd func(...Op)) func(...Op) {
	if t.is64() {
		return pd
	}
	return ps
}

func (t flt) add(a ...Op)    { t.pick(VADDPS, VADDPD)(a...) }
func (t flt) sub(a ...Op)    { t.pick(VSUBPS, VSUBPD)(a...) }
func (t flt) mul(a ...Op)    { t.pick(VMULPS, VMULPD)(a...) }
func (t flt) div(a ...Op)    { t.pick(VDIVPS, VDIVPD)(a...) }
func (t flt) max(a ...Op)    { t.pick(VMAXPS, VMAXPD)(a...) }
func (t flt) and(a ...Op)    { t.pick(VANDPS, VANDPD)(a...) }
func (t flt) xor(a ...Op)    { t.pick(VXORPS, VXORPD)(a...) }
func (t flt) movu(a ...Op)   { t.pick(VMOVUPS, VMOVUPD)(a...) }
func (t flt) mova(a ...Op)   { t.pick(VMOVAPS, VMOVAPD)(a...) }
func (t flt) fma213(a ...Op) { t.pick(VFMADD213PS, VFMADD213PD)(a...) } // z1 = z2·z1 + z3
func (t flt) fma231(a ...Op) { t.pick(VFMADD231PS, VFMADD231PD)(a...) } // z1 = z2·z3 + z1
func (t flt) fnmadd213(a ...Op) {
	t.pick(VFNMADD213PS, VFNMADD213PD)(a...) // z1 = −z2·z1 + z3
}
func (t flt) fmsub231(a ...Op) { t.pick(VFMSUB231PS, VFMSUB231PD)(a...) } // z1 = z2·z3 − z1
func (t flt) mulB(a ...Op)     { t.pick(VMULPS_BCST, VMULPD_BCST)(a...) }
func (t flt) fma213B(a ...Op)  { t.pick(VFMADD213PS_BCST, VFMADD213PD_BCST)(a...) }
func (t flt) fma231B(a ...Op)  { t.pick(VFMADD231PS_BCST, VFMADD231PD_BCST)(a...) }
func (t flt) rndscale(a ...Op) { t.pick(VRNDSCALEPS, VRNDSCALEPD)(a...) }
func (t flt) scalef(a ...Op)   { t.pick(VSCALEFPS, VSCALEFPD)(a...) }
func (t flt) cmp(a ...Op)      { t.pick(VCMPPS, VCMPPD)(a...) }
func (t flt) blend(a ...Op)    { t.pick(VBLENDMPS, VBLENDMPD)(a...) } // k ? first : second
func (t flt) movaZ(src, k, dst Op) {
	if t.is64() {
		VMOVAPD_Z(src, k, dst)
	} else {
		VMOVAPS_Z(src, k, dst)
	}
}

// load reads one vector at m into r, the inactive lanes of k zeroed.
func (t flt) load(m Mem, k Register, r VecVirtual) {
	switch {
	case k == nil:
		t.movu(m, r)
	case t.is64():
		VMOVUPD_Z(m, k, r)
	default:
		VMOVUPS_Z(m, k, r)
	}
}

func (t flt) store(r VecVirtual, k Register, m Mem) {
	if k == nil {
		t.movu(r, m)
	} else {
		t.movu(r, k, m)
	}
}

// sum adds the lanes of v to the float64 accumulators lo and hi (8 lanes
// each): float32 lanes are widened, float64 lanes go to lo.
func (t flt) sum(v, lo, hi VecVirtual) {
	if t.is64() {
		VADDPD(v, lo, lo)
		return
	}
	a, b := ZMM(), ZMM()
	VCVTPS2PD(v.AsY(), a)
	VEXTRACTF32X8(U8(1), v, b.AsY())
	VCVTPS2PD(b.AsY(), b)
	VADDPD(a, lo, lo)
	VADDPD(b, hi, hi)
}

// hmax reduces the lanes of acc to their maximum, in the low lane of the
// X register it returns.
func (t flt) hmax(acc VecVirtual) VecVirtual {
	m, h := ZMM(), ZMM()
	if t.is64() {
		VEXTRACTF64X4(U8(1), acc, m.AsY())
		VMAXPD(m.AsY(), acc.AsY(), m.AsY())
		VEXTRACTF128(U8(1), m.AsY(), h.AsX())
		VMAXPD(h.AsX(), m.AsX(), m.AsX())
		VPERMILPD(U8(1), m.AsX(), h.AsX())
		VMAXPD(h.AsX(), m.AsX(), m.AsX())
		return m
	}
	VEXTRACTF32X8(U8(1), acc, m.AsY())
	VMAXPS(m.AsY(), acc.AsY(), m.AsY())
	VEXTRACTF128(U8(1), m.AsY(), h.AsX())
	VMAXPS(h.AsX(), m.AsX(), m.AsX())
	VPERMILPS(U8(0x4E), m.AsX(), h.AsX())
	VMAXPS(h.AsX(), m.AsX(), m.AsX())
	VPERMILPS(U8(0xB1), m.AsX(), h.AsX())
	VMAXPS(h.AsX(), m.AsX(), m.AsX())
	return m
}

// movs moves one scalar of the type (VMOVSS, VMOVSD).
func (t flt) movs(src, dst Op) {
	if t.is64() {
		VMOVSD(src, dst)
	} else {
		VMOVSS(src, dst)
	}
}

// subs subtracts scalars: dst = b − a (Go operand order).
func (t flt) subs(a, b, dst Op) {
	if t.is64() {
		VSUBSD(a, b, dst)
	} else {
		VSUBSS(a, b, dst)
	}
}

// addr returns the frame address of an argument.
func addr(c gotypes.Component) Mem {
	b, err := c.Resolve()
	if err != nil {
		panic(err)
	}
	return b.Addr
}

// tailMask sets k to the low n bits (0 < n < 16).
func tailMask(n GPVirtual, k Register) {
	one, bits := GP32(), GP32()
	MOVL(U32(1), one)
	SHLXL(n.As32(), one, bits)
	DECL(bits)
	KMOVW(bits, k)
}

// loop emits the loop over n elements, lanes at a time: body is called
// twice, for full vectors (mask nil) and for the masked tail; advance
// moves the pointers one vector on.
func loop(lanes int, n GPVirtual, body func(k Register), advance func()) {
	loopNamed("", lanes, n, body, advance)
}

// loop2 is loopNamed with two vectors a turn while at least two remain:
// body gets the vector's byte offset and its place, pairFirst or
// pairSecond within a turn of two, or single in the one-vector loop and
// the tail; advance moves the pointers on by the given bytes.
func loop2(prefix string, lanes int, n GPVirtual, body func(k Register, off int, place pairPlace), advance func(bytes int)) {
	Label(prefix + "loop2")
	CMPQ(n, U8(2*lanes))
	JL(LabelRef(prefix + "loop"))
	body(nil, 0, pairFirst)
	body(nil, 64, pairSecond)
	advance(128)
	SUBQ(U8(2*lanes), n)
	JMP(LabelRef(prefix + "loop2"))
	loopNamed(prefix, lanes, n, func(k Register) { body(k, 0, single) }, func() { advance(64) })
}

type pairPlace int

const (
	single pairPlace = iota
	pairFirst
	pairSecond
)

// pairSum adds the vector e to the float64 sums lo, hi. float32: a pair's
// first vector waits in pending, the second is added to it in float32
// (half an ulp, below the terms' own error) and the pair is widened and
// summed; a single vector is summed at once. float64 lanes are summed at
// once.
func (t flt) pairSum(e, pending, lo, hi VecVirtual, place pairPlace) {
	switch {
	case t.is64() || place == single:
		t.sum(e, lo, hi)
	case place == pairFirst:
		VMOVAPS(e, pending)
	default:
		VADDPS(pending, e, e)
		t.sum(e, lo, hi)
	}
}

// loopNamed is loop with its labels prefixed, for several loops in one
// function.
func loopNamed(prefix string, lanes int, n GPVirtual, body func(k Register), advance func()) {
	Label(prefix + "loop")
	CMPQ(n, U8(lanes))
	JL(LabelRef(prefix + "tail"))
	body(nil)
	advance()
	SUBQ(U8(lanes), n)
	JMP(LabelRef(prefix + "loop"))

	Label(prefix + "tail")
	TESTQ(n, n)
	JZ(LabelRef(prefix + "done"))
	k := K()
	tailMask(n, k)
	body(k)
	Label(prefix + "done")
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

func zeroed() (lo, hi VecVirtual) {
	lo, hi = ZMM(), ZMM()
	VXORPD(lo, lo, lo)
	VXORPD(hi, hi, hi)
	return lo, hi
}

// expMin returns a register of exp's clamp, for the caller to set up once
// outside its loop: below it e^z underflows to 0 even as a subnormal.
func (t flt) expMin() VecVirtual {
	if t.is64() {
		return t.broadcast("expMin", -746)
	}
	return t.broadcast("expMin", -104)
}

// exp sets out = e^z for z ≤ 0 (and NaN for NaN): n = round(z·log2e),
// r = z − n·ln2 in two steps (Cody–Waite), e^r by a polynomial, times 2^n
// with VSCALEF. float32: XNNPACK's degree-5 minimax with one-constant
// reduction (rr1_p5; within 2 ulp for |z| ≤ 10, then an added
// |z|·2.7e-9 relative); float64: the Taylor polynomial to r¹³ (truncation
// below 1e-17), with fdlibm's two-constant split of ln2. The clamp min (expMin) turns −Inf into 0 instead
// of NaN.
func (t flt) exp(z, out, min VecVirtual) {
	var ln2hi, ln2lo float64
	var coef []float64 // highest degree first
	if t.is64() {
		ln2hi, ln2lo = -6.93147180369123816490e-01, -1.90821492927058770002e-10 // fdlibm
		for k := 13; k >= 0; k-- {
			f := 1.0
			for i := 2; i <= k; i++ {
				f *= float64(i)
			}
			coef = append(coef, 1/f)
		}
	} else {
		// One constant, ln2 rounded to float32 (XNNPACK's rr1): the error
		// n·(ln2 − fl(ln2)) ≈ |n|·1.9e-9 is below half an ulp while
		// |n| ≤ 15, and beyond that e^z < 2⁻¹⁵ hardly counts in a sum.
		ln2hi = -float64(float32(math.Ln2))
		for _, bits := range []uint32{0x3C07CFCE, 0x3D2B9D0D, 0x3E2AAD40, 0x3EFFFEE3, 0x3F7FFFFB} { // c5 … c1
			coef = append(coef, float64(math.Float32frombits(bits)))
		}
		coef = append(coef, 1)
	}
	r, n := ZMM(), ZMM()
	t.max(z, min, r) // z is Intel's second source: max returns it when NaN
	t.mulB(t.c("log2e", math.Log2E), r, n)
	t.rndscale(U8(0), n, n)
	t.fma231B(t.c("minusLn2Hi", ln2hi), n, r) // r = z − n·ln2, in place
	if ln2lo != 0 {
		t.fma231B(t.c("minusLn2Lo", ln2lo), n, r)
	}
	t.bcast(t.c(fmt.Sprintf("expC%d", len(coef)-1), coef[0]), out)
	for i, c := range coef[1:] {
		t.fma213B(t.c(fmt.Sprintf("expC%d", len(coef)-2-i), c), r, out)
	}
	t.scalef(n, out, out)
}

func genMax(t flt) {
	name := t.name("max")
	TEXT(name, NOSPLIT, fmt.Sprintf("func(x []%s) %s", t.goType, t.goType))
	Pragma("noescape")
	Doc(name + " returns max_i x_i, or −Inf for an empty x.")
	p := Load(Param("x").Base(), GP64())
	n := GP64()
	Load(Param("x").Len(), n)
	negInf := t.broadcast("negInf", math.Inf(-1))
	acc := ZMM()
	t.mova(negInf, acc)
	loop(t.lanes, n, func(k Register) {
		if k == nil {
			t.max(Mem{Base: p}, acc, acc)
			return
		}
		v := ZMM()
		t.mova(negInf, v)
		t.movu(Mem{Base: p}, k, v) // inactive lanes stay −Inf
		t.max(v, acc, acc)
	}, func() { ADDQ(U8(64), p) })
	Store(t.hmax(acc).AsX(), ReturnIndex(0))
	VZEROUPPER()
	RET()
}

func genExpShiftSum(t flt, stores bool) {
	name := t.name("expShiftSumNoStore")
	sig := fmt.Sprintf("func(x []%s, m %s) float64", t.goType, t.goType)
	if stores {
		name = t.name("expShiftSum")
		sig = fmt.Sprintf("func(dst, x []%s, m %s) float64", t.goType, t.goType)
	}
	TEXT(name, NOSPLIT, sig)
	if stores {
		Doc(name + " stores dst_i = exp(x_i − m) and returns their sum in float64.")
	} else {
		Doc(name + " returns Σ exp(x_i − m) in float64.")
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
	t.bcast(addr(Param("m")), m)
	min := t.expMin()
	lo, hi := zeroed()
	pending := ZMM()
	loop2("", t.lanes, n, func(k Register, off int, place pairPlace) {
		x, e := ZMM(), ZMM()
		t.load(Mem{Base: p, Disp: off}, k, x)
		t.sub(m, x, x)
		t.exp(x, e, min)
		if k != nil {
			t.movaZ(e, k, e)
		}
		if stores {
			t.store(e, k, Mem{Base: d, Disp: off})
		}
		t.pairSum(e, pending, lo, hi, place)
	}, func(bytes int) {
		ADDQ(U8(bytes), p)
		if stores {
			ADDQ(U8(bytes), d)
		}
	})
	Store(reduceF64(lo, hi).AsX(), ReturnIndex(0))
	VZEROUPPER()
	RET()
}

func genScaleAdd(t flt, withU bool) {
	name := t.name("scaleAddConst")
	sig := fmt.Sprintf("func(dst []%s, a, c %s)", t.goType, t.goType)
	if withU {
		name = t.name("scaleAdd")
		sig = fmt.Sprintf("func(dst []%s, a %s, u *%s, b, c %s)", t.goType, t.goType, t.goType, t.goType)
	}
	TEXT(name, NOSPLIT, sig)
	if withU {
		Doc(name + " sets dst_i = a·dst_i + b·u_i + c.")
	} else {
		Doc(name + " sets dst_i = a·dst_i + c.")
	}
	Pragma("noescape")
	d := Load(Param("dst").Base(), GP64())
	n := GP64()
	Load(Param("dst").Len(), n)
	a, cc := ZMM(), ZMM()
	t.bcast(addr(Param("a")), a)
	t.bcast(addr(Param("c")), cc)
	var u Register
	b := ZMM()
	if withU {
		u = Load(Param("u"), GP64())
		t.bcast(addr(Param("b")), b)
	}
	loop(t.lanes, n, func(k Register) {
		v := ZMM()
		t.load(Mem{Base: d}, k, v)
		t.fma213(cc, a, v) // v = a·v + c
		if withU {
			w := ZMM()
			t.load(Mem{Base: u}, k, w)
			t.fma231(w, b, v) // v += b·u
		}
		t.store(v, k, Mem{Base: d})
	}, func() {
		ADDQ(U8(64), d)
		if withU {
			ADDQ(U8(64), u)
		}
	})
	VZEROUPPER()
	RET()
}

func genDot(t flt, withU bool) {
	name := t.name("sum")
	sig := fmt.Sprintf("func(v []%s) float64", t.goType)
	if withU {
		name = t.name("dot")
		sig = fmt.Sprintf("func(u, v []%s) float64", t.goType)
	}
	TEXT(name, NOSPLIT, sig)
	if withU {
		Doc(name + " returns Σ u_i·v_i, multiplied and summed in float64 (len(u) ≥ len(v)).")
	} else {
		Doc(name + " returns Σ v_i in float64.")
	}
	Pragma("noescape")
	var u Register
	if withU {
		u = Load(Param("u").Base(), GP64())
	}
	p := Load(Param("v").Base(), GP64())
	n := GP64()
	Load(Param("v").Len(), n)
	lo, hi := zeroed()
	loop(t.lanes, n, func(k Register) {
		v := ZMM()
		t.load(Mem{Base: p}, k, v)
		if !withU {
			t.sum(v, lo, hi)
			return
		}
		w := ZMM()
		t.load(Mem{Base: u}, k, w)
		if t.is64() {
			VFMADD231PD(v, w, lo)
			return
		}
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

// genSoftmaxRows emits the fused kernel of plain softmax cross-entropy
// over a batch of contiguous rows: see SoftmaxRows in internal/kernel.
func genSoftmaxRows(t flt) {
	name := t.name("softmaxRows")
	TEXT(name, NOSPLIT, fmt.Sprintf("func(x, grad *%s, c int, ys []int64, scales []%s, ms []%s, ss []float64)", t.goType, t.goType, t.goType))
	Pragma("noescape")
	Doc(name + " runs softmax cross-entropy's value and gradient over len(ys) rows of c logits.")
	x := Load(Param("x"), GP64())
	g := Load(Param("grad"), GP64())
	c := Load(Param("c"), GP64())
	ys := Load(Param("ys").Base(), GP64())
	rows := Load(Param("ys").Len(), GP64())
	sc := Load(Param("scales").Base(), GP64())
	ms := Load(Param("ms").Base(), GP64())
	ss := Load(Param("ss").Base(), GP64())
	rowBytes := GP64()
	MOVQ(c, rowBytes)
	if t.is64() {
		SHLQ(U8(3), rowBytes)
	} else {
		SHLQ(U8(2), rowBytes)
	}
	negInf := t.broadcast("negInf", math.Inf(-1))
	min := t.expMin()

	Label("row")
	TESTQ(rows, rows)
	JZ(LabelRef("end"))
	y := GP64()
	MOVQ(Mem{Base: ys}, y)
	TESTQ(y, y)
	JS(LabelRef("next")) // an ignored row: left to the caller

	// m = max of the row, two accumulators
	var accs [2]VecVirtual
	for i := range accs {
		accs[i] = ZMM()
		t.mova(negInf, accs[i])
	}
	p, n := GP64(), GP64()
	MOVQ(x, p)
	MOVQ(c, n)
	loop2("max", t.lanes, n, func(k Register, off int, place pairPlace) {
		if k == nil {
			a := accs[0]
			if place == pairSecond {
				a = accs[1]
			}
			t.max(Mem{Base: p, Disp: off}, a, a)
			return
		}
		v := ZMM()
		t.mova(negInf, v)
		t.movu(Mem{Base: p}, k, v)
		t.max(v, accs[0], accs[0])
	}, func(bytes int) { ADDQ(U8(bytes), p) })
	t.max(accs[1], accs[0], accs[0])
	m := t.hmax(accs[0])
	t.movs(m.AsX(), Mem{Base: ms})
	t.bcast2(m)

	// e = exp(x − m) into the gradient row, s = Σ e in float64
	lo, hi := zeroed()
	pending := ZMM()
	q, d := GP64(), GP64()
	MOVQ(x, q)
	MOVQ(g, d)
	MOVQ(c, n)
	loop2("exp", t.lanes, n, func(k Register, off int, place pairPlace) {
		v, ev := ZMM(), ZMM()
		if k == nil { // the next row's logits, for its max pass
			PREFETCHT1(Mem{Base: q, Index: rowBytes, Scale: 1, Disp: off})
		}
		t.load(Mem{Base: q, Disp: off}, k, v)
		t.sub(m, v, v)
		t.exp(v, ev, min)
		if k != nil {
			t.movaZ(ev, k, ev)
		}
		t.store(ev, k, Mem{Base: d, Disp: off})
		t.pairSum(ev, pending, lo, hi, place)
	}, func(bytes int) {
		ADDQ(U8(bytes), q)
		ADDQ(U8(bytes), d)
	})
	s := reduceF64(lo, hi)
	VMOVSD(s.AsX(), Mem{Base: ss})

	// gradient = (scale/s)·e, and − scale at the target
	scale, a := ZMM(), ZMM()
	t.movs(Mem{Base: sc}, scale.AsX())
	if t.is64() {
		VDIVSD(s.AsX(), scale.AsX(), a.AsX())
	} else {
		VCVTSS2SD(scale.AsX(), a.AsX(), a.AsX())
		VDIVSD(s.AsX(), a.AsX(), a.AsX())
		VCVTSD2SS(a.AsX(), a.AsX(), a.AsX())
	}
	t.bcast2(a)
	MOVQ(g, d)
	MOVQ(c, n)
	loopNamed("scale", t.lanes, n, func(k Register) {
		v := ZMM()
		t.load(Mem{Base: d}, k, v)
		t.mul(a, v, v)
		t.store(v, k, Mem{Base: d})
	}, func() { ADDQ(U8(64), d) })
	fix := ZMM()
	t.movs(Mem{Base: g, Index: y, Scale: uint8(t.size)}, fix.AsX())
	t.subs(scale.AsX(), fix.AsX(), fix.AsX())
	t.movs(fix.AsX(), Mem{Base: g, Index: y, Scale: uint8(t.size)})

	Label("next")
	ADDQ(rowBytes, x)
	ADDQ(rowBytes, g)
	ADDQ(U8(8), ys)
	ADDQ(U8(t.size), sc)
	ADDQ(U8(t.size), ms)
	ADDQ(U8(8), ss)
	DECQ(rows)
	JMP(LabelRef("row"))
	Label("end")
	VZEROUPPER()
	RET()
}

func genFirstOutside(t flt) {
	name := t.name("firstOutside")
	TEXT(name, NOSPLIT, fmt.Sprintf("func(x []%s, lo, hi %s) int", t.goType, t.goType))
	Pragma("noescape")
	Doc(name + " returns the index of the first x_i outside [lo, hi] (NaN is outside), or −1.")
	p := Load(Param("x").Base(), GP64())
	n := GP64()
	Load(Param("x").Len(), n)
	lo, hi := ZMM(), ZMM()
	t.bcast(addr(Param("lo")), lo)
	t.bcast(addr(Param("hi")), hi)
	i, bad := GP64(), GP64()
	XORQ(i, i)
	v, ge, in := ZMM(), K(), K()
	full := uint32(1)<<t.lanes - 1

	Label("loop")
	CMPQ(n, U8(t.lanes))
	JL(LabelRef("tail"))
	t.movu(Mem{Base: p}, v)
	t.cmp(U8(cmpGE), lo, v, ge)
	t.cmp(U8(cmpLE), hi, v, ge, in) // lo ≤ v ≤ hi
	KMOVW(in, bad.As32())
	NOTL(bad.As32())
	ANDL(U32(full), bad.As32()) // lanes out of range
	JNZ(LabelRef("found"))
	ADDQ(U8(64), p)
	ADDQ(U8(t.lanes), i)
	SUBQ(U8(t.lanes), n)
	JMP(LabelRef("loop"))

	Label("tail")
	TESTQ(n, n)
	JZ(LabelRef("none"))
	k := K()
	tailMask(n, k)
	t.load(Mem{Base: p}, k, v)
	t.cmp(U8(cmpGE), lo, v, k, ge)
	t.cmp(U8(cmpLE), hi, v, ge, in)
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

// The element kernels take a pointer to a frame (elemArgs and elemArgs64
// in internal/kernel): eight operand pointers, n, the byte steps of the
// operands that may be broadcast (set here: 64, or 0 for a nil pointer),
// the focal constants a1, a2 (of the element type) and γ, then one vector
// per optional operand that a nil pointer is pointed at (its scalar, or a
// sink for an output).
const (
	argX, argT, argW, argQ, argG, argH, argGrad, argLoss = 0, 8, 16, 24, 32, 40, 48, 56
	argN                                                 = 64
	argWInc, argQInc, argGInc, argHInc, argGradInc       = 72, 80, 88, 96, 104
	argLossInc                                           = 112
	argA1                                                = 120
)

func (t flt) argA2() int    { return argA1 + t.size }
func (t flt) argGamma() int { return argA1 + 2*t.size }
func (t flt) argLanes() int { return t.argGamma() + 8 } // W, Q, G, H, sink: 64 bytes each

// elemRegs are the registers an element kernel body works with.
type elemRegs struct {
	t                                     flt
	ptr                                   map[int]Register // operand pointers by argument offset
	x, tg, w, q, g, h                     VecVirtual
	one, two, zero, absMask, a1, a2, gamN VecVirtual
	gamma                                 Mem
	sumLo, sumHi                          VecVirtual
	expMin                                VecVirtual
}

// genElements emits an element kernel whose per-vector work is body: it
// loads x, t, w, q, g (gradient scale) and h (sum weight), and body
// returns the loss and the derivative·g to store.
func genElements(t flt, base string, body func(r *elemRegs, k Register) (loss, grad VecVirtual)) {
	TEXT(t.name(base), NOSPLIT, "func(a *uint8) float64")
	Pragma("noescape")
	args := Load(Param("a"), GP64())
	r := &elemRegs{t: t, ptr: map[int]Register{}}
	for _, off := range []int{argX, argT} {
		p := GP64()
		MOVQ(Mem{Base: args, Disp: off}, p)
		r.ptr[off] = p
	}
	// A nil optional operand reads (or writes) its lane in the frame, with
	// a step of 0.
	lanes := t.argLanes()
	for i, o := range []struct{ ptr, inc, lane int }{
		{argW, argWInc, lanes}, {argQ, argQInc, lanes + 64}, {argG, argGInc, lanes + 128},
		{argH, argHInc, lanes + 192}, {argGrad, argGradInc, lanes + 256}, {argLoss, argLossInc, lanes + 256},
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
	t.bcast(Mem{Base: args, Disp: argA1}, r.a1)
	t.bcast(Mem{Base: args, Disp: t.argA2()}, r.a2)
	r.gamma = Mem{Base: args, Disp: t.argGamma()}
	r.gamN = ZMM()
	if t.is64() {
		CVTSQ2SD(r.gamma, r.gamN.AsX())
	} else {
		CVTSQ2SS(r.gamma, r.gamN.AsX())
	}
	t.bcast2(r.gamN)
	r.one = t.broadcast("one", 1)
	r.two = t.broadcast("two", 2)
	r.expMin = t.expMin()
	r.zero = ZMM()
	t.xor(r.zero, r.zero, r.zero)
	r.absMask = ZMM()
	t.bcast(t.cBits("absMask", math.MaxInt64>>(64-8*t.size)), r.absMask)
	r.sumLo, r.sumHi = zeroed()
	r.x, r.tg, r.w, r.q, r.g, r.h = ZMM(), ZMM(), ZMM(), ZMM(), ZMM(), ZMM()

	loop(t.lanes, n, func(k Register) {
		t.load(Mem{Base: r.ptr[argX]}, k, r.x)
		t.load(Mem{Base: r.ptr[argT]}, k, r.tg)
		t.load(Mem{Base: r.ptr[argW]}, k, r.w)
		t.load(Mem{Base: r.ptr[argQ]}, k, r.q)
		t.load(Mem{Base: r.ptr[argG]}, k, r.g)
		t.load(Mem{Base: r.ptr[argH]}, k, r.h)
		loss, grad := body(r, k)
		t.store(grad, k, Mem{Base: r.ptr[argGrad]})
		t.store(loss, k, Mem{Base: r.ptr[argLoss]})
		t.mul(r.h, loss, loss)
		if k != nil {
			t.movaZ(loss, k, loss)
		}
		t.sum(loss, r.sumLo, r.sumHi)
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

// bcast2 broadcasts the low lane of r to all of r.
func (t flt) bcast2(r VecVirtual) {
	if t.is64() {
		VBROADCASTSD(r.AsX(), r)
	} else {
		VBROADCASTSS(r.AsX(), r)
	}
}

// reciprocal sets out = 1/d for d in [1, 3]. float32: VRCP14PS (relative
// error below 2⁻¹⁴) and one Newton–Raphson step r·(2 − d·r), which squares
// the error to about 2⁻²⁸, under half an ulp; float64: a division. out may
// be d.
func (r *elemRegs) reciprocal(d, out VecVirtual) {
	if r.t.is64() {
		VDIVPD(d, r.one, out)
		return
	}
	x, y := ZMM(), ZMM()
	VRCP14PS(d, x)
	VMOVAPS(d, y)
	VFNMADD213PS(r.two, x, y) // 2 − d·x
	VMULPS(y, x, out)
}

// bceParts computes what both element kernels share: e = e^−|x|,
// σ(x), σ(−x), softplus(−|x|) and the mask of x ≥ 0.
func bceParts(r *elemRegs) (sx, smx, sp VecVirtual, pos Register) {
	t := r.t
	z, e := ZMM(), ZMM()
	t.and(r.absMask, r.x, z)
	t.sub(z, r.zero, z) // −|x|
	t.exp(z, e, r.expMin)
	d, big, small := ZMM(), ZMM(), ZMM()
	t.add(r.one, e, d)
	r.reciprocal(d, big) // σ(|x|) = 1/(1+e)
	t.mul(e, big, small) // σ(−|x|)
	// softplus(−|x|) = log1p(e) = 2·atanh(s) = 2·Σ s^(2k+1)/(2k+1),
	// s = e/(2+e) ≤ 1/3: to s¹³ for float32, s³³ for float64.
	s, s2, p := ZMM(), ZMM(), ZMM()
	t.add(r.two, e, s)
	r.reciprocal(s, s)
	t.mul(e, s, s)
	t.mul(s, s, s2)
	last := 13
	if t.is64() {
		last = 33
	}
	t.bcast(t.c(fmt.Sprintf("inv%d", last), 1/float64(last)), p)
	for k := last - 2; k >= 3; k -= 2 {
		t.fma213B(t.c(fmt.Sprintf("inv%d", k), 1/float64(k)), s2, p)
	}
	t.fma213(r.one, s2, p)
	t.add(s, s, s)
	sp = ZMM()
	t.mul(p, s, sp)
	pos = K()
	t.cmp(U8(cmpGE), r.zero, r.x, pos)
	sx, smx = ZMM(), ZMM()
	t.blend(big, small, pos, sx)  // x ≥ 0 ? σ(|x|) : σ(−|x|)
	t.blend(small, big, pos, smx) // x ≥ 0 ? σ(−|x|) : σ(|x|)
	return sx, smx, sp, pos
}

// sigmoidBody: l = w·[lw·sp + (x ≥ 0 ? (1−t)·x : −q·t·x)],
// grad = w·g·[(1−t)·σ(x) − q·t·σ(−x)], lw = 1 + (q−1)·t.
func sigmoidBody(r *elemRegs, k Register) (loss, grad VecVirtual) {
	t := r.t
	sx, smx, sp, pos := bceParts(r)
	omt, qt, lw, coef := ZMM(), ZMM(), ZMM(), ZMM()
	t.sub(r.tg, r.one, omt)
	t.mul(r.tg, r.q, qt)
	t.sub(r.one, r.q, lw)
	t.fma213(r.one, r.tg, lw) // (q−1)·t + 1
	negqt := ZMM()
	t.sub(qt, r.zero, negqt)
	t.blend(omt, negqt, pos, coef)
	loss = ZMM()
	t.mul(coef, r.x, loss)
	t.fma231(lw, sp, loss)
	t.mul(r.w, loss, loss)
	grad = ZMM()
	t.mul(qt, smx, grad)
	t.fmsub231(omt, sx, grad) // (1−t)·σ(x) − q·t·σ(−x)
	t.mul(r.w, grad, grad)
	t.mul(r.g, grad, grad)
	return loss, grad
}

// focalBody: l = α_t·u^γ·bce, grad = g·α_t·u^γ·(γ·r·(1−2t)·bce + dbce) with
// u = t·σ(−x) + (1−t)·σ(x), r = σ(x)σ(−x)/u, α_t = a1 + a2·t; lanes with
// u = 0 give 0 when γ > 0. γ is a whole number: u^γ by repeated
// multiplication.
func focalBody(r *elemRegs, k Register) (loss, grad VecVirtual) {
	t := r.t
	sx, smx, sp, pos := bceParts(r)
	omt, coef, bce, dbce := ZMM(), ZMM(), ZMM(), ZMM()
	t.sub(r.tg, r.one, omt)
	negt := ZMM()
	t.sub(r.tg, r.zero, negt)
	t.blend(omt, negt, pos, coef)
	t.mul(coef, r.x, bce)
	t.add(sp, bce, bce)
	t.mul(r.tg, smx, dbce)
	t.fmsub231(omt, sx, dbce) // (1−t)·σ(x) − t·σ(−x)
	at := ZMM()
	t.mova(r.a2, at)
	t.fma213(r.a1, r.tg, at) // a1 + a2·t
	loss, grad = ZMM(), ZMM()

	t.mul(at, bce, loss)
	t.mul(at, dbce, grad)
	CMPQ(r.gamma, U8(0))
	JE(LabelRef("scaled" + suffix(k)))

	u, ug := ZMM(), ZMM()
	t.mul(r.tg, smx, u)
	t.fma231(omt, sx, u) // t·σ(−x) + (1−t)·σ(x)
	t.mova(u, ug)
	cnt := GP64()
	MOVQ(r.gamma, cnt)
	Label("pow" + suffix(k))
	DECQ(cnt)
	JZ(LabelRef("powdone" + suffix(k)))
	t.mul(u, ug, ug)
	JMP(LabelRef("pow" + suffix(k)))
	Label("powdone" + suffix(k))
	ratio := ZMM()
	t.mul(smx, sx, ratio)
	t.div(u, ratio, ratio)
	f := ZMM()
	t.mova(r.tg, f)
	t.fnmadd213(r.one, r.two, f) // 1 − 2t
	t.mul(r.gamN, f, f)
	t.mul(ratio, f, f)
	t.mul(bce, f, f)
	t.add(dbce, f, f) // γ·r·(1−2t)·bce + dbce
	t.mul(at, ug, ug)
	t.mul(ug, bce, loss)
	t.mul(ug, f, grad)
	nz := K()
	t.cmp(U8(cmpEQ), r.zero, u, nz)
	KNOTW(nz, nz) // u ≠ 0, or NaN
	t.movaZ(loss, nz, loss)
	t.movaZ(grad, nz, grad)
	Label("scaled" + suffix(k))
	t.mul(r.g, grad, grad)
	return loss, grad
}

func suffix(k Register) string {
	if k == nil {
		return "Full"
	}
	return "Tail"
}
