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

// The element kernels take a pointer to a frame, elemArgs (float32) or
// elemArgs64 in internal/kernel: eight operand pointers, n, the byte steps
// of the operands that may be broadcast (set here: a vector's bytes, or 0
// for a nil pointer), the focal constants a1, a2 (of the element type), γ,
// γ+ and the mode, then one 64-byte lane per optional operand that a nil
// pointer is pointed at (its scalar, or a sink for an output). elemFrame
// holds the fields' byte offsets, read from that Go type through avo's
// gotypes: the Go declaration is the one definition of the layout.
type elemFrame struct {
	x, t, w, q, g, h, grad, loss, n          int
	wInc, qInc, gInc, hInc, gradInc, lossInc int
	ws, qs, gs, s, rows                      int
	a1, a2, gamma, gamma2, mode              int
	lanes, laneBytes                         int
}

// frameType is the Go type of t's element frame.
func (t flt) frameType() string {
	if t.is64() {
		return "elemArgs64"
	}
	return "elemArgs"
}

// loadFrame loads the frame pointer, the kernel's parameter a, into a
// register and reads the frame's layout from its type.
func loadFrame() (elemFrame, Register) {
	a := Dereference(Param("a"))
	at := func(c gotypes.Component) (int, Register) {
		b, err := c.Resolve()
		if err != nil {
			panic(err)
		}
		return b.Addr.Disp, b.Addr.Base
	}
	off := func(name string) int {
		d, _ := at(a.Field(name))
		return d
	}
	lanes := a.Field("lanes")
	first, base := at(lanes.Index(0).Index(0))
	second, _ := at(lanes.Index(1).Index(0))
	return elemFrame{
		x: off("x"), t: off("t"), w: off("w"), q: off("q"), g: off("g"), h: off("h"), grad: off("grad"), loss: off("loss"), n: off("n"),
		ws: off("ws"), qs: off("qs"), gs: off("gs"), s: off("s"), rows: off("rows"),
		wInc: off("wInc"), qInc: off("qInc"), gInc: off("gInc"), hInc: off("hInc"), gradInc: off("gradInc"), lossInc: off("lossInc"),
		a1: off("a1"), a2: off("a2"), gamma: off("gamma"), gamma2: off("gamma2"), mode: off("mode"),
		lanes: first, laneBytes: second - first,
	}, base
}

// sinkGamma is where AVX2 keeps γ as the element type: the second half of
// the sink lane, which its 32-byte vectors never write; γ+ follows it.
func (f elemFrame) sinkGamma() int { return f.lanes + 4*f.laneBytes + 32 }

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
	f     elemFrame
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
		t.bcast(Mem{Base: r.args, Disp: r.f.a1}, v)
	case "a2":
		t.bcast(Mem{Base: r.args, Disp: r.f.a2}, v)
	case "gamma": // γ as the element type, kept in the sink lane's second half
		t.bcast(Mem{Base: r.args, Disp: r.f.sinkGamma()}, v)
	case "gamma2": // γ+, after it
		t.bcast(Mem{Base: r.args, Disp: r.f.sinkGamma() + t.size}, v)
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
	TEXT(t.name(base), NOSPLIT, fmt.Sprintf("func(a *%s) float64", t.frameType()))
	Pragma("noescape")
	saved := flushSubnormals()
	f, args := loadFrame()
	r := &elemRegs{t: t, f: f, args: args, ptr: map[int]Register{}, regs: map[string]VecVirtual{}}
	for _, off := range []int{f.x, f.t} {
		p := GP64()
		MOVQ(Mem{Base: args, Disp: off}, p)
		r.ptr[off] = p
	}
	// A nil optional operand reads (or writes) its lane in the frame, with
	// a step of 0; the lane of an input gets its scalar (1 for h) here, by
	// a vector store that the loop's first loads are forwarded from.
	lane := func(i int) int { return f.lanes + i*f.laneBytes }
	one := t.c("one", 1)
	for i, o := range []struct {
		ptr, inc, lane int
		scalar         *Mem
	}{
		{f.w, f.wInc, lane(0), &Mem{Base: args, Disp: f.ws}}, {f.q, f.qInc, lane(1), &Mem{Base: args, Disp: f.qs}},
		{f.g, f.gInc, lane(2), &Mem{Base: args, Disp: f.gs}}, {f.h, f.hInc, lane(3), &one},
		{f.grad, f.gradInc, lane(4), nil}, {f.loss, f.lossInc, lane(4), nil},
	} {
		p := GP64()
		MOVQ(Mem{Base: args, Disp: o.ptr}, p)
		set, done := fmt.Sprintf("set%d", i), fmt.Sprintf("done%d", i)
		TESTQ(p, p)
		JNZ(LabelRef(set))
		LEAQ(Mem{Base: args, Disp: o.lane}, p)
		MOVQ(U32(0), Mem{Base: args, Disp: o.inc})
		if o.scalar != nil {
			v := t.vec()
			t.bcast(*o.scalar, v)
			t.movu(v, Mem{Base: p})
		}
		JMP(LabelRef(done))
		Label(set)
		MOVQ(U32(t.vbytes()), Mem{Base: args, Disp: o.inc})
		Label(done)
		r.ptr[o.ptr] = p
	}
	n := GP64()
	MOVQ(Mem{Base: args, Disp: f.n}, n)
	// γ as the element type: AVX-512 keeps it in a register; AVX2 puts it
	// in the second half of the sink lane, which its 32-byte vectors never
	// write, and broadcasts it where it is used.
	r.gamma = Mem{Base: args, Disp: f.gamma}
	g := t.vec()
	if t.is64() {
		VCVTSI2SDQ(r.gamma, g.AsX(), g.AsX()) // VEX, as every vector instruction here (see storeFloat)
	} else {
		VCVTSI2SSQ(r.gamma, g.AsX(), g.AsX())
	}
	if base == "asymmetric" { // its γ+ too: beside γ on AVX2, in a register on AVX-512
		g2 := t.vec()
		if t.is64() {
			VCVTSI2SDQ(Mem{Base: args, Disp: f.gamma2}, g2.AsX(), g2.AsX())
		} else {
			VCVTSI2SSQ(Mem{Base: args, Disp: f.gamma2}, g2.AsX(), g2.AsX())
		}
		if t.avx2 {
			t.movs(g2.AsX(), Mem{Base: args, Disp: f.sinkGamma() + t.size})
		} else {
			t.bcast2(g2)
			r.regs["gamma2"] = g2
		}
	}
	if t.avx2 {
		t.movs(g.AsX(), Mem{Base: args, Disp: f.sinkGamma()})
	} else {
		t.bcast2(g)
		r.regs["gamma"] = g
		preload := []string{"one", "two", "zero", "absMask", "a1", "a2"}
		if base == "asymmetric" { // it has no a2: one register more for its one-log path
			preload = preload[:5]
		}
		for _, name := range preload {
			r.constant(name)
		}
		r.regs["expMin"] = t.expMin()
	}
	r.sum[0], r.sum[1] = t.zeroed()
	r.x, r.tg = t.vec(), t.vec()

	// rows of n elements each; with row weights s (w is nil), each row's
	// weight ws·s[r] goes into w's lane before it.
	Label("row")
	CMPQ(Mem{Base: args, Disp: f.rows}, U8(0))
	JE(LabelRef("rowsdone"))
	sp := GP64()
	MOVQ(Mem{Base: args, Disp: f.s}, sp)
	TESTQ(sp, sp)
	JZ(LabelRef("rowweighed"))
	sw, ws := t.vec(), t.vec()
	t.bcast(Mem{Base: sp}, sw)
	t.bcast(Mem{Base: args, Disp: f.ws}, ws)
	t.mul(ws, sw, sw)
	t.movu(sw, Mem{Base: args, Disp: lane(0)})
	ADDQ(U8(t.size), Mem{Base: args, Disp: f.s})
	Label("rowweighed")
	MOVQ(Mem{Base: args, Disp: f.n}, n)
	t.loop("", n, func(k Register) {
		r.k = k
		t.load(Mem{Base: r.ptr[f.x]}, k, r.x)
		t.load(Mem{Base: r.ptr[f.t]}, k, r.tg)
		loss, grad := body(r)
		t.store(grad, k, Mem{Base: r.ptr[f.grad]})
		t.store(loss, k, Mem{Base: r.ptr[f.loss]})
		t.mul(r.operand(f.h), loss, loss)
		if k != nil {
			t.movaZ(loss, k, loss)
		}
		t.sum(loss, r.sum[0], r.sum[1])
	}, func() {
		ADDQ(U8(t.vbytes()), r.ptr[f.x])
		ADDQ(U8(t.vbytes()), r.ptr[f.t])
		for _, o := range [][2]int{{f.w, f.wInc}, {f.q, f.qInc}, {f.g, f.gInc}, {f.h, f.hInc}, {f.grad, f.gradInc}, {f.loss, f.lossInc}} {
			ADDQ(Mem{Base: args, Disp: o[1]}, r.ptr[o[0]])
		}
	})
	// Past the row's tail of n elements: x and t by its bytes, the others
	// too unless they stand still (a step of 0).
	SHLQ(U8(t.shift()), n)
	ADDQ(n, r.ptr[f.x])
	ADDQ(n, r.ptr[f.t])
	for _, o := range [][2]int{{f.w, f.wInc}, {f.q, f.qInc}, {f.g, f.gInc}, {f.h, f.hInc}, {f.grad, f.gradInc}, {f.loss, f.lossInc}} {
		step := GP64()
		MOVQ(Mem{Base: args, Disp: o[1]}, step)
		TESTQ(step, step)
		CMOVQNE(n, step)
		ADDQ(step, r.ptr[o[0]])
	}
	DECQ(Mem{Base: args, Disp: f.rows})
	JMP(LabelRef("row"))
	Label("rowsdone")
	storeFloat(t.reduce(r.sum[0], r.sum[1]).AsX(), 0)
	VZEROUPPER()
	LDMXCSR(saved)
	RET()
}

// reciprocal sets out = 1/d for normal d (the kernels' d are in [1, 3], or
// the asymmetric loss's u ≤ 1 and p_m). float32 on AVX-512: VRCP14PS
// (relative error below 2⁻¹⁴) and one Newton–Raphson step r·(2 − d·r),
// which squares the error to about 2⁻²⁸, under half an ulp; otherwise a
// division. out may be d; d is overwritten (the Newton step is computed in
// it, which saves a copy).
func (r *elemRegs) reciprocal(d, out VecVirtual) {
	t := r.t
	if t.is64() || t.avx2 {
		t.div(d, r.constant("one"), out)
		return
	}
	x := t.vec()
	VRCP14PS(d, x)
	VFNMADD213PS(r.constant("two"), x, d) // 2 − d·x
	VMULPS(d, x, out)
}

// log1p returns log(1 + z) for z in [−1/4, 1] as 2·atanh(s) =
// 2·Σ s^(2k+1)/(2k+1), s = z/(2+z) (float64: one division; float32: z
// times the reciprocal), |s| ≤ 1/3: to s¹³ for float32, s³³ for
// float64 (the truncation below half an ulp). With small, z is in
// [−1/4, 1/2) and |s| ≤ 1/5: to s⁹ and s²³, a truncation below
// (1/5)¹⁰/11 ≈ 1e-8 and (1/5)²⁴/25 ≈ 7e-19 of the value.
func (r *elemRegs) log1p(z VecVirtual, small bool) VecVirtual {
	t := r.t
	s, s2, p := t.vec(), t.vec(), t.vec()
	t.add(r.constant("two"), z, s)
	if t.is64() { // one rounding: a division is what float64 takes anyway
		t.div(s, z, s)
	} else {
		r.reciprocal(s, s)
		t.mul(z, s, s)
	}
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
	if !t.avx2 && !t.is64() {
		return r.logTable(u)
	}
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

// logTable is log for float32 on AVX-512, with a table in place of most of
// the polynomial: u = m·2^k with m in [1, 2) from VGETMANT and k from
// VGETEXP; the top 4 bits of m's mantissa pick c_i, the centre of
// [1 + i/16, 1 + (i+1)/16) (c_0 = 1, c_15 = 2), whose 1/c_i and log c_i
// are looked up with VPERMPS; then
//
//	log u = (k·ln2 + log c_i) + log1p(r),  r = m·(1/c_i) − 1 (one FMA),
//
// |r| < 1/16, and log1p(r) = r + r²·(−1/2 + r/3 − r²/4 + r³/5), whose
// truncation |r|⁶/6 < 2.9e-9 (of a result ≥ 0.63 there: u ≤ 1, and r ≥
// 1/32 only at i = 0 with k < 0). Near u = 1 (i = 15, k = −1) the first
// part is −ln2 + ln2 = 0 exactly, so the result keeps its relative
// accuracy. Its latency is about half the polynomial's (Horner of degree
// 8), which is what the asymmetric kernel waits for.
func (r *elemRegs) logTable(u VecVirtual) VecVirtual {
	t := r.t
	invC, logC := logTables()
	m, k, i := t.vec(), t.vec(), t.vec()
	VGETMANTPS(U8(0), u, m) // [1, 2)
	VGETEXPPS(u, k)
	VPSRLD(U8(23-4), u, i) // VPERMPS reads the index's low 4 bits: the top 4 of the mantissa
	ic, lc := t.vec(), t.vec()
	VPERMPS(invC, i, ic)
	VPERMPS(logC, i, lc)
	rr := m
	VFMSUB213PS(r.constant("one"), ic, rr) // m·(1/c) − 1
	r2, a, b := t.vec(), t.vec(), t.vec()
	t.mul(rr, rr, r2)
	t.bcast(t.c("logT5", 1.0/5), a)
	t.fma213C(t.c("logT4", -1.0/4), rr, a) // r/5 − 1/4
	t.bcast(t.c("logT3", 1.0/3), b)
	t.fma213C(t.c("logT2", -1.0/2), rr, b)                // r/3 − 1/2
	t.fma213(b, r2, a)                                    // −1/2 + r/3 − r²/4 + r³/5
	t.fma213(rr, r2, a)                                   // log1p(r)
	t.fma231C(t.c("ln2hi", 0x1.62e42fefa39efp-01), k, lc) // k·ln2 + log c
	t.add(lc, a, a)
	return a
}

// logTables returns the tables of logTable: 1/c_i and log c_i =
// −log(1/c_i) of the float32 1/c_i, rounded to float32, log c_15 = ln2 as
// the ln2 constant rounds it.
func logTables() (invC, logC Mem) {
	if m, ok := constants["logInvC"]; ok {
		return m, constants["logLogC"]
	}
	invC = GLOBL("logInvC", attr.RODATA|attr.NOPTR)
	inv := make([]float32, 16)
	for i := range inv {
		c := 1 + (float64(i)+0.5)/16
		switch i {
		case 0:
			c = 1
		case 15:
			c = 2
		}
		inv[i] = float32(1 / c)
		DATA(4*i, U32(math.Float32bits(inv[i])))
	}
	logC = GLOBL("logLogC", attr.RODATA|attr.NOPTR)
	for i := range inv {
		l := float32(-math.Log(float64(inv[i])))
		if i == 15 {
			l = float32(0x1.62e42fefa39efp-01)
		}
		DATA(4*i, U32(math.Float32bits(l)))
	}
	constants["logInvC"], constants["logLogC"] = invC, logC
	return invC, logC
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
	mode := Mem{Base: r.args, Disp: r.f.mode}
	gamma := Mem{Base: r.args, Disp: r.f.gamma}
	loss, grad = t.vec(), t.vec()
	omt := t.vec()
	t.sub(r.tg, r.constant("one"), omt) // 1 − t

	// clipNegative is the negative term for m > 0 into ln and gn, where
	// p_m > 0 (0 elsewhere), with logOf(u) for its log u; label names its
	// branches.
	clipNegative := func(label string, ln, gn VecVirtual, logOf func(u VecVirtual) VecVirtual) {
		m := r.constant("a1")
		pm, u := t.vec(), t.vec()
		t.sub(m, sx, pm)
		t.max(pm, zero, pm) // max(p − m, 0), NaN kept
		t.add(m, smx, u)
		t.pick(VMINPS, VMINPD)(u, r.constant("one"), u) // min(σ(−x) + m, 1), NaN kept
		logU := logOf(u)                                // the longest chain: what does not need it is computed beside it
		of := r.power(pm, gamma, "pow"+label)
		t.mul(omt, of, of) // (1−t)·p_m^γ−
		sso := t.vec()
		t.mul(sx, smx, sso)
		t.mul(of, sso, sso) // (1−t)·σ(x)σ(−x)·p_m^γ−
		t.mova(logU, ln)
		t.fnmadd213(zero, of, ln) // −(1−t)·p_m^γ−·log u
		TESTQ(U32(modeDetach), mode)
		JNZ(LabelRef(label + "Detached"))
		// 1/u − γ−·log u/p_m = (p_m − γ−·u·log u)/(u·p_m): one reciprocal,
		// and after the log one FMA and one product.
		d, gu := t.vec(), t.vec()
		t.mul(u, pm, d)
		r.reciprocal(d, d) // where p_m is 0 the lane is masked below
		t.mul(sso, d, d)
		t.mul(r.constant("gamma"), u, gu)
		t.mova(pm, gn)
		t.pick(VFNMADD231PS, VFNMADD231PD)(gu, logU, gn) // p_m − γ−·u·log u
		t.mul(d, gn, gn)
		JMP(LabelRef(label + "Scaled"))
		Label(label + "Detached")
		t.mova(u, gn)
		r.reciprocal(gn, gn) // 1/u (reciprocal's Newton step holds for any normal u)
		t.mul(sso, gn, gn)
		Label(label + "Scaled")
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
		clipNegative("ClipOnly"+suffix, ln, gn, r.log)
		t.add(zero, ln, loss)
		t.add(zero, gn, grad)
		JMP(LabelRef("terms" + suffix))
	}

	Label("full" + suffix)
	// On AVX-512 the clipped negative term comes first: its log is the
	// longest chain, and the softplus and the positive term are computed
	// beside it. AVX2 has too few registers to hold it meanwhile.
	ln, gn := t.vec(), t.vec()
	clipFirst := !t.avx2
	var sp VecVirtual // softplus(−|x|) = log1p(e)
	oneLog := clipFirst && !t.is64()
	if clipFirst {
		TESTQ(U32(modeClip), mode)
		JZ(LabelRef("softplus" + suffix))
	}
	if oneLog {
		sp = t.vec()
		// Targets of only 0 and 1 (t·(1−t) = 0 in every lane) need one log
		// a lane: of u where t = 0, of d = 1 + e (rounded) where t = 1, whose
		// log1p(e) = log d + log1p((e − (d − 1))/d) is log d + (e − (d − 1)):
		// the rounding error e − (d − 1) is exact, and taking it for its
		// log1p(·/d) errs by under 2⁻²⁴ of log1p(e).
		soft := t.maskReg()
		tt := t.vec()
		t.mul(r.tg, omt, tt)
		t.cmp(U8(cmpNEQ), zero, tt, soft)
		KORTESTW(soft, soft)
		JNZ(LabelRef("softTargets" + suffix))
		var logD VecVirtual
		clipNegative("ClipHard"+suffix, ln, gn, func(u VecVirtual) VecVirtual {
			arg, hard := t.vec(), t.maskReg()
			t.add(r.constant("one"), e, arg)    // d
			t.cmp(U8(cmpNEQ), zero, r.tg, hard) // t = 1
			t.blend(arg, u, hard, arg)          // t = 1 ? d : u
			logD = r.log(arg)
			return logD
		})
		t.add(r.constant("one"), e, sp)
		t.sub(r.constant("one"), sp, sp)
		t.sub(sp, e, sp)    // e − (d − 1), exact
		t.add(logD, sp, sp) // log d + (e − (d − 1))
		JMP(LabelRef("softplusDone" + suffix))
		Label("softTargets" + suffix)
	}
	if clipFirst {
		clipNegative("Clip"+suffix, ln, gn, r.log)
		Label("softplus" + suffix)
	}
	if oneLog {
		t.mova(r.log1p(e, false), sp)
		Label("softplusDone" + suffix)
	} else {
		sp = r.log1p(e, false)
	}
	xn, spNeg, spPos := t.vec(), t.vec(), t.vec()
	t.blend(zero, r.x, pos, xn) // x ≥ 0 ? 0 : x
	t.sub(xn, sp, spNeg)        // softplus(−x)
	positivePart := func() {
		xp := t.vec()
		t.blend(r.x, zero, pos, xp) // x ≥ 0 ? x : 0
		t.add(xp, sp, spPos)        // softplus(x)
	}
	if !clipFirst { // AVX2: now, while the registers are free; otherwise where m = 0 needs it
		positivePart()
	}

	// The positive term.
	tf := r.power(smx, Mem{Base: r.args, Disp: r.f.gamma2}, "powPos"+suffix)
	t.mul(r.tg, tf, tf) // t·σ(−x)^γ+
	t.mul(tf, spNeg, loss)
	t.mova(smx, grad)
	TESTQ(U32(modeDetach), mode)
	JNZ(LabelRef("posDetached" + suffix))
	CMPQ(Mem{Base: r.args, Disp: r.f.gamma2}, U8(0)) // γ+ = 0: the (…) is σ(−x), as detached
	JE(LabelRef("posDetached" + suffix))
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

	// The negative term, into ln and gn (already there for m > 0), absent
	// for t = 1.
	TESTQ(U32(modeClip), mode)
	if clipFirst {
		JNZ(LabelRef("negDone" + suffix))
	} else {
		JNZ(LabelRef("clip" + suffix))
	}
	{ // m = 0
		if clipFirst {
			positivePart()
		}
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
	}
	if !clipFirst {
		JMP(LabelRef("negDone" + suffix))
		Label("clip" + suffix)
		clipNegative("Clip"+suffix, ln, gn, r.log)
	}
	Label("negDone" + suffix)
	absent := t.maskReg()
	t.cmp(U8(cmpNEQ), zero, omt, absent) // 1 − t ≠ 0
	t.movaZ(ln, absent, ln)
	t.movaZ(gn, absent, gn)
	t.add(ln, loss, loss)
	t.add(gn, grad, grad)

	Label("terms" + suffix)
	w := r.operand(r.f.w)
	t.mul(w, loss, loss)
	t.mul(w, grad, grad)
	t.mul(r.operand(r.f.g), grad, grad)
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
	q := r.operand(r.f.q)
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
	w := r.operand(r.f.w)
	t.mul(w, loss, loss)
	t.mul(w, grad, grad)
	t.mul(r.operand(r.f.g), grad, grad)
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
	w := r.operand(r.f.w)
	t.mul(w, loss, loss)
	t.mul(w, grad, grad)
	t.mul(r.operand(r.f.g), grad, grad)
	return loss, grad
}

// genFillRows emits fillRows, the per-element weights of rows that share
// one weight each (FillRows):
//
//	for r := range s { for k := range c { dst[r·c+k] = ws·s[r] } }
//
// A row shorter than a vector is one full vector store, whose lanes past
// the row the next rows overwrite, while the rows left hold at least a
// vector's elements; any other row is whole vectors and then its last
// elements, by a full store in the same way or by a masked one at the end.
// No MXCSR change: the product is rounded as Go rounds it.
func genFillRows(t flt) {
	name := t.name("fillRows")
	TEXT(name, NOSPLIT, fmt.Sprintf("func(dst *%s, s []%s, c int, ws %s)", t.goType, t.goType, t.goType))
	Pragma("noescape")
	d := Load(Param("dst"), GP64())
	sp := Load(Param("s").Base(), GP64())
	left := Load(Param("s").Len(), GP64()) // the elements left to write
	c := Load(Param("c"), GP64())
	IMULQ(c, left)
	ws := t.vec()
	t.bcast(addr(Param("ws")), ws)
	rowBytes := GP64()
	MOVQ(c, rowBytes)
	SHLQ(U8(t.shift()), rowBytes)

	CMPQ(c, U8(t.lanes))
	JGE(LabelRef("row"))
	Label("short") // rows shorter than a vector, a store each
	CMPQ(left, U8(t.lanes))
	JL(LabelRef("row"))
	v := t.vec()
	t.bcast(Mem{Base: sp}, v)
	t.mul(ws, v, v)
	t.movu(v, Mem{Base: d})
	ADDQ(rowBytes, d)
	SUBQ(c, left)
	ADDQ(U8(t.size), sp)
	JMP(LabelRef("short"))

	n := GP64()
	Label("row")
	TESTQ(left, left)
	JZ(LabelRef("done"))
	t.bcast(Mem{Base: sp}, v)
	t.mul(ws, v, v)
	MOVQ(c, n)
	Label("full")
	CMPQ(n, U8(t.lanes))
	JL(LabelRef("part"))
	t.movu(v, Mem{Base: d})
	ADDQ(U8(t.vbytes()), d)
	SUBQ(U8(t.lanes), n)
	SUBQ(U8(t.lanes), left)
	JMP(LabelRef("full"))
	Label("part")
	TESTQ(n, n)
	JZ(LabelRef("next"))
	CMPQ(left, U8(t.lanes))
	JL(LabelRef("masked"))
	t.movu(v, Mem{Base: d}) // into the next rows, which overwrite it
	JMP(LabelRef("advance"))
	Label("masked")
	k := t.maskReg()
	t.tailMask(n, k)
	t.store(v, k, Mem{Base: d})
	Label("advance")
	SUBQ(n, left)
	SHLQ(U8(t.shift()), n)
	ADDQ(n, d)
	Label("next")
	ADDQ(U8(t.size), sp)
	JMP(LabelRef("row"))
	Label("done")
	VZEROUPPER()
	RET()
}
