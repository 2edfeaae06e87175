package main

import (
	"fmt"
	"math"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

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
