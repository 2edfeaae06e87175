package main

import (
	"fmt"
	"math"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

func genMax(t flt) {
	name := t.name("max")
	TEXT(name, NOSPLIT, fmt.Sprintf("func(x []%s) %s", t.goType, t.goType))
	Pragma("noescape")
	Doc(name + " returns max_i x_i, or −Inf for an empty x.")
	p, n := GP64(), GP64()
	Load(Param("x").Base(), p)
	Load(Param("x").Len(), n)
	SHLQ(U8(t.shift()), n) // rowMax takes bytes
	storeFloat(t.rowMax("max", p, n, t.broadcast("negInf", math.Inf(-1))).AsX(), 0)
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
	storeFloat(t.reduce(lo, hi).AsX(), 0)
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
	storeFloat(t.reduce(lo, hi).AsX(), 0)
	VZEROUPPER()
	RET()
}

// rowMax returns, in the low lane of a register, the maximum of the row of
// rowBytes bytes at p (moved on), with four accumulators so that the
// loop runs at the pace of its loads, not of VMAXPS's latency.
func (t flt) rowMax(prefix string, p GPVirtual, rowBytes Op, negInf VecVirtual) VecVirtual {
	vb := t.vbytes()
	var accs [4]VecVirtual
	for i := range accs {
		accs[i] = t.vec()
		t.mova(negInf, accs[i])
	}
	n := GP64()
	MOVQ(rowBytes, n)
	SHRQ(U8(t.shift()), n)
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
	storeFloat(t.hmax(acc).AsX(), 0)
	storeFloat(t.reduce(slo, shi).AsX(), 1)
	storeFloat(t.reduce(plo, phi).AsX(), 2)
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
	SHLQ(U8(t.shift()), rowBytes)
	negInf := t.broadcast("negInf", math.Inf(-1))
	min := t.expMin()
	// spill is a vector's room in the frame, so that a lane of a register
	// is read back by a load that the store forwards to: a masked store
	// forwards to no load, and a load after one waits for it to retire.
	// (A permutation, VPERMPS, took as long on a Zen 4 EPYC.)
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
	// multiplied by Poly-1's factor 1 + poly·e_y/s, in float64 as
	// a = fma(scale, s, (scale·poly)·e_y)/(s·s) and scale' = a·s, e_y in
	// the low lane of what target returns: e_y is known before s, so the
	// factor lengthens the row's chain of latencies by an FMA only. mode
	// says whether the factor is left out (plain), always applied
	// (withPoly) or applied when poly ≠ 0 (testPoly, a branch on label).
	const (
		plain = iota
		withPoly
		testPoly
	)
	sumAndScale := func(lo, hi VecVirtual, y GPVirtual, mode int, label string, target func() VecVirtual) (scale, a VecVirtual) {
		s := t.reduce(lo, hi)
		VMOVSD(s.AsX(), Mem{Base: ss})
		scale, a = t.vec(), t.vec()
		t.movs(Mem{Base: sc}, scale.AsX())
		if mode == plain {
			t.divScale(scale, s, a)
			t.bcast2(a)
			return scale, a
		}
		if mode == testPoly {
			CMPQ(poly, U8(0))
			JE(LabelRef(label))
		}
		e := target()
		if !t.is64() {
			wide := t.vec()
			VCVTSS2SD(e.AsX(), wide.AsX(), wide.AsX())
			e = wide
			VCVTSS2SD(scale.AsX(), scale.AsX(), scale.AsX())
		}
		w, d := t.vec(), t.vec()
		VMULSD(poly, scale.AsX(), w.AsX())
		VMULSD(e.AsX(), w.AsX(), w.AsX())
		VFMADD231SD(s.AsX(), scale.AsX(), w.AsX()) // w += scale·s
		VMULSD(s.AsX(), s.AsX(), d.AsX())
		VDIVSD(d.AsX(), w.AsX(), a.AsX())
		VMULSD(s.AsX(), a.AsX(), scale.AsX())
		if !t.is64() {
			VCVTSD2SS(scale.AsX(), scale.AsX(), scale.AsX())
			VCVTSD2SS(a.AsX(), a.AsX(), a.AsX())
		}
		if mode == testPoly {
			JMP(LabelRef(label + "done"))
			Label(label)
			t.divScale(scale, s, a)
			Label(label + "done")
		}
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
	// the mask made once, the exponentials kept in a register; one loop
	// without Poly-1's factor and one with it, so that no row branches on
	// poly.
	k, n := t.maskReg(), GP64()
	MOVQ(c, n)
	t.tailMask(n, k)
	CMPQ(poly, U8(0))
	JNE(LabelRef("shortpoly"))
	for _, mode := range []int{plain, withPoly} {
		head := map[int]string{plain: "short", withPoly: "shortpoly"}[mode]
		y := rowHead(head, head+"next")
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
		// e_y from the spilled row.
		ey := t.vec()
		t.movu(ev, spill)
		t.movs(spill.Idx(y, uint8(t.size)), ey.AsX())
		scale, a := sumAndScale(lo, hi, y, mode, "", func() VecVirtual { return ey })
		t.mul(a, ev, ev)
		// The target's value a·e_y − scale (the bits of its lane of the
		// row), then the row.
		fix := t.vec()
		t.muls(a.AsX(), ey.AsX(), fix.AsX())
		t.subs(scale.AsX(), fix.AsX(), fix.AsX())
		t.store(ev, k, Mem{Base: g})
		t.movs(fix.AsX(), Mem{Base: g, Index: y, Scale: uint8(t.size)})
		Label(head + "next")
		advance()
		JMP(LabelRef(head))
	}

	y := rowHead("row", "next")

	// m = max of the row
	p, n := GP64(), GP64()
	MOVQ(x, p)
	m := t.rowMax("max", p, rowBytes, negInf)
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
	scale, a := sumAndScale(lo, hi, y, testPoly, "rowpoly", func() VecVirtual {
		e := t.vec()
		t.movs(Mem{Base: g, Index: y, Scale: uint8(t.size)}, e.AsX())
		return e
	})
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

// genSoftmaxRowsSmall emits SoftmaxRows for rows shorter than a vector,
// float32 on AVX-512: 16 rows at a time, one lane a row. Each class of
// the 16 rows is gathered into a vector (in[lane] = lane·c, the row
// starts) and kept in a 16×16 block, so that the max, the exps and the
// gradient are vertical operations, without a horizontal reduction or a
// per-row cost; the gradient block is gathered back into row order
// (out[j][lane], the block position of element 16j + lane) and stored as
// contiguous vectors. Every value is the one the row kernel computes, to
// the bit: its sum of a row in float64 is the tree of t.reduce over the
// lanes (classes) e_k, here over the classes' widened vectors, with 0 for
// the classes past c; a = scale/s and Poly-1's factor in float64 as
// there. The last group's rows past the end are masked off; ignored rows
// (y < 0) get a zero gradient and no ms or ss.
func genSoftmaxRowsSmall(t flt) {
	name := t.name("softmaxRowsSmall")
	// Not NOSPLIT: the blocks' 3 KiB frame takes the stack check.
	TEXT(name, 0, "func(x, grad *float32, c int, ys []int64, scales, ms []float32, ss []float64, poly float64, in, out *int32)")
	Pragma("noescape")
	saved := flushSubnormals()
	Doc(name + " runs softmax cross-entropy's value and gradient over len(ys) rows of c ≤ 16 logits, 16 rows a turn.")
	x := Load(Param("x"), GP64())
	g := Load(Param("grad"), GP64())
	c := Load(Param("c"), GP64())
	rows := Load(Param("ys").Len(), GP64())
	// The per-row arrays' pointers wait in the frame, loaded where used:
	// the registers are for the loops.
	ys, sc, ms, ss := AllocLocal(8), AllocLocal(8), AllocLocal(8), AllocLocal(8)
	for _, f := range [][2]Mem{{addr(Param("ys").Base()), ys}, {addr(Param("scales").Base()), sc},
		{addr(Param("ms").Base()), ms}, {addr(Param("ss").Base()), ss}} {
		r := GP64()
		MOVQ(f[0], r)
		MOVQ(r, f[1])
	}
	in := Load(Param("in"), GP64())
	// at loads the pointer kept at slot into a register.
	at := func(slot Mem) Register {
		r := GP64()
		MOVQ(slot, r)
		return r
	}
	block := AllocLocal(16 * 64) // class k of the group's rows at 64·k
	wide := AllocLocal(16 * 128) // class k's exps as float64 at 128·k, 0 past c
	zero := t.vec()
	t.xor(zero, zero, zero)
	for k := range 16 {
		VMOVUPD(zero, wide.Offset(128*k))
		VMOVUPD(zero, wide.Offset(128*k+64))
	}
	idx := t.vec()
	VMOVDQU32(Mem{Base: in}, idx)
	negInf := t.broadcast("negInf", math.Inf(-1))
	min := t.expMin()

	Label("group")
	TESTQ(rows, rows)
	JZ(LabelRef("end"))
	n := GP64() // rows in this group
	MOVQ(U32(16), n)
	CMPQ(rows, n)
	CMOVQLT(rows, n)
	kr, khi := K(), K() // the group's rows; its second 8
	KMOVW(t.lowBits(n).As32(), kr)
	KSHIFTRW(U8(8), kr, khi)
	// The targets as int32 lanes, and the lanes that count (y ≥ 0).
	ylo, yhi, y := t.vec(), t.vec(), t.vec()
	yp := at(ys)
	VMOVDQU64_Z(Mem{Base: yp}, kr, ylo)
	VMOVDQU64_Z(Mem{Base: yp, Disp: 64}, khi, yhi)
	VPMOVQD(ylo, ylo.AsY())
	VPMOVQD(yhi, yhi.AsY())
	VINSERTI32X8(U8(1), yhi.AsY(), ylo, y)
	kv := K()
	VPCMPD(U8(5), zero, y, kr, kv) // y ≥ 0 (not less than 0), in the group's rows

	// Pass 1: gather each class, keep it, take the max and x_y.
	m, xy := t.vec(), t.vec()
	t.mova(negInf, m)
	t.xor(xy, xy, xy)
	p, k, cc, cv := GP64(), GP64(), GP64(), t.vec()
	MOVQ(x, p)
	XORQ(k, k)
	kg, ky := K(), K()
	Label("gather")
	CMPQ(k, c)
	JGE(LabelRef("gathered"))
	v := t.vec()
	t.xor(v, v, v)
	KMOVW(kr, kg)
	VGATHERDPS(Mem{Base: p, Index: idx, Scale: 4}, kg, v)
	MOVQ(k, cc)
	SHLQ(U8(6), cc)
	t.movu(v, block.Idx(cc, 1))
	t.max(v, m, m)
	VPBROADCASTD(k.As32(), cv)
	VPCMPEQD(cv, y, ky)
	VMOVAPS(v, ky, xy)
	ADDQ(U8(4), p)
	INCQ(k)
	JMP(LabelRef("gather"))
	Label("gathered")
	// ms and ss by plain stores in a whole group (a masked store forwards
	// to none of the caller's loads that follow), masked to the rows in the
	// last one; an ignored row's are not meaningful.
	CMPQ(n, U8(16))
	JE(LabelRef("storeM"))
	VMOVUPS(m, kr, Mem{Base: at(ms)})
	JMP(LabelRef("storedM"))
	Label("storeM")
	VMOVUPS(m, Mem{Base: at(ms)})
	Label("storedM")

	// Pass 2: e = exp(x − m) into the block, and widened beside it.
	XORQ(k, k)
	Label("exps")
	CMPQ(k, c)
	JGE(LabelRef("exped"))
	MOVQ(k, cc)
	SHLQ(U8(6), cc)
	e, z := t.vec(), t.vec()
	t.movu(block.Idx(cc, 1), z)
	t.sub(m, z, z)
	t.exp(z, e, min)
	t.movu(e, block.Idx(cc, 1))
	e1, e2 := t.widen(e)
	VMOVUPD(e1, wide.Idx(cc, 2))
	VMOVUPD(e2, wide.Idx(cc, 2).Offset(64))
	INCQ(k)
	JMP(LabelRef("exps"))
	Label("exped")

	// s = the row kernel's tree over the lanes: e_i + e_{i+8}, then lanes
	// i and i+4, i and i+2, i and i+1; each half of the rows in turn.
	s := [2]VecVirtual{}
	for h := range 2 {
		lane := func(i int) Mem { return wide.Offset(128*i + 64*h) }
		var a [8]VecVirtual
		for i := range 8 {
			a[i] = t.vec()
			VMOVUPD(lane(i), a[i])
			VADDPD(lane(i+8), a[i], a[i])
		}
		for _, step := range []int{4, 2, 1} {
			for i := range step {
				VADDPD(a[i+step], a[i], a[i])
			}
		}
		s[h] = a[0]
	}
	CMPQ(n, U8(16))
	JE(LabelRef("storeS"))
	KSHIFTRW(U8(8), kr, khi)
	VMOVUPD(s[0], kr, Mem{Base: at(ss)})
	VMOVUPD(s[1], khi, Mem{Base: at(ss), Disp: 64})
	JMP(LabelRef("storedS"))
	Label("storeS")
	VMOVUPD(s[0], Mem{Base: at(ss)})
	VMOVUPD(s[1], Mem{Base: at(ss), Disp: 64})
	Label("storedS")

	// a = scale/s in float64, rounded; with Poly-1 the scale first times
	// 1 + ε·e_y/s, as in the row kernel: a = fma(scale, s, (scale·ε)·e_y)/(s·s),
	// scale' = a·s.
	var a [2]VecVirtual
	sc32 := t.vec()
	VMOVUPS_Z(Mem{Base: at(sc)}, kv, sc32)
	s1, s2 := t.widen(sc32)
	scale := [2]VecVirtual{s1, s2}
	a[0], a[1] = t.vec(), t.vec()
	CMPQ(addr(Param("poly")), U8(0)) // the bits of ε: 0 for +0 (−0 scales by exactly 1)
	JE(LabelRef("plainScale"))
	{
		d, ey := t.vec(), t.vec()
		t.sub(m, xy, d)
		t.exp(d, ey, min) // e_y, as in the block
		y1, y2 := t.widen(ey)
		for h, eyh := range []VecVirtual{y1, y2} {
			w, d := t.vec(), t.vec()
			VMULPD_BCST(addr(Param("poly")), scale[h], w)
			VMULPD(eyh, w, w)
			VFMADD231PD(s[h], scale[h], w) // w += scale·s
			VMULPD(s[h], s[h], d)
			VDIVPD(d, w, a[h])
			VMULPD(s[h], a[h], scale[h])
		}
		JMP(LabelRef("scaled"))
	}
	Label("plainScale")
	for h := range 2 {
		VDIVPD(s[h], scale[h], a[h])
	}
	Label("scaled")
	a32, scale32 := t.vec(), t.vec()
	VCVTPD2PS(a[0], a32.AsY())
	VCVTPD2PS(a[1], cv.AsY())
	VINSERTF32X8(U8(1), cv.AsY(), a32, a32)
	VCVTPD2PS(scale[0], scale32.AsY())
	VCVTPD2PS(scale[1], cv.AsY())
	VINSERTF32X8(U8(1), cv.AsY(), scale32, scale32)

	// Pass 3: the gradient a·e − scale·[k = y] into the block, 0 where the
	// row does not count.
	XORQ(k, k)
	Label("grads")
	CMPQ(k, c)
	JGE(LabelRef("graded"))
	MOVQ(k, cc)
	SHLQ(U8(6), cc)
	d := t.vec()
	t.movu(block.Idx(cc, 1), d)
	t.mul(a32, d, d)
	VPBROADCASTD(k.As32(), cv)
	VPCMPEQD(cv, y, ky)
	VSUBPS(scale32, d, ky, d)
	VMOVAPS_Z(d, kv, d)
	t.movu(d, block.Idx(cc, 1))
	INCQ(k)
	JMP(LabelRef("grads"))
	Label("graded")

	// Pass 4: the block back in row order, a vector of 16 elements at a
	// time, the last one masked.
	left, o, q, bp := GP64(), GP64(), GP64(), GP64()
	LEAQ(block, bp) // a gather's base is a register
	MOVQ(n, left)
	IMULQ(c, left) // elements of the group
	Load(Param("out"), o)
	MOVQ(g, q)
	Label("scatter")
	ko := K()
	KXNORW(ko, ko, ko)
	CMPQ(left, U8(16))
	JGE(LabelRef("whole"))
	KMOVW(t.lowBits(left).As32(), ko)
	Label("whole")
	oi, w := t.vec(), t.vec()
	VMOVDQU32(Mem{Base: o}, oi)
	t.xor(w, w, w)
	KMOVW(ko, kg)
	VGATHERDPS(Mem{Base: bp, Index: oi, Scale: 4}, kg, w)
	VMOVUPS(w, ko, Mem{Base: q})
	ADDQ(U8(64), o)
	ADDQ(U8(64), q)
	SUBQ(U8(16), left)
	JG(LabelRef("scatter"))

	groupBytes := GP64() // 16 rows of c float32
	MOVQ(c, groupBytes)
	SHLQ(U8(6), groupBytes)
	ADDQ(groupBytes, x)
	ADDQ(groupBytes, g)
	ADDQ(U8(128), ys)
	ADDQ(U8(64), sc)
	ADDQ(U8(64), ms)
	ADDQ(U8(128), ss)
	SUBQ(n, rows)
	JMP(LabelRef("group"))
	Label("end")
	VZEROUPPER()
	LDMXCSR(saved)
	RET()
}

// genLog emits log, float64 (Log): elemRegs.log of each element, and a
// NaN returned as it is. No MXCSR change: for the normal inputs it takes
// no step is subnormal, so its bits are LogOf's.
func genLog(t flt) {
	name := t.name("log")
	TEXT(name, NOSPLIT, "func(dst, x []float64)")
	Pragma("noescape")
	Doc(name + " sets dst_i = log x_i for positive normal x_i (NaN kept), as LogOf computes it.")
	d := Load(Param("dst").Base(), GP64())
	p := Load(Param("x").Base(), GP64())
	n := GP64()
	Load(Param("x").Len(), n)
	r := &elemRegs{t: t, regs: map[string]VecVirtual{}}
	r.constant("one") // before the loop, whose tail may run alone
	r.constant("two")
	t.loop("", n, func(k Register) {
		u := t.vec()
		t.load(Mem{Base: p}, k, u)
		l := r.log(u)
		nan := t.maskReg()
		t.cmp(U8(3), u, u, nan) // unordered: u is NaN
		t.blend(u, l, nan, l)
		t.store(l, k, Mem{Base: d})
	}, func() {
		ADDQ(U8(t.vbytes()), d)
		ADDQ(U8(t.vbytes()), p)
	})
	VZEROUPPER()
	RET()
}
