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
	"go/types"
	"math"
	"os"

	"github.com/mmcloughlin/avo/attr"
	"github.com/mmcloughlin/avo/gotypes"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

func main() {
	ConstraintExpr("amd64,!noasm") // the stubs file's name ends in _stubs, which sets no GOARCH
	loadKernelPackage()

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
		if t == f32 {
			genSoftmaxRowsSmall(t)
		}
		if t.is64() {
			genLog(t)
		}
		genFirstOutside(t)
		genElements(t, "sigmoid", sigmoidBody)
		genElements(t, "sigmoidFocal", focalBody)
		genElements(t, "asymmetric", asymmetricBody)
		genFillRows(t)
	}
	genGemm(f32)
	genGemm(f32AVX2)
	Generate()
}

// loadKernelPackage loads internal/kernel's types for the kernels'
// signatures, so that the element kernels read their frame's layout from
// its Go declaration (frame.go). The package is in the main module, not in
// this generator's: it is loaded from its own directory, and with the tag
// noasm, so that the files this program writes are not read (a damaged
// stubs file cannot stop their regeneration).
func loadKernelPackage() {
	if err := os.Chdir(".."); err != nil {
		panic(err)
	}
	os.Setenv("GOFLAGS", "-tags=noasm")
	Package("github.com/xent-go/xent/internal/kernel")
	os.Unsetenv("GOFLAGS")
	if err := os.Chdir("_gen"); err != nil {
		panic(err)
	}
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

// shift is log2 of the element size: an element count shifted left by it
// is bytes.
func (t flt) shift() int {
	if t.is64() {
		return 3
	}
	return 2
}

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

// storeFloat stores the float result x (the low lane of a vector register)
// as return value i with a VEX move: avo's Store writes it with the legacy
// SSE MOVSS/MOVSD, which, while the upper halves of the vector registers
// are dirty (before VZEROUPPER), costs a state transition that made an
// empty element-kernel call 2.5× slower on an Intel Xeon.
func storeFloat(x Op, i int) {
	b, err := ReturnIndex(i).Resolve()
	if err != nil {
		panic(err)
	}
	if b.Type.Kind() == types.Float64 {
		VMOVSD(x, b.Addr)
	} else {
		VMOVSS(x, b.Addr)
	}
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

// muls multiplies the low lanes: dst = b·a.
func (t flt) muls(a, b, dst Op) {
	if t.is64() {
		VMULSD(a, b, dst)
	} else {
		VMULSS(a, b, dst)
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
