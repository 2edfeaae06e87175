package main

import (
	"fmt"
	"math"

	"github.com/mmcloughlin/avo/gotypes"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

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
	shift := U8(t.shift())
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
		mm := t.rowMax("max", p, rowBytesL, negInf)
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
