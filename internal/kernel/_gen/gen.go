// Command gen writes xent's amd64 kernels with avo:
//
//	cd internal/kernel/_gen && go run . -out ../kernel_amd64.s -stubs ../kernel_amd64_stubs.go -pkg kernel
//
// (go generate ./internal/kernel does the same). Every kernel exists for
// AVX-512 (16 float32 or 8 float64 lanes, tails under K masks) and for AVX2
// with FMA (8 or 4 lanes, tails with VMASKMOV), in float32 and float64, and
// needs no scalar code; internal/kernel documents each one by its Go
// reference loop.
package main

import (
	"fmt"
	"math"

	"github.com/mmcloughlin/avo/attr"
	"github.com/mmcloughlin/avo/gotypes"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

func main() {
	ConstraintExpr("!noasm") // amd64 from the file names

	for _, t := range []flt{f32, f64, f32AVX2, f64AVX2} {
		genMax(t)
		genExpShiftSum(t, true)
		genExpShiftSum(t, false)
		genScaleAdd(t, true)
		genScaleAdd(t, false)
		genDot(t, true)
		genDot(t, false)
		genMaxDot(t)
		genSoftmaxRows(t)
		if !t.avx2 {
			genSoftmaxRowsStream(t)
		}
		genFirstOutside(t)
		genElements(t, "sigmoid", sigmoidBody)
		genElements(t, "sigmoidFocal", focalBody)
		genElements(t, "asymmetric", asymmetricBody)
	}
	genGemm(f32)
	genGemm(f32AVX2)
	Generate()
}

// Predicates of VCMPPS and VCMPPD.
const (
	cmpLT  = 0x11 // ordered, quiet: false for NaN
	cmpLE  = 0x12 // ordered, quiet
	cmpNEQ = 0x04 // unordered, quiet: true for NaN
	cmpGE  = 0x1D // ordered, quiet
	cmpNLT = 0x15 // unordered, quiet: true for NaN
	cmpNLE = 0x16 // unordered, quiet: true for NaN
)

// flt is an instruction set and an element type: what differs between
// AVX-512 and AVX2, and between float32 and float64.
type flt struct {
	suffix string // of the kernels' names: "" for float32, "F64"
	size   int    // bytes
	lanes  int
	goType string
	avx2   bool
}

var (
	f32     = flt{suffix: "", size: 4, lanes: 16, goType: "float32"}
	f64     = flt{suffix: "F64", size: 8, lanes: 8, goType: "float64"}
	f32AVX2 = flt{suffix: "", size: 4, lanes: 8, goType: "float32", avx2: true}
	f64AVX2 = flt{suffix: "F64", size: 8, lanes: 4, goType: "float64", avx2: true}
)

func (t flt) is64() bool { return t.size == 8 }

func (t flt) name(base string) string {
	if t.avx2 {
		return base + t.suffix + "AVX2"
	}
	return base + t.suffix + "AVX512"
}

// vec returns a new vector register: ZMM or YMM.
func (t flt) vec() VecVirtual {
	if t.avx2 {
		return YMM()
	}
	return ZMM()
}

// vbytes is the size of a vector in bytes.
func (t flt) vbytes() int { return t.lanes * t.size }

// maskReg returns a register for a lane mask: K for AVX-512, a vector
// (all ones in the active lanes) for AVX2.
func (t flt) maskReg() Register {
	if t.avx2 {
		return t.vec()
	}
	return K()
}

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

// f64c returns the address of a float64 constant, whatever t is.
func f64c(name string, v float64) Mem {
	key := name + "F64c"
	if m, ok := constants[key]; ok {
		return m
	}
	m := ConstData(key, U64(math.Float64bits(v)))
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

// maskTable returns the table the AVX2 tail masks are loaded from: lanes
// elements of all ones, then lanes zeros; n lanes start at lanes − n.
func (t flt) maskTable() Mem {
	key := "tailMask" + t.suffix
	if m, ok := constants[key]; ok {
		return m
	}
	m := GLOBL(key, attr.RODATA|attr.NOPTR)
	for i := range 2 * t.lanes {
		var v uint64
		if i < t.lanes {
			v = math.MaxUint64
		}
		if t.is64() {
			DATA(8*i, U64(v))
		} else {
			DATA(4*i, U32(uint32(v)))
		}
	}
	constants[key] = m
	return m
}

func (t flt) bcast(m Op, r VecVirtual) {
	if t.is64() {
		VBROADCASTSD(m, r)
	} else {
		VBROADCASTSS(m, r)
	}
}

// broadcast returns a register holding v in every lane.
func (t flt) broadcast(name string, v float64) VecVirtual {
	r := t.vec()
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

func (t flt) add(a ...Op)      { t.pick(VADDPS, VADDPD)(a...) }
func (t flt) sub(a ...Op)      { t.pick(VSUBPS, VSUBPD)(a...) }
func (t flt) mul(a ...Op)      { t.pick(VMULPS, VMULPD)(a...) }
func (t flt) div(a ...Op)      { t.pick(VDIVPS, VDIVPD)(a...) }
func (t flt) max(a ...Op)      { t.pick(VMAXPS, VMAXPD)(a...) }
func (t flt) and(a ...Op)      { t.pick(VANDPS, VANDPD)(a...) }
func (t flt) xor(a ...Op)      { t.pick(VXORPS, VXORPD)(a...) }
func (t flt) movu(a ...Op)     { t.pick(VMOVUPS, VMOVUPD)(a...) }
func (t flt) mova(a ...Op)     { t.pick(VMOVAPS, VMOVAPD)(a...) }
func (t flt) fma213(a ...Op)   { t.pick(VFMADD213PS, VFMADD213PD)(a...) } // z1 = z2·z1 + z3
func (t flt) fma231(a ...Op)   { t.pick(VFMADD231PS, VFMADD231PD)(a...) } // z1 = z2·z3 + z1
func (t flt) fmsub231(a ...Op) { t.pick(VFMSUB231PS, VFMSUB231PD)(a...) } // z1 = z2·z3 − z1
func (t flt) fnmadd213(a ...Op) {
	t.pick(VFNMADD213PS, VFNMADD213PD)(a...) // z1 = −z2·z1 + z3
}
func (t flt) cmp(a ...Op) { t.pick(VCMPPS, VCMPPD)(a...) }

// withConst runs op with the constant at m as its first operand: a
// broadcast memory operand on AVX-512, a register broadcast first on AVX2.
func (t flt) withConst(m Mem, bcst, plain func(...Op), rest ...Op) {
	if t.avx2 {
		r := t.vec()
		t.bcast(m, r)
		plain(append([]Op{r}, rest...)...)
		return
	}
	bcst(append([]Op{m}, rest...)...)
}

func (t flt) mulC(m Mem, a, dst Op) {
	t.withConst(m, t.pick(VMULPS_BCST, VMULPD_BCST), t.pick(VMULPS, VMULPD), a, dst)
}
func (t flt) fma213C(m Mem, a, dst Op) {
	t.withConst(m, t.pick(VFMADD213PS_BCST, VFMADD213PD_BCST), t.pick(VFMADD213PS, VFMADD213PD), a, dst)
}
func (t flt) fma231C(m Mem, a, dst Op) {
	t.withConst(m, t.pick(VFMADD231PS_BCST, VFMADD231PD_BCST), t.pick(VFMADD231PS, VFMADD231PD), a, dst)
}

// blend sets dst = k ? ifTrue : ifFalse, lane by lane.
func (t flt) blend(ifTrue, ifFalse Op, k Register, dst Op) {
	if t.avx2 {
		if t.is64() {
			VBLENDVPD(k, ifTrue, ifFalse, dst)
		} else {
			VBLENDVPS(k, ifTrue, ifFalse, dst)
		}
		return
	}
	t.pick(VBLENDMPS, VBLENDMPD)(ifTrue, ifFalse, k, dst)
}

// movaZ sets dst = src in the lanes of k and 0 in the others.
func (t flt) movaZ(src Op, k Register, dst Op) {
	switch {
	case t.avx2:
		t.and(k, src, dst)
	case t.is64():
		VMOVAPD_Z(src, k, dst)
	default:
		VMOVAPS_Z(src, k, dst)
	}
}

// load reads one vector at m into r, the inactive lanes of k zeroed.
func (t flt) load(m Mem, k Register, r VecVirtual) {
	switch {
	case k == nil:
		t.movu(m, r)
	case t.avx2 && t.is64():
		VMASKMOVPD(m, k, r)
	case t.avx2:
		VMASKMOVPS(m, k, r)
	case t.is64():
		VMOVUPD_Z(m, k, r)
	default:
		VMOVUPS_Z(m, k, r)
	}
}

// store writes the lanes of k (all without k) of r to m.
func (t flt) store(r VecVirtual, k Register, m Mem) {
	switch {
	case k == nil:
		t.movu(r, m)
	case t.avx2 && t.is64():
		VMASKMOVPD(r, k, m)
	case t.avx2:
		VMASKMOVPS(r, k, m)
	default:
		t.movu(r, k, m)
	}
}

// loadOr reads one vector at m into r, the inactive lanes of k set from
// fill.
func (t flt) loadOr(m Mem, k Register, fill, r VecVirtual) {
	if t.avx2 {
		v := t.vec()
		t.load(m, k, v)
		t.blend(v, fill, k, r)
		return
	}
	t.mova(fill, r)
	t.movu(m, k, r)
}

// sum adds the lanes of v to the float64 accumulators lo and hi: float32
// lanes are widened, float64 lanes go to lo.
func (t flt) sum(v, lo, hi VecVirtual) {
	if t.is64() {
		VADDPD(v, lo, lo)
		return
	}
	a, b := t.widen(v)
	VADDPD(a, lo, lo)
	VADDPD(b, hi, hi)
}

// widen returns the float32 lanes of v as float64: its low half and its
// high half.
func (t flt) widen(v VecVirtual) (lo, hi VecVirtual) {
	lo, hi = t.vec(), t.vec()
	if t.avx2 {
		VCVTPS2PD(v.AsX(), lo)
		VEXTRACTF128(U8(1), v, hi.AsX())
		VCVTPS2PD(hi.AsX(), hi)
	} else {
		VCVTPS2PD(v.AsY(), lo)
		VEXTRACTF32X8(U8(1), v, hi.AsY())
		VCVTPS2PD(hi.AsY(), hi)
	}
	return lo, hi
}

// zeroed returns two float64 accumulators set to 0.
func (t flt) zeroed() (lo, hi VecVirtual) {
	lo, hi = t.vec(), t.vec()
	VXORPD(lo, lo, lo)
	VXORPD(hi, hi, hi)
	return lo, hi
}

// reduce sums the float64 lanes of lo and hi, in a fixed order, into the
// low lane of an X register it returns.
func (t flt) reduce(lo, hi VecVirtual) VecVirtual {
	VADDPD(hi, lo, lo)
	y := lo
	if !t.avx2 {
		y = t.vec()
		VEXTRACTF64X4(U8(1), lo, y.AsY())
		VADDPD(y.AsY(), lo.AsY(), y.AsY())
	}
	x := t.vec()
	VEXTRACTF128(U8(1), y.AsY(), x.AsX())
	VADDPD(x.AsX(), y.AsX(), x.AsX())
	s := t.vec()
	VPERMILPD(U8(1), x.AsX(), s.AsX())
	VADDSD(s.AsX(), x.AsX(), x.AsX())
	return x
}

// hmax reduces the lanes of acc to their maximum, in the low lane of the
// X register it returns.
func (t flt) hmax(acc VecVirtual) VecVirtual {
	m, h := t.vec(), t.vec()
	y := acc
	if !t.avx2 {
		y = m
		if t.is64() {
			VEXTRACTF64X4(U8(1), acc, m.AsY())
			VMAXPD(m.AsY(), acc.AsY(), m.AsY())
		} else {
			VEXTRACTF32X8(U8(1), acc, m.AsY())
			VMAXPS(m.AsY(), acc.AsY(), m.AsY())
		}
	}
	VEXTRACTF128(U8(1), y.AsY(), h.AsX())
	if t.is64() {
		VMAXPD(h.AsX(), y.AsX(), m.AsX())
		VPERMILPD(U8(1), m.AsX(), h.AsX())
		VMAXPD(h.AsX(), m.AsX(), m.AsX())
		return m
	}
	VMAXPS(h.AsX(), y.AsX(), m.AsX())
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

// bcast2 broadcasts the low lane of r to all of r.
func (t flt) bcast2(r VecVirtual) { t.bcast(r.AsX(), r) }

// addr returns the frame address of an argument.
func addr(c gotypes.Component) Mem {
	b, err := c.Resolve()
	if err != nil {
		panic(err)
	}
	return b.Addr
}

// tailMask sets k to the mask of the low n lanes (0 < n < lanes).
func (t flt) tailMask(n GPVirtual, k Register) {
	if t.avx2 {
		tbl, off := GP64(), GP64()
		LEAQ(t.maskTable(), tbl)
		MOVQ(U32(t.lanes), off)
		SUBQ(n, off)
		VMOVDQU(Mem{Base: tbl, Index: off, Scale: uint8(t.size)}, k)
		return
	}
	KMOVW(t.lowBits(n), k)
}

// lowBits returns a register holding the low n bits set.
func (t flt) lowBits(n GPVirtual) GPVirtual {
	one, bits := GP32(), GP32()
	MOVL(U32(1), one)
	SHLXL(n.As32(), one, bits)
	DECL(bits)
	return bits
}

// loop emits the loop over n elements, a vector at a time: body is called
// twice, for full vectors (mask nil) and for the masked tail; advance moves
// the pointers one vector on. Its labels carry prefix.
func (t flt) loop(prefix string, n GPVirtual, body func(k Register), advance func()) {
	Label(prefix + "loop")
	CMPQ(n, U8(t.lanes))
	JL(LabelRef(prefix + "tail"))
	body(nil)
	advance()
	SUBQ(U8(t.lanes), n)
	JMP(LabelRef(prefix + "loop"))

	Label(prefix + "tail")
	TESTQ(n, n)
	JZ(LabelRef(prefix + "done"))
	k := t.maskReg()
	t.tailMask(n, k)
	body(k)
	Label(prefix + "done")
}

// loop2 is loop with two vectors a turn while at least two remain: body
// gets the vector's byte offset and its place, pairFirst or pairSecond
// within a turn of two, or single in the one-vector loop and the tail;
// advance moves the pointers on by the given bytes.
func (t flt) loop2(prefix string, n GPVirtual, body func(k Register, off int, place pairPlace), advance func(bytes int)) {
	Label(prefix + "loop2")
	CMPQ(n, U8(2*t.lanes))
	JL(LabelRef(prefix + "loop"))
	body(nil, 0, pairFirst)
	body(nil, t.vbytes(), pairSecond)
	advance(2 * t.vbytes())
	SUBQ(U8(2*t.lanes), n)
	JMP(LabelRef(prefix + "loop2"))
	t.loop(prefix, n, func(k Register) { body(k, 0, single) }, func() { advance(t.vbytes()) })
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
		t.mova(e, pending)
	default:
		t.add(pending, e, e)
		t.sum(e, lo, hi)
	}
}

// expMin returns a register of exp's lower bound, for the caller to set up
// once outside its loop: the smallest z whose e^z is a normal number
// (2⁻¹²⁶, 2⁻¹⁰²²), below which exp gives 0 on both paths. A subnormal
// result takes a microcode assist per lane (26× slower on rows whose
// values lie 87 below their maximum), so no lane computes one: AVX2 scales
// by integer addition and zeroes those lanes; AVX-512 clamps z at the bound
// (whose e^z is normal as computed: the bound lies above ln 2⁻¹²⁶, and r ≥
// 0 there) and zeroes them.
func (t flt) expMin() VecVirtual {
	if t.is64() {
		return t.broadcast("expCutoff", -708.3964185322641)
	}
	return t.broadcast("expCutoff", float64(math.Float32frombits(0xC2AEAC4F))) // −0x1.5D589Ep6
}

// expPoly returns the constants of exp: the split of ln2 (lo 0 for one
// constant) and the polynomial, highest degree first. float32: XNNPACK's
// degree-5 minimax on [−ln2/2, ln2/2] with one ln2 constant (rr1_p5);
// float64: the Taylor polynomial to r¹³ with fdlibm's two constants.
func (t flt) expPoly() (ln2hi, ln2lo float64, coef []float64) {
	if t.is64() {
		for k := 13; k >= 0; k-- {
			f := 1.0
			for i := 2; i <= k; i++ {
				f *= float64(i)
			}
			coef = append(coef, 1/f)
		}
		return -6.93147180369123816490e-01, -1.90821492927058770002e-10, coef // fdlibm
	}
	for _, bits := range []uint32{0x3C07CFCE, 0x3D2B9D0D, 0x3E2AAD40, 0x3EFFFEE3, 0x3F7FFFFB} { // c5 … c1
		coef = append(coef, float64(math.Float32frombits(bits)))
	}
	// One constant, ln2 rounded to float32: the error n·(ln2 − fl(ln2)) ≈
	// |n|·1.9e-9 is below half an ulp while |n| ≤ 15, and beyond that
	// e^z < 2⁻¹⁵ hardly counts in a sum.
	return -float64(float32(math.Ln2)), 0, append(coef, 1)
}

// exp sets out = e^z for z ≤ 0 (and NaN for NaN): n = round(z·log2e),
// r = z − n·ln2 (Cody–Waite), e^r by the polynomial of expPoly, times 2^n.
// float32 within 2 ulp for |z| ≤ 10, then an added |z|·2.7e-9 relative;
// float64 within 2 ulp; 0 below min (see expMin). AVX-512 rounds with
// VRNDSCALE and scales with VSCALEF after clamping z at min (so −Inf gives
// 0, not NaN), zeroing the lanes below it; AVX2 rounds by adding a magic
// number whose low bits, shifted into the exponent, are 2^n, and sets
// results below min to 0.
func (t flt) exp(z, out, min VecVirtual) {
	ln2hi, ln2lo, coef := t.expPoly()
	if t.avx2 {
		t.expAVX2(z, out, min, ln2hi, ln2lo, coef)
		return
	}
	r, n := t.vec(), t.vec()
	t.max(z, min, r) // z is Intel's second source: max returns it when NaN
	t.mulC(t.c("log2e", math.Log2E), r, n)
	t.pick(VRNDSCALEPS, VRNDSCALEPD)(U8(0), n, n)
	t.fma231C(t.c("minusLn2Hi", ln2hi), n, r) // r = z − n·ln2, in place
	if ln2lo != 0 {
		t.fma231C(t.c("minusLn2Lo", ln2lo), n, r)
	}
	t.bcast(t.c(fmt.Sprintf("expC%d", len(coef)-1), coef[0]), out)
	for i, c := range coef[1:] {
		t.fma213C(t.c(fmt.Sprintf("expC%d", len(coef)-2-i), c), r, out)
	}
	k := K()
	t.cmp(U8(cmpNLT), min, z, k) // z ≥ min, or NaN
	if t.is64() {
		VSCALEFPD_Z(n, out, k, out)
	} else {
		VSCALEFPS_Z(n, out, k, out)
	}
}

// expAVX2 is exp for AVX2 (after XNNPACK's avx2_rr1_p5 scheme): s = 2^n
// from the bits of n + magic, e^z = s + s·(r·p(r)) with p = (e^r − 1)/r.
func (t flt) expAVX2(z, out, cutoff VecVirtual, ln2hi, ln2lo float64, coef []float64) {
	magic := 0x1.8000FEp23 // 1.5·2²³ + 127: the low bits of n + magic are n + 127
	if t.is64() {
		magic = 0x1.8p52 + 1023
	}
	n, s, r, k := t.vec(), t.vec(), t.vec(), t.vec()
	t.mova(z, n)
	t.fma213(t.broadcast("magic", magic), t.broadcast("log2e", math.Log2E), n) // z·log2e + magic
	if t.is64() {
		VPSLLQ(U8(52), n, s)
	} else {
		VPSLLD(U8(23), n, s)
	}
	t.sub(t.broadcast("magic", magic), n, n)
	t.mova(z, r)
	t.fma231(t.broadcast("minusLn2Hi", ln2hi), n, r)
	if ln2lo != 0 {
		t.fma231(t.broadcast("minusLn2Lo", ln2lo), n, r)
	}
	// p = (e^r − 1)/r: the polynomial without its constant term
	p := coef[:len(coef)-1]
	t.bcast(t.c(fmt.Sprintf("expC%d", len(p)), p[0]), out)
	for i, c := range p[1:] {
		t.fma213(t.broadcast(fmt.Sprintf("expC%d", len(p)-1-i), c), r, out)
	}
	// out = s·(r·p) + s: r·s, which XNNPACK forms, would be subnormal near
	// the cutoff and flushed to 0 (flushSubnormals).
	t.mul(r, out, out)
	t.fma213(s, s, out)
	t.cmp(U8(cmpLT), cutoff, z, k)
	t.pick(VANDNPS, VANDNPD)(out, k, out) // 0 below the cutoff
}

func genMax(t flt) {
	name := t.name("max")
	TEXT(name, NOSPLIT, fmt.Sprintf("func(x []%s) %s", t.goType, t.goType))
	Pragma("noescape")
	Doc(name + " returns max_i x_i, or −Inf for an empty x.")
	p, n := GP64(), GP64()
	Load(Param("x").Base(), p)
	Load(Param("x").Len(), n)
	shift := U8(2)
	if t.is64() {
		shift = 3
	}
	SHLQ(shift, n) // rowMax takes bytes
	Store(t.rowMax("max", p, n, shift, t.broadcast("negInf", math.Inf(-1))).AsX(), ReturnIndex(0))
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
	saved := flushSubnormals()
	var d Register
	if stores {
		d = Load(Param("dst").Base(), GP64())
	}
	p := Load(Param("x").Base(), GP64())
	n := GP64()
	Load(Param("x").Len(), n)
	m := t.vec()
	t.bcast(addr(Param("m")), m)
	min := t.expMin()
	lo, hi := t.zeroed()
	pending := t.vec()
	t.loop2("", n, func(k Register, off int, place pairPlace) {
		x, e := t.vec(), t.vec()
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
	Store(t.reduce(lo, hi).AsX(), ReturnIndex(0))
	VZEROUPPER()
	LDMXCSR(saved)
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
	saved := flushSubnormals()
	d := Load(Param("dst").Base(), GP64())
	n := GP64()
	Load(Param("dst").Len(), n)
	a, cc := t.vec(), t.vec()
	t.bcast(addr(Param("a")), a)
	t.bcast(addr(Param("c")), cc)
	var u Register
	b := t.vec()
	if withU {
		u = Load(Param("u"), GP64())
		t.bcast(addr(Param("b")), b)
	}
	t.loop("", n, func(k Register) {
		v := t.vec()
		t.load(Mem{Base: d}, k, v)
		t.fma213(cc, a, v) // v = a·v + c
		if withU {
			w := t.vec()
			t.load(Mem{Base: u}, k, w)
			t.fma231(w, b, v) // v += b·u
		}
		t.store(v, k, Mem{Base: d})
	}, func() {
		ADDQ(U8(t.vbytes()), d)
		if withU {
			ADDQ(U8(t.vbytes()), u)
		}
	})
	VZEROUPPER()
	LDMXCSR(saved)
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
	lo, hi := t.zeroed()
	t.loop("", n, func(k Register) {
		v := t.vec()
		t.load(Mem{Base: p}, k, v)
		if !withU {
			t.sum(v, lo, hi)
			return
		}
		w := t.vec()
		t.load(Mem{Base: u}, k, w)
		t.dotAdd(v, w, lo, hi)
	}, func() {
		ADDQ(U8(t.vbytes()), p)
		if withU {
			ADDQ(U8(t.vbytes()), u)
		}
	})
	Store(t.reduce(lo, hi).AsX(), ReturnIndex(0))
	VZEROUPPER()
	RET()
}

// rowMax returns, in the low lane of a register, the maximum of the row of
// rowBytes bytes at p (moved on), with four accumulators so that the
// loop runs at the pace of its loads, not of VMAXPS's latency. shift is
// log2 of the element size.
func (t flt) rowMax(prefix string, p GPVirtual, rowBytes Op, shift U8, negInf VecVirtual) VecVirtual {
	vb := t.vbytes()
	var accs [4]VecVirtual
	for i := range accs {
		accs[i] = t.vec()
		t.mova(negInf, accs[i])
	}
	n := GP64()
	MOVQ(rowBytes, n)
	SHRQ(shift, n)
	Label(prefix + "4")
	CMPQ(n, U8(4*t.lanes))
	JL(LabelRef(prefix + "1loop"))
	for i, a := range accs {
		t.max(Mem{Base: p, Disp: i * vb}, a, a)
	}
	ADDQ(U32(4*vb), p)
	SUBQ(U8(4*t.lanes), n)
	JMP(LabelRef(prefix + "4"))
	t.loop(prefix+"1", n, func(k Register) {
		if k == nil {
			t.max(Mem{Base: p}, accs[0], accs[0])
			return
		}
		v := t.vec()
		t.loadOr(Mem{Base: p}, k, negInf, v)
		t.max(v, accs[0], accs[0])
	}, func() { ADDQ(U8(vb), p) })
	t.max(accs[1], accs[0], accs[0])
	t.max(accs[3], accs[2], accs[2])
	t.max(accs[2], accs[0], accs[0])
	return t.hmax(accs[0])
}

// divScale sets the low lane of a to scale/s: the scale (low lane of
// scale) divided in float64 by the float64 sum s, rounded to the element
// type. a may be scale.
func (t flt) divScale(scale, s, a VecVirtual) {
	if t.is64() {
		VDIVSD(s.AsX(), scale.AsX(), a.AsX())
		return
	}
	VCVTSS2SD(scale.AsX(), a.AsX(), a.AsX())
	VDIVSD(s.AsX(), a.AsX(), a.AsX())
	VCVTSD2SS(a.AsX(), a.AsX(), a.AsX())
}

// genMaxDot emits maxDot: Max(x), Dot(nil, u) and Dot(u, x) in one pass,
// each computed as those kernels compute it.
func genMaxDot(t flt) {
	name := t.name("maxDot")
	TEXT(name, NOSPLIT, fmt.Sprintf("func(x, u []%[1]s) (m %[1]s, su, sux float64)", t.goType))
	Doc(name + " returns max_i x_i (−Inf for an empty x), Σ u_i and Σ u_i·x_i in float64 (len(u) ≥ len(x)).")
	Pragma("noescape")
	p, u, n := GP64(), GP64(), GP64()
	Load(Param("x").Base(), p)
	Load(Param("u").Base(), u)
	Load(Param("x").Len(), n)
	negInf := t.broadcast("negInf", math.Inf(-1))
	acc := t.vec()
	t.mova(negInf, acc)
	slo, shi := t.zeroed()
	plo, phi := t.zeroed()
	t.loop("", n, func(k Register) {
		v, w := t.vec(), t.vec()
		if k == nil {
			t.movu(Mem{Base: p}, v)
			t.max(v, acc, acc)
		} else {
			t.loadOr(Mem{Base: p}, k, negInf, v)
			t.max(v, acc, acc)
			t.load(Mem{Base: p}, k, v) // 0, not −Inf, for the products
		}
		t.load(Mem{Base: u}, k, w)
		t.sum(w, slo, shi)
		t.dotAdd(v, w, plo, phi)
	}, func() {
		ADDQ(U8(t.vbytes()), p)
		ADDQ(U8(t.vbytes()), u)
	})
	Store(t.hmax(acc).AsX(), ReturnIndex(0))
	Store(t.reduce(slo, shi).AsX(), ReturnIndex(1))
	Store(t.reduce(plo, phi).AsX(), ReturnIndex(2))
	VZEROUPPER()
	RET()
}

// dotAdd adds the products v_i·w_i, formed in float64, to lo and hi:
// float32 lanes widened, the low half to lo, the high half to hi.
func (t flt) dotAdd(v, w, lo, hi VecVirtual) {
	if t.is64() {
		VFMADD231PD(v, w, lo)
		return
	}
	a, c := t.widen(v)
	b, e := t.widen(w)
	VFMADD231PD(a, b, lo)
	VFMADD231PD(c, e, hi)
}

// flushSubnormals sets the flush-to-zero and denormals-are-zero bits of
// MXCSR for the kernel that calls it and returns the frame slot keeping
// the caller's MXCSR, which the kernel loads back before it returns (an
// assembly function is not preempted, so no other code runs meanwhile). A
// subnormal result or operand otherwise takes a microcode assist per
// element: ~100 cycles where the arithmetic takes one. Results below the
// smallest normal number (2⁻¹²⁶, 2⁻¹⁰²²) become 0, as exp's already do;
// subnormal inputs count as 0.
func flushSubnormals() Mem {
	saved, flushed := AllocLocal(4), AllocLocal(4)
	STMXCSR(saved)
	r := GP32()
	MOVL(saved, r)
	ORL(U32(1<<15|1<<6), r) // FTZ, DAZ
	MOVL(r, flushed)
	LDMXCSR(flushed)
	return saved
}

// genSoftmaxRows emits the fused kernel of plain softmax cross-entropy
// over a batch of contiguous rows: see SoftmaxRows in internal/kernel.
func genSoftmaxRows(t flt) {
	name := t.name("softmaxRows")
	TEXT(name, NOSPLIT, fmt.Sprintf("func(x, grad *%s, c int, ys []int64, scales []%s, ms []%s, ss []float64, poly float64)", t.goType, t.goType, t.goType))
	Pragma("noescape")
	saved := flushSubnormals()
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
	// spill is a vector's room in the frame, so that a lane of a register
	// is read back by a load that the store forwards to: a masked store
	// forwards to no load, and a load after one waits for it to retire.
	spill := AllocLocal(t.vbytes())
	// fixTarget subtracts the scale from the gradient at the target y.
	fixTarget := func(y GPVirtual, scale VecVirtual) {
		fix := t.vec()
		t.movs(Mem{Base: g, Index: y, Scale: uint8(t.size)}, fix.AsX())
		t.subs(scale.AsX(), fix.AsX(), fix.AsX())
		t.movs(fix.AsX(), Mem{Base: g, Index: y, Scale: uint8(t.size)})
	}
	poly := addr(Param("poly"))
	// sumAndScale stores the row's sum s = lo + hi and returns its scale
	// and a = scale/s in every lane. With poly ≠ 0 the scale is first
	// multiplied by Poly-1's factor, in float64 with q = 1/s:
	// scale' = scale + scale·(poly·(e_y·q)) (one FMA) and a = scale'·q,
	// e_y read from where stage says.
	sumAndScale := func(lo, hi VecVirtual, y GPVirtual, label string, stage func() Mem) (scale, a VecVirtual) {
		s := t.reduce(lo, hi)
		VMOVSD(s.AsX(), Mem{Base: ss})
		scale, a = t.vec(), t.vec()
		t.movs(Mem{Base: sc}, scale.AsX())
		CMPQ(poly, U8(0))
		JE(LabelRef(label))
		q, p := t.vec(), t.vec()
		VMOVSD(f64c("one", 1), q.AsX())
		VDIVSD(s.AsX(), q.AsX(), q.AsX())
		t.movs(stage(), p.AsX())
		if !t.is64() {
			VCVTSS2SD(p.AsX(), p.AsX(), p.AsX())
			VCVTSS2SD(scale.AsX(), scale.AsX(), scale.AsX())
		}
		VMULSD(q.AsX(), p.AsX(), p.AsX())
		VMULSD(poly, p.AsX(), p.AsX())
		VFMADD231SD(p.AsX(), scale.AsX(), scale.AsX()) // scale += scale·p
		VMULSD(q.AsX(), scale.AsX(), a.AsX())
		if !t.is64() {
			VCVTSD2SS(scale.AsX(), scale.AsX(), scale.AsX())
			VCVTSD2SS(a.AsX(), a.AsX(), a.AsX())
		}
		JMP(LabelRef(label + "done"))
		Label(label)
		t.divScale(scale, s, a)
		Label(label + "done")
		t.bcast2(a)
		return scale, a
	}
	// rowHead emits the label of a row loop, the jump to the end after the
	// last row and to skip for an ignored row (left to the caller), and
	// returns the row's target.
	rowHead := func(label, skip string) GPVirtual {
		Label(label)
		TESTQ(rows, rows)
		JZ(LabelRef("end"))
		y := GP64()
		MOVQ(Mem{Base: ys}, y)
		TESTQ(y, y)
		JS(LabelRef(skip))
		return y
	}
	// advance moves every pointer on to the next row.
	advance := func() {
		ADDQ(rowBytes, x)
		ADDQ(rowBytes, g)
		ADDQ(U8(8), ys)
		ADDQ(U8(t.size), sc)
		ADDQ(U8(t.size), ms)
		ADDQ(U8(8), ss)
		DECQ(rows)
	}
	CMPQ(c, U8(t.lanes))
	JG(LabelRef("row"))

	// Rows of one vector (c ≤ lanes) take a loop of their own, without
	// the passes' loops: the same instructions on each value as below,
	// the mask made once, the exponentials kept in a register.
	{
		k, n := t.maskReg(), GP64()
		MOVQ(c, n)
		t.tailMask(n, k)
		y := rowHead("short", "shortnext")
		v, ev := t.vec(), t.vec()
		t.loadOr(Mem{Base: x}, k, negInf, v)
		m := t.hmax(v)
		t.movs(m.AsX(), Mem{Base: ms})
		t.bcast2(m)
		t.load(Mem{Base: x}, k, v) // lanes outside the row 0, as below

		t.sub(m, v, v)
		t.exp(v, ev, min)
		t.movaZ(ev, k, ev)
		lo, hi := t.zeroed()
		t.sum(ev, lo, hi)
		scale, a := sumAndScale(lo, hi, y, "shortpoly", func() Mem {
			t.movu(ev, spill)
			return spill.Idx(y, uint8(t.size))
		})
		t.mul(a, ev, ev)
		// The target's value from the spilled row, then the row.
		t.movu(ev, spill)
		fix := t.vec()
		t.movs(spill.Idx(y, uint8(t.size)), fix.AsX())
		t.subs(scale.AsX(), fix.AsX(), fix.AsX())
		t.store(ev, k, Mem{Base: g})
		t.movs(fix.AsX(), Mem{Base: g, Index: y, Scale: uint8(t.size)})
		Label("shortnext")
		advance()
		JMP(LabelRef("short"))
	}

	y := rowHead("row", "next")

	// m = max of the row
	p, n := GP64(), GP64()
	MOVQ(x, p)
	shift := U8(2)
	if t.is64() {
		shift = 3
	}
	m := t.rowMax("max", p, rowBytes, shift, negInf)
	t.movs(m.AsX(), Mem{Base: ms})
	t.bcast2(m)

	// e = exp(x − m) into the gradient row, s = Σ e in float64; the next
	// row's logits are prefetched for its max pass meanwhile.
	lo, hi := t.zeroed()
	pending := t.vec()
	q, d := GP64(), GP64()
	MOVQ(x, q)
	MOVQ(g, d)
	MOVQ(c, n)
	t.loop2("exp", n, func(k Register, off int, place pairPlace) {
		v, ev := t.vec(), t.vec()
		if k == nil && off%64 == 0 {
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

	// gradient = (scale/s)·e, and − scale at the target
	scale, a := sumAndScale(lo, hi, y, "rowpoly", func() Mem { return Mem{Base: g, Index: y, Scale: uint8(t.size)} })
	MOVQ(g, d)
	MOVQ(c, n)
	t.loop("scale", n, func(k Register) {
		v := t.vec()
		t.load(Mem{Base: d}, k, v)
		t.mul(a, v, v)
		t.store(v, k, Mem{Base: d})
	}, func() { ADDQ(U8(t.vbytes()), d) })
	fixTarget(y, scale)

	Label("next")
	advance()
	JMP(LabelRef("row"))
	Label("end")
	VZEROUPPER()
	LDMXCSR(saved)
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
	lo, hi := t.vec(), t.vec()
	t.bcast(addr(Param("lo")), lo)
	t.bcast(addr(Param("hi")), hi)
	i, bad := GP64(), GP64()
	XORQ(i, i)
	v := t.vec()
	full := uint32(1)<<t.lanes - 1
	// inRange sets bad to the lanes of v in [lo, hi] (under k when not nil).
	inRange := func(k Register) {
		if t.avx2 {
			ge, le := t.vec(), t.vec()
			t.cmp(U8(cmpGE), lo, v, ge)
			t.cmp(U8(cmpLE), hi, v, le)
			t.and(ge, le, le)
			if t.is64() {
				VMOVMSKPD(le, bad.As32())
			} else {
				VMOVMSKPS(le, bad.As32())
			}
			return
		}
		ge, in := K(), K()
		if k == nil {
			t.cmp(U8(cmpGE), lo, v, ge)
		} else {
			t.cmp(U8(cmpGE), lo, v, k, ge)
		}
		t.cmp(U8(cmpLE), hi, v, ge, in)
		KMOVW(in, bad.As32())
	}

	Label("loop")
	CMPQ(n, U8(t.lanes))
	JL(LabelRef("tail"))
	t.movu(Mem{Base: p}, v)
	inRange(nil)
	NOTL(bad.As32())
	ANDL(U32(full), bad.As32()) // lanes out of range
	JNZ(LabelRef("found"))
	ADDQ(U8(t.vbytes()), p)
	ADDQ(U8(t.lanes), i)
	SUBQ(U8(t.lanes), n)
	JMP(LabelRef("loop"))

	Label("tail")
	TESTQ(n, n)
	JZ(LabelRef("none"))
	k := t.maskReg()
	t.tailMask(n, k)
	t.load(Mem{Base: p}, k, v)
	inRange(k)
	NOTL(bad.As32())
	ANDL(t.lowBits(n), bad.As32()) // tail lanes out of range
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
// operands that may be broadcast (set here: a vector's bytes, or 0 for a
// nil pointer), the focal constants a1, a2 (of the element type) and γ,
// then one 64-byte lane per optional operand that a nil pointer is pointed
// at (its scalar, or a sink for an output).
const (
	argX, argT, argW, argQ, argG, argH, argGrad, argLoss = 0, 8, 16, 24, 32, 40, 48, 56
	argN                                                 = 64
	argWInc, argQInc, argGInc, argHInc, argGradInc       = 72, 80, 88, 96, 104
	argLossInc                                           = 112
	argA1                                                = 120
)

func (t flt) argA2() int     { return argA1 + t.size }
func (t flt) argGamma() int  { return argA1 + 2*t.size }
func (t flt) argGamma2() int { return t.argGamma() + 8 }  // the asymmetric loss's γ+ (γ is its γ−)
func (t flt) argMode() int   { return t.argGamma() + 16 } // the asymmetric loss's modeClip, modeDetach
func (t flt) argLanes() int  { return t.argGamma() + 24 } // W, Q, G, H, sink: 64 bytes each

// The bits of the asymmetric kernel's mode.
const (
	modeClip   = 1
	modeDetach = 2
)

// elemRegs are what an element kernel body works with. On AVX-512 the
// constants live in registers for the whole loop; AVX2 has 16 registers,
// so there they are broadcast where they are used, and so are w, q, g, h.
type elemRegs struct {
	t     flt
	args  Register
	ptr   map[int]Register // operand pointers by argument offset
	k     Register         // the tail mask, nil for full vectors
	x, tg VecVirtual
	regs  map[string]VecVirtual // AVX-512: preloaded constants
	gamma Mem
	sum   [2]VecVirtual
}

// constant returns a register holding the named constant: the preloaded
// one on AVX-512, a fresh broadcast on AVX2.
func (r *elemRegs) constant(name string) VecVirtual {
	if v, ok := r.regs[name]; ok {
		return v
	}
	t := r.t
	v := t.vec()
	switch name {
	case "one":
		t.bcast(t.c("one", 1), v)
	case "two":
		t.bcast(t.c("two", 2), v)
	case "zero":
		t.xor(v, v, v)
	case "absMask":
		t.bcast(t.cBits("absMask", math.MaxInt64>>(64-8*t.size)), v)
	case "a1":
		t.bcast(Mem{Base: r.args, Disp: argA1}, v)
	case "a2":
		t.bcast(Mem{Base: r.args, Disp: t.argA2()}, v)
	case "gamma": // γ as the element type, kept in the sink lane's second half
		t.bcast(Mem{Base: r.args, Disp: t.argLanes() + 4*64 + 32}, v)
	case "gamma2": // γ+, after it
		t.bcast(Mem{Base: r.args, Disp: t.argLanes() + 4*64 + 32 + t.size}, v)
	case "fourThirds":
		t.bcast(t.c("fourThirds", 4.0/3), v)
	case "expMin":
		return t.expMin()
	default:
		panic(name)
	}
	if !t.avx2 {
		r.regs[name] = v
	}
	return v
}

// operand loads the optional operand at argument offset off.
func (r *elemRegs) operand(off int) VecVirtual {
	v := r.t.vec()
	r.t.load(Mem{Base: r.ptr[off]}, r.k, v)
	return v
}

// genElements emits an element kernel whose per-vector work is body: body
// returns the loss and the derivative·g to store; the loss·h goes into the
// sum.
func genElements(t flt, base string, body func(r *elemRegs) (loss, grad VecVirtual)) {
	TEXT(t.name(base), NOSPLIT, "func(a *uint8) float64")
	Pragma("noescape")
	saved := flushSubnormals()
	args := Load(Param("a"), GP64())
	r := &elemRegs{t: t, args: args, ptr: map[int]Register{}, regs: map[string]VecVirtual{}}
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
		MOVQ(U32(t.vbytes()), Mem{Base: args, Disp: o.inc})
		Label(done)
		r.ptr[o.ptr] = p
	}
	n := GP64()
	MOVQ(Mem{Base: args, Disp: argN}, n)
	// γ as the element type: AVX-512 keeps it in a register; AVX2 puts it
	// in the second half of the sink lane, which its 32-byte vectors never
	// write, and broadcasts it where it is used.
	r.gamma = Mem{Base: args, Disp: t.argGamma()}
	g := t.vec()
	if t.is64() {
		CVTSQ2SD(r.gamma, g.AsX())
	} else {
		CVTSQ2SS(r.gamma, g.AsX())
	}
	if base == "asymmetric" { // its γ+ too: beside γ on AVX2, in a register on AVX-512
		g2 := t.vec()
		if t.is64() {
			CVTSQ2SD(Mem{Base: args, Disp: t.argGamma2()}, g2.AsX())
		} else {
			CVTSQ2SS(Mem{Base: args, Disp: t.argGamma2()}, g2.AsX())
		}
		if t.avx2 {
			t.movs(g2.AsX(), Mem{Base: args, Disp: t.argLanes() + 4*64 + 32 + t.size})
		} else {
			t.bcast2(g2)
			r.regs["gamma2"] = g2
		}
	}
	if t.avx2 {
		t.movs(g.AsX(), Mem{Base: args, Disp: t.argLanes() + 4*64 + 32})
	} else {
		t.bcast2(g)
		r.regs["gamma"] = g
		for _, name := range []string{"one", "two", "zero", "absMask", "a1", "a2"} {
			r.constant(name)
		}
		r.regs["expMin"] = t.expMin()
	}
	r.sum[0], r.sum[1] = t.zeroed()
	r.x, r.tg = t.vec(), t.vec()

	t.loop("", n, func(k Register) {
		r.k = k
		t.load(Mem{Base: r.ptr[argX]}, k, r.x)
		t.load(Mem{Base: r.ptr[argT]}, k, r.tg)
		loss, grad := body(r)
		t.store(grad, k, Mem{Base: r.ptr[argGrad]})
		t.store(loss, k, Mem{Base: r.ptr[argLoss]})
		t.mul(r.operand(argH), loss, loss)
		if k != nil {
			t.movaZ(loss, k, loss)
		}
		t.sum(loss, r.sum[0], r.sum[1])
	}, func() {
		ADDQ(U8(t.vbytes()), r.ptr[argX])
		ADDQ(U8(t.vbytes()), r.ptr[argT])
		for _, o := range [][2]int{{argW, argWInc}, {argQ, argQInc}, {argG, argGInc}, {argH, argHInc}, {argGrad, argGradInc}, {argLoss, argLossInc}} {
			ADDQ(Mem{Base: args, Disp: o[1]}, r.ptr[o[0]])
		}
	})
	Store(t.reduce(r.sum[0], r.sum[1]).AsX(), ReturnIndex(0))
	VZEROUPPER()
	LDMXCSR(saved)
	RET()
}

// reciprocal sets out = 1/d for normal d (the kernels' d are in [1, 3], or
// the asymmetric loss's u ≤ 1 and p_m). float32 on AVX-512: VRCP14PS
// (relative error below 2⁻¹⁴) and one Newton–Raphson step r·(2 − d·r),
// which squares the error to about 2⁻²⁸, under half an ulp; otherwise a
// division. out may be d.
func (r *elemRegs) reciprocal(d, out VecVirtual) {
	t := r.t
	if t.is64() || t.avx2 {
		t.div(d, r.constant("one"), out)
		return
	}
	x, y := t.vec(), t.vec()
	VRCP14PS(d, x)
	VMOVAPS(d, y)
	VFNMADD213PS(r.constant("two"), x, y) // 2 − d·x
	VMULPS(y, x, out)
}

// log1p returns log(1 + z) for z in [−1/4, 1] as 2·atanh(s) =
// 2·Σ s^(2k+1)/(2k+1), s = z/(2+z), |s| ≤ 1/3: to s¹³ for float32, s³³ for
// float64 (the truncation below half an ulp). With small, z is in
// [−1/4, 1/2) and |s| ≤ 1/5: to s⁹ and s²³, a truncation below
// (1/5)¹⁰/11 ≈ 1e-8 and (1/5)²⁴/25 ≈ 7e-19 of the value.
func (r *elemRegs) log1p(z VecVirtual, small bool) VecVirtual {
	t := r.t
	s, s2, p := t.vec(), t.vec(), t.vec()
	t.add(r.constant("two"), z, s)
	r.reciprocal(s, s)
	t.mul(z, s, s)
	t.mul(s, s, s2)
	last := 13
	if t.is64() {
		last = 33
	}
	if small {
		last = 9
		if t.is64() {
			last = 23
		}
	}
	t.bcast(t.c(fmt.Sprintf("inv%d", last), 1/float64(last)), p)
	for k := last - 2; k >= 3; k -= 2 {
		t.fma213C(t.c(fmt.Sprintf("inv%d", k), 1/float64(k)), s2, p)
	}
	t.fma213(r.constant("one"), s2, p)
	t.add(s, s, s)
	out := t.vec()
	t.mul(p, s, out)
	return out
}

// log returns log u for normal u > 0: u = m·2^k with m in [3/4, 3/2), and
// log u = k·ln2 + log1p(m − 1), m − 1 exact. AVX-512 takes m and k from
// VGETMANT and VGETEXP (k = exp(u) − exp(m)); AVX2 from the bits, as musl's
// logf does: k = (bits(u) − bits(3/4)) >> mantissa bits, m = u·2^−k by
// subtracting k from the exponent field.
func (r *elemRegs) log(u VecVirtual) VecVirtual {
	t := r.t
	m, k := t.vec(), t.vec()
	switch {
	case !t.avx2:
		em := t.vec()
		t.pick(VGETMANTPS, VGETMANTPD)(U8(3), u, m) // [3/4, 3/2), the sign of u
		t.pick(VGETEXPPS, VGETEXPPD)(u, k)
		t.pick(VGETEXPPS, VGETEXPPD)(m, em)
		t.sub(em, k, k)
	case !t.is64():
		three4, ib, kb := t.vec(), t.vec(), t.vec()
		t.bcast(t.cBits("threeQuarterBits", 0x3f400000), three4)
		VPSUBD(three4, u, ib)
		VPSRAD(U8(23), ib, ib) // k
		VPSLLD(U8(23), ib, kb)
		VPSUBD(kb, u, m)
		VCVTDQ2PS(ib, k)
	default:
		c, ib, kb := t.vec(), t.vec(), t.vec()
		t.bcast(t.cBits("threeQuarterBits", 0x3fe8000000000000), c)
		VPSUBQ(c, u, ib)
		t.bcast(t.cBits("bias1024", 1024<<52), c)
		VPADDQ(c, ib, ib)
		VPSRLQ(U8(52), ib, ib) // k + 1024, in [0, 2048)
		VPSLLQ(U8(52), ib, kb)
		VPSUBQ(c, kb, kb) // k << 52
		VPSUBQ(kb, u, m)
		t.bcast(t.cBits("twoTo52", 0x4330000000000000), c) // k + 1024 as a double: 2⁵² + it, less 2⁵²
		VPOR(c, ib, k)
		t.bcast(t.c("twoTo52Plus1024", 0x1p52+1024), c)
		t.sub(c, k, k)
	}
	z := t.vec()
	t.sub(r.constant("one"), m, z)
	var out VecVirtual
	if t.is64() {
		out = r.log1p(z, true)
	} else { // z·P(z), P of degree 8 fitted to log1p(z)/z on [−1/4, 1/2]: within 1.5e-7, no division
		out = t.vec()
		coef := logPoly32
		t.bcast(t.c(fmt.Sprintf("logP%d", len(coef)-1), coef[len(coef)-1]), out)
		for i := len(coef) - 2; i >= 0; i-- {
			t.fma213C(t.c(fmt.Sprintf("logP%d", i), coef[i]), z, out)
		}
		t.mul(z, out, out)
	}
	t.fma231C(t.c("ln2hi", 0x1.62e42fefa39efp-01), k, out) // + k·ln2 (ln2 to the type's precision)
	return out
}

// logPoly32 are the coefficients, constant term first, of the float32
// log's P: a Chebyshev fit of degree 8 to log1p(z)/z on [−1/4, 1/2]
// (relative error of z·P(z) below 2.8e-8; 1.5e-7 evaluated in float32).
var logPoly32 = []float64{0x1.ffffffca19c81p-1, -0x1.000016255a93ap-1, 0x1.55560a1345b04p-2, -0x1.ffdcad5023f7fp-3,
	0x1.991965c9a7d30p-3, -0x1.588804a19da4cp-3, 0x1.33230771b6013p-3, -0x1.ef465578318f1p-4, 0x1.bc7faa9c96ab1p-5}

// power returns base^n for the whole number n ≥ 0 at mem (0 gives 1), by
// repeated multiplication; label names its loop.
func (r *elemRegs) power(base VecVirtual, n Mem, label string) VecVirtual {
	t := r.t
	out := t.vec()
	t.mova(r.constant("one"), out)
	cnt := GP64()
	MOVQ(n, cnt)
	TESTQ(cnt, cnt)
	JZ(LabelRef(label + "Done"))
	t.mova(base, out) // 1·base, exactly
	Label(label)
	DECQ(cnt)
	JZ(LabelRef(label + "Done"))
	t.mul(base, out, out)
	JMP(LabelRef(label))
	Label(label + "Done")
	return out
}

// asymmetricBody: l = w·(Lp + Ln), grad = w·g·(Gp + Gn) with, p = σ(x),
// Lp = t·σ(−x)^γ+·softplus(−x), Gp = t·σ(−x)^γ+·(−γ+·σ(x)·softplus(−x) − σ(−x))
// (detached: −t·σ(−x)^γ+·σ(−x)), and for m = 0 Ln = (1−t)·p^γ−·softplus(x),
// Gn = (1−t)·p^γ−·(σ(x) + γ−·σ(−x)·softplus(x)) (detached: (1−t)·p^γ−·σ(x));
// for m > 0, p_m = max(p − m, 0), u = min(σ(−x) + m, 1),
// Ln = −(1−t)·p_m^γ−·log u, Gn = (1−t)·σ(x)σ(−x)·p_m^γ−·(1/u − γ−·log u/p_m)
// (detached: without the second term) where p_m > 0, else 0.
func asymmetricBody(r *elemRegs) (loss, grad VecVirtual) {
	t := r.t
	sx, smx, e, pos := sigmas(r)
	suffix := "Full"
	if r.k != nil {
		suffix = "Tail"
	}
	zero := r.constant("zero")
	mode := Mem{Base: r.args, Disp: t.argMode()}
	gamma := Mem{Base: r.args, Disp: t.argGamma()}
	loss, grad = t.vec(), t.vec()
	omt := t.vec()
	t.sub(r.tg, r.constant("one"), omt) // 1 − t

	// clipNegative is the negative term for m > 0 into ln and gn, where
	// p_m > 0 (0 elsewhere); label names its branches.
	clipNegative := func(label string, ln, gn VecVirtual) {
		m := r.constant("a1")
		pm, u := t.vec(), t.vec()
		t.sub(m, sx, pm)
		t.max(pm, zero, pm) // max(p − m, 0), NaN kept
		t.add(m, smx, u)
		t.pick(VMINPS, VMINPD)(u, r.constant("one"), u) // min(σ(−x) + m, 1), NaN kept
		logU := r.log(u)
		of := r.power(pm, gamma, "pow"+label)
		t.mul(omt, of, of)
		t.mova(logU, ln)
		t.fnmadd213(zero, of, ln) // −(1−t)·p_m^γ−·log u
		TESTQ(U32(modeDetach), mode)
		JNZ(LabelRef(label + "Detached"))
		// 1/u − γ−·log u/p_m = (p_m − γ−·log u·u)/(u·p_m): one reciprocal
		d, num := t.vec(), t.vec()
		t.mul(u, pm, d)
		r.reciprocal(d, d) // where p_m is 0 the lane is masked below
		t.mul(r.constant("gamma"), logU, num)
		t.fnmadd213(pm, u, num) // p_m − γ−·log u·u
		t.mul(d, num, gn)
		JMP(LabelRef(label + "Scaled"))
		Label(label + "Detached")
		r.reciprocal(u, gn) // 1/u (reciprocal's Newton step holds for any normal u)
		Label(label + "Scaled")
		t.mul(sx, gn, gn)
		t.mul(smx, gn, gn)
		t.mul(of, gn, gn)
		nz := t.maskReg()
		t.cmp(U8(cmpNLE), zero, pm, nz) // p_m > 0, or NaN
		t.movaZ(gn, nz, gn)
	}

	// With m > 0 and every t of the vector 0 (the common case of sparse
	// multi-hot targets) only the negative term is present, and it needs no
	// softplus: the values are those of the whole computation below, where
	// the positive term is masked to 0 and added.
	TESTQ(U32(modeClip), mode)
	JZ(LabelRef("full" + suffix))
	r.anyNonzero(r.tg, "full"+suffix)
	{
		ln, gn := t.vec(), t.vec()
		clipNegative("ClipOnly"+suffix, ln, gn)
		t.add(zero, ln, loss)
		t.add(zero, gn, grad)
		JMP(LabelRef("terms" + suffix))
	}

	Label("full" + suffix)
	sp := r.log1p(e, false) // softplus(−|x|)
	xp, xn, spNeg, spPos := t.vec(), t.vec(), t.vec(), t.vec()
	t.blend(r.x, zero, pos, xp) // x ≥ 0 ? x : 0
	t.blend(zero, r.x, pos, xn) // x ≥ 0 ? 0 : x
	t.sub(xn, sp, spNeg)        // softplus(−x)
	t.add(xp, sp, spPos)        // softplus(x)

	// The positive term.
	tf := r.power(smx, Mem{Base: r.args, Disp: t.argGamma2()}, "powPos"+suffix)
	t.mul(r.tg, tf, tf) // t·σ(−x)^γ+
	t.mul(tf, spNeg, loss)
	t.mova(smx, grad)
	TESTQ(U32(modeDetach), mode)
	JNZ(LabelRef("posDetached" + suffix))
	h := t.vec()
	t.mul(sx, spNeg, h)
	t.mul(r.constant("gamma2"), h, h)
	t.add(h, grad, grad) // γ+·σ(x)·softplus(−x) + σ(−x)
	Label("posDetached" + suffix)
	t.fnmadd213(zero, tf, grad) // −t·σ(−x)^γ+·(…)
	present := t.maskReg()
	t.cmp(U8(cmpNEQ), zero, r.tg, present) // t ≠ 0: the term is absent for t = 0, whatever x
	t.movaZ(loss, present, loss)
	t.movaZ(grad, present, grad)

	// The negative term, into ln and gn, absent for t = 1.
	ln, gn := t.vec(), t.vec()
	TESTQ(U32(modeClip), mode)
	JNZ(LabelRef("clip" + suffix))
	{ // m = 0
		of := r.power(sx, gamma, "powNeg"+suffix)
		t.mul(omt, of, of)
		t.mul(of, spPos, ln)
		t.mova(sx, gn)
		TESTQ(U32(modeDetach), mode)
		JNZ(LabelRef("negDetached" + suffix))
		h := t.vec()
		t.mul(smx, spPos, h)
		t.fma231(r.constant("gamma"), h, gn) // σ(x) + γ−·σ(−x)·softplus(x)
		Label("negDetached" + suffix)
		t.mul(of, gn, gn)
		JMP(LabelRef("negDone" + suffix))
	}
	Label("clip" + suffix)
	clipNegative("Clip"+suffix, ln, gn)
	Label("negDone" + suffix)
	absent := t.maskReg()
	t.cmp(U8(cmpNEQ), zero, omt, absent) // 1 − t ≠ 0
	t.movaZ(ln, absent, ln)
	t.movaZ(gn, absent, gn)
	t.add(ln, loss, loss)
	t.add(gn, grad, grad)

	Label("terms" + suffix)
	w := r.operand(argW)
	t.mul(w, loss, loss)
	t.mul(w, grad, grad)
	t.mul(r.operand(argG), grad, grad)
	return loss, grad
}

// bceParts computes what both element kernels share: e = e^−|x|,
// σ(x), σ(−x), softplus(−|x|) and the mask of x ≥ 0.
func bceParts(r *elemRegs) (sx, smx, sp VecVirtual, pos Register) {
	sx, smx, e, pos := sigmas(r)
	return sx, smx, r.log1p(e, false), pos // softplus(−|x|) = log1p(e)
}

// sigmas is bceParts without softplus: σ(x), σ(−x), e = e^−|x| and the
// mask of x ≥ 0.
func sigmas(r *elemRegs) (sx, smx, e VecVirtual, pos Register) {
	t := r.t
	z := t.vec()
	e = t.vec()
	t.and(r.constant("absMask"), r.x, z)
	t.sub(z, r.constant("zero"), z) // −|x|
	t.exp(z, e, r.constant("expMin"))
	d, big, small := t.vec(), t.vec(), t.vec()
	t.add(r.constant("one"), e, d)
	r.reciprocal(d, big) // σ(|x|) = 1/(1+e)
	t.mul(e, big, small) // σ(−|x|)
	pos = t.maskReg()
	t.cmp(U8(cmpGE), r.constant("zero"), r.x, pos)
	sx, smx = t.vec(), t.vec()
	t.blend(big, small, pos, sx)  // x ≥ 0 ? σ(|x|) : σ(−|x|)
	t.blend(small, big, pos, smx) // x ≥ 0 ? σ(−|x|) : σ(|x|)
	return sx, smx, e, pos
}

// anyNonzero jumps to label when some lane of v is not 0 (or is NaN).
func (r *elemRegs) anyNonzero(v VecVirtual, label string) {
	t := r.t
	k := t.maskReg()
	t.cmp(U8(cmpNEQ), r.constant("zero"), v, k)
	if t.avx2 {
		VPTEST(k, k)
	} else {
		KORTESTW(k, k)
	}
	JNZ(LabelRef(label))
}

// sigmoidBody: l = w·[lw·sp + (x ≥ 0 ? (1−t)·x : −q·t·x)],
// grad = w·g·[(1−t)·σ(x) − q·t·σ(−x)], lw = 1 + (q−1)·t.
func sigmoidBody(r *elemRegs) (loss, grad VecVirtual) {
	t := r.t
	sx, smx, sp, pos := bceParts(r)
	q := r.operand(argQ)
	omt, qt, lw, coef := t.vec(), t.vec(), t.vec(), t.vec()
	t.sub(r.tg, r.constant("one"), omt)
	t.mul(r.tg, q, qt)
	t.sub(r.constant("one"), q, lw)
	t.fma213(r.constant("one"), r.tg, lw) // (q−1)·t + 1
	negqt := t.vec()
	t.sub(qt, r.constant("zero"), negqt)
	t.blend(omt, negqt, pos, coef)
	loss = t.vec()
	t.mul(coef, r.x, loss)
	t.fma231(lw, sp, loss)
	grad = t.vec()
	t.mul(qt, smx, grad)
	t.fmsub231(omt, sx, grad) // (1−t)·σ(x) − q·t·σ(−x)
	w := r.operand(argW)
	t.mul(w, loss, loss)
	t.mul(w, grad, grad)
	t.mul(r.operand(argG), grad, grad)
	return loss, grad
}

// focalBody: l = w·α_t·u^γ·bce, grad = w·g·α_t·u^γ·(γ·r·(1−2t)·bce + dbce) with
// u = t·σ(−x) + (1−t)·σ(x), r = σ(x)σ(−x)/u, α_t = a1 + a2·t; lanes with
// u = 0 give 0 when γ > 0. γ is a whole number: u^γ by repeated
// multiplication.
func focalBody(r *elemRegs) (loss, grad VecVirtual) {
	t := r.t
	sx, smx, sp, pos := bceParts(r)
	omt, coef, bce, dbce := t.vec(), t.vec(), t.vec(), t.vec()
	t.sub(r.tg, r.constant("one"), omt)
	negt := t.vec()
	t.sub(r.tg, r.constant("zero"), negt)
	t.blend(omt, negt, pos, coef)
	t.mul(coef, r.x, bce)
	t.add(sp, bce, bce)
	t.mul(r.tg, smx, dbce)
	t.fmsub231(omt, sx, dbce) // (1−t)·σ(x) − t·σ(−x)
	at := t.vec()
	t.mova(r.constant("a2"), at)
	t.fma213(r.constant("a1"), r.tg, at) // a1 + a2·t
	loss, grad = t.vec(), t.vec()

	t.mul(at, bce, loss)
	t.mul(at, dbce, grad)
	suffix := "Full"
	if r.k != nil {
		suffix = "Tail"
	}
	CMPQ(r.gamma, U8(0))
	JE(LabelRef("scaled" + suffix))

	u, ug := t.vec(), t.vec()
	t.mul(r.tg, smx, u)
	t.fma231(omt, sx, u) // t·σ(−x) + (1−t)·σ(x)
	t.mova(u, ug)
	cnt := GP64()
	MOVQ(r.gamma, cnt)
	Label("pow" + suffix)
	DECQ(cnt)
	JZ(LabelRef("powdone" + suffix))
	t.mul(u, ug, ug)
	JMP(LabelRef("pow" + suffix))
	Label("powdone" + suffix)
	ratio := t.vec()
	t.mul(smx, sx, ratio)
	t.div(u, ratio, ratio)
	f := t.vec()
	t.mova(r.tg, f)
	t.fnmadd213(r.constant("one"), r.constant("two"), f) // 1 − 2t
	t.mul(r.constant("gamma"), f, f)
	t.mul(ratio, f, f)
	t.mul(bce, f, f)
	t.add(dbce, f, f) // γ·r·(1−2t)·bce + dbce
	t.mul(at, ug, ug)
	t.mul(ug, bce, loss)
	t.mul(ug, f, grad)
	nz := t.maskReg()
	t.cmp(U8(cmpNEQ), r.constant("zero"), u, nz) // u ≠ 0, or NaN
	t.movaZ(loss, nz, loss)
	t.movaZ(grad, nz, grad)
	Label("scaled" + suffix)
	w := r.operand(argW)
	t.mul(w, loss, loss)
	t.mul(w, grad, grad)
	t.mul(r.operand(argG), grad, grad)
	return loss, grad
}

// Gemm microkernel tile sizes: MR rows of A by NR columns of B.
func (t flt) gemmTile() (mr, nr int) {
	if t.avx2 {
		return 6, 16
	}
	return 8, 32
}

// genGemm emits the float32 GEMM microkernel: over k steps it multiplies a
// packed panel of MR rows of A (k×MR, row p holding column p of the rows)
// by a packed panel of NR columns of B (k×NR) and writes, or with add adds,
// the MR×NR result to C (rows ldc floats apart). Two vectors of B a step,
// each row's A value broadcast, 2·MR accumulators.
func genGemm(t flt) {
	mr, nr := t.gemmTile()
	name := t.name("gemmKernel")
	TEXT(name, NOSPLIT, "func(k int, a, b, c *float32, ldc int, add bool)")
	Pragma("noescape")
	Doc(fmt.Sprintf("%s computes C[0:%d, 0:%d] (+)= A·B over k steps of packed panels.", name, mr, nr))
	k := Load(Param("k"), GP64())
	a := Load(Param("a"), GP64())
	b := Load(Param("b"), GP64())
	c := Load(Param("c"), GP64())
	ldc := Load(Param("ldc"), GP64())
	SHLQ(U8(2), ldc) // bytes
	vecs := nr / t.lanes
	acc := make([]VecVirtual, mr*vecs)
	for i := range acc {
		acc[i] = t.vec()
		VXORPS(acc[i], acc[i], acc[i])
	}
	Label("loop")
	TESTQ(k, k)
	JZ(LabelRef("store"))
	bv := make([]VecVirtual, vecs)
	for j := range bv {
		bv[j] = t.vec()
		VMOVUPS(Mem{Base: b, Disp: j * t.vbytes()}, bv[j])
	}
	for r := range mr {
		av := Mem{Base: a, Disp: 4 * r}
		if t.avx2 {
			x := t.vec()
			VBROADCASTSS(av, x)
			for j := range vecs {
				VFMADD231PS(x, bv[j], acc[r*vecs+j])
			}
			continue
		}
		for j := range vecs {
			VFMADD231PS_BCST(av, bv[j], acc[r*vecs+j])
		}
	}
	ADDQ(U8(4*mr), a)
	ADDQ(U32(4*nr), b)
	DECQ(k)
	JMP(LabelRef("loop"))

	Label("store")
	addFlag := GP8()
	Load(Param("add"), addFlag)
	row := GP64()
	TESTB(addFlag, addFlag)
	JZ(LabelRef("write"))
	MOVQ(c, row) // add: acc += C first
	for r := range mr {
		for j := range vecs {
			VADDPS(Mem{Base: row, Disp: j * t.vbytes()}, acc[r*vecs+j], acc[r*vecs+j])
		}
		ADDQ(ldc, row)
	}
	Label("write")
	MOVQ(c, row)
	for r := range mr {
		for j := range vecs {
			VMOVUPS(acc[r*vecs+j], Mem{Base: row, Disp: j * t.vbytes()})
		}
		ADDQ(ldc, row)
	}
	VZEROUPPER()
	RET()
}

// below emits the loop while i < end { body }, which moves i on; its labels
// carry prefix.
func below(prefix string, i GPVirtual, end Op, body func()) {
	Label(prefix)
	CMPQ(i, end)
	JGE(LabelRef(prefix + "done"))
	body()
	JMP(LabelRef(prefix))
	Label(prefix + "done")
}

// genSoftmaxRowsStream emits the streaming kernel of plain softmax
// cross-entropy (AVX-512 only): see SoftmaxRowsStream in internal/kernel.
// Row r's exp pass runs in one loop with the maximum of row r+1, which
// brings that row into the cache while there is arithmetic to hide it
// behind, and with the gradient of row r−1, read from the scratch row and
// written with non-temporal stores, which neither read the gradient's
// lines first nor leave them in the cache. The scratch row holds row r−1's
// exponentials until row r's overwrite them: each vector of it is read for
// the gradient before, or in the same turn as, it is written, so its lines
// come from L1. Every value is computed as softmaxRows computes it, in the
// same order.
func genSoftmaxRowsStream(t flt) {
	name := t.name("softmaxRowsStream")
	TEXT(name, NOSPLIT, fmt.Sprintf("func(x, grad, scratch *%[1]s, c int, ys []int64, scales, ms, fixes []%[1]s, ss []float64)", t.goType))
	Pragma("noescape")
	saved := flushSubnormals()
	Doc(name + " runs softmax cross-entropy over len(ys) ≥ 1 rows of c ≥ " + fmt.Sprint(4*t.lanes) +
		" logits, every ys[r] ≥ 0, with a scratch row of c elements, writing the gradient with non-temporal stores except at each target, whose value it leaves in fixes[r].")
	vb := t.vbytes()
	shift := U8(2)
	if t.is64() {
		shift = 3
	}
	ntStore := func(src, dst Op) {
		if t.is64() {
			VMOVNTPD(src, dst)
		} else {
			VMOVNTPS(src, dst)
		}
	}

	// Per-call values and per-row pointers live in the frame.
	rowBytesL, pairEndL, rowsL := AllocLocal(8), AllocLocal(8), AllocLocal(8)
	ysL, scL, msL, fxL, ssL := AllocLocal(8), AllocLocal(8), AllocLocal(8), AllocLocal(8), AllocLocal(8)
	aL := AllocLocal(8) // a = scale/s of the row in the scratch

	x := Load(Param("x"), GP64())
	gPrev := Load(Param("grad"), GP64()) // the gradient row of the scratch
	sr := Load(Param("scratch"), GP64())
	{
		c := Load(Param("c"), GP64())
		rb := GP64()
		MOVQ(c, rb)
		SHLQ(shift, rb)
		MOVQ(rb, rowBytesL)
		ANDQ(I32(-2*vb), rb) // bytes of the whole pairs of vectors
		MOVQ(rb, pairEndL)
		for _, p := range []struct {
			c   gotypes.Component
			dst Mem
		}{{Param("ys").Base(), ysL}, {Param("scales").Base(), scL}, {Param("ms").Base(), msL},
			{Param("fixes").Base(), fxL}, {Param("ss").Base(), ssL}, {Param("ys").Len(), rowsL}} {
			r := Load(p.c, GP64())
			MOVQ(r, p.dst)
		}
	}

	negInf := t.broadcast("negInf", math.Inf(-1))
	min := t.expMin()
	m, aPrev := t.vec(), t.vec()

	// m = max of row 0.
	{
		p := GP64()
		MOVQ(x, p)
		mm := t.rowMax("max", p, rowBytesL, shift, negInf)
		ms := GP64()
		MOVQ(msL, ms)
		t.movs(mm.AsX(), Mem{Base: ms})
		t.bcast(mm.AsX(), m)
	}

	// alignment sets h to the bytes before gPrev's first aligned vector,
	// and nt to the bytes of the whole aligned vectors from there.
	alignment := func() (h, nt GPVirtual) {
		h, nt = GP64(), GP64()
		MOVQ(gPrev, h)
		NEGQ(h)
		ANDQ(U8(vb-1), h)
		MOVQ(rowBytesL, nt)
		SUBQ(h, nt)
		ANDQ(I32(-vb), nt)
		return h, nt
	}
	// scaled returns aPrev·(the scratch at byte o), under k.
	scaled := func(o GPVirtual, k Register) VecVirtual {
		w := t.vec()
		t.load(Mem{Base: sr, Index: o, Scale: 1}, k, w)
		t.mul(aPrev, w, w)
		return w
	}
	// stream writes the scratch row's gradient at the aligned vectors from
	// byte o (moved on) up to end, with non-temporal stores.
	stream := func(prefix string, o, end GPVirtual) {
		below(prefix+"nt", o, end, func() {
			ntStore(scaled(o, nil), Mem{Base: gPrev, Index: o, Scale: 1})
			ADDQ(U8(vb), o)
		})
	}
	// edges writes the scratch row's gradient outside its aligned vectors,
	// before the first (h bytes) and after the last (from byte h + nt), with
	// ordinary masked stores, and leaves its target's value in fixes.
	edges := func(prefix string, h, nt GPVirtual) {
		n, k := GP64(), t.maskReg()
		MOVQ(h, n)
		SHRQ(shift, n)
		JZ(LabelRef(prefix + "after"))
		t.tailMask(n, k)
		zero := GP64()
		XORQ(zero, zero)
		t.store(scaled(zero, k), k, Mem{Base: gPrev})
		Label(prefix + "after")
		o := GP64()
		MOVQ(h, o)
		ADDQ(nt, o)
		MOVQ(rowBytesL, n)
		SUBQ(o, n)
		SHRQ(shift, n) // < one vector
		JZ(LabelRef(prefix + "fix"))
		t.tailMask(n, k)
		t.store(scaled(o, k), k, Mem{Base: gPrev, Index: o, Scale: 1})
		Label(prefix + "fix")
		y, p, f := GP64(), GP64(), t.vec()
		MOVQ(ysL, p)
		MOVQ(Mem{Base: p, Disp: -8}, y)
		t.movs(Mem{Base: sr, Index: y, Scale: uint8(t.size)}, f.AsX())
		if t.is64() {
			VMULSD(aPrev.AsX(), f.AsX(), f.AsX())
		} else {
			VMULSS(aPrev.AsX(), f.AsX(), f.AsX())
		}
		MOVQ(scL, p)
		t.subs(Mem{Base: p, Disp: -t.size}, f.AsX(), f.AsX())
		MOVQ(fxL, p)
		t.movs(f.AsX(), Mem{Base: p, Disp: -t.size})
	}

	// row emits one row: its exponentials into the scratch row with the
	// max of the next row and, withPrev, first the gradient of the row
	// the scratch holds; then moves every pointer on.
	row := func(prefix string, withPrev bool) {
		xn := GP64()
		MOVQ(x, xn)
		CMPQ(rowsL, U8(1))
		JE(LabelRef(prefix + "last"))
		ADDQ(rowBytesL, xn)
		Label(prefix + "last")
		var accs [2]VecVirtual
		for i := range accs {
			accs[i] = t.vec()
			t.mova(negInf, accs[i])
		}
		lo, hi := t.zeroed()
		pending := t.vec()
		i := GP64()
		XORQ(i, i)
		// pair is one turn of two vectors at byte i: the previous row's
		// gradient at the aligned vectors h + i + (0, vb) first, withNT;
		// then the exponentials and the next row's maximum.
		pair := func(withNT bool, h GPVirtual) {
			if withNT {
				for v := range 2 {
					o := GP64()
					LEAQ(Mem{Base: i, Index: h, Scale: 1, Disp: v * vb}, o)
					ntStore(scaled(o, nil), Mem{Base: gPrev, Index: o, Scale: 1})
				}
			}
			for v, place := range []pairPlace{pairFirst, pairSecond} {
				off := v * vb
				e, ev := t.vec(), t.vec()
				t.load(Mem{Base: x, Index: i, Scale: 1, Disp: off}, nil, e)
				t.sub(m, e, e)
				t.exp(e, ev, min)
				t.store(ev, nil, Mem{Base: sr, Index: i, Scale: 1, Disp: off})
				t.pairSum(ev, pending, lo, hi, place)
				t.max(Mem{Base: xn, Index: i, Scale: 1, Disp: off}, accs[v], accs[v])
			}
			ADDQ(U32(2*vb), i)
		}
		if withPrev {
			t.bcast(aL, aPrev)
			h, nt := alignment()
			edges(prefix, h, nt)
			// Turns while both of their aligned vectors exist: i < nt rounded
			// down to pairs; then the one aligned vector that may be left.
			end := GP64()
			MOVQ(nt, end)
			ANDQ(I32(-2*vb), end)
			CMPQ(end, pairEndL)
			CMOVQGT(pairEndL, end)
			below(prefix+"fused", i, end, func() { pair(true, h) })
			o := GP64()
			LEAQ(Mem{Base: i, Index: h, Scale: 1}, o)
			ADDQ(h, nt)
			stream(prefix, o, nt)
		}
		below(prefix+"pair", i, pairEndL, func() { pair(false, nil) })
		n := GP64()
		MOVQ(rowBytesL, n)
		SUBQ(i, n)
		SHRQ(shift, n)
		t.loop(prefix+"single", n, func(k Register) {
			e, ev := t.vec(), t.vec()
			t.load(Mem{Base: x, Index: i, Scale: 1}, k, e)
			t.sub(m, e, e)
			t.exp(e, ev, min)
			if k != nil {
				t.movaZ(ev, k, ev)
			}
			t.store(ev, k, Mem{Base: sr, Index: i, Scale: 1})
			t.sum(ev, lo, hi)
			if k == nil {
				t.max(Mem{Base: xn, Index: i, Scale: 1}, accs[0], accs[0])
				return
			}
			v := t.vec()
			t.loadOr(Mem{Base: xn, Index: i, Scale: 1}, k, negInf, v)
			t.max(v, accs[0], accs[0])
		}, func() { ADDQ(U8(vb), i) })

		// ss[r] = s; a = scale/s for the next turn; m = max of the next row.
		s := t.reduce(lo, hi)
		p := GP64()
		MOVQ(ssL, p)
		VMOVSD(s.AsX(), Mem{Base: p})
		a := t.vec()
		MOVQ(scL, p)
		t.movs(Mem{Base: p}, a.AsX())
		t.divScale(a, s, a)
		t.movs(a.AsX(), aL)
		t.max(accs[1], accs[0], accs[0])
		mm := t.hmax(accs[0])
		t.bcast(mm.AsX(), m)
		CMPQ(rowsL, U8(1))
		JE(LabelRef(prefix + "nonext"))
		MOVQ(msL, p)
		t.movs(mm.AsX(), Mem{Base: p, Disp: t.size})
		Label(prefix + "nonext")

		if withPrev {
			ADDQ(rowBytesL, gPrev)
		}
		ADDQ(rowBytesL, x)
		for _, l := range []struct {
			m Mem
			d int
		}{{ysL, 8}, {scL, t.size}, {msL, t.size}, {fxL, t.size}, {ssL, 8}} {
			ADDQ(U8(l.d), l.m)
		}
		DECQ(rowsL)
	}

	row("first", false)
	Label("rows")
	CMPQ(rowsL, U8(0))
	JE(LabelRef("final"))
	row("next", true)
	JMP(LabelRef("rows"))

	// The last row's gradient, alone.
	Label("final")
	t.bcast(aL, aPrev)
	h, nt := alignment()
	edges("final", h, nt)
	o := GP64()
	MOVQ(h, o)
	ADDQ(h, nt)
	stream("final", o, nt)
	SFENCE()
	VZEROUPPER()
	LDMXCSR(saved)
	RET()
}
