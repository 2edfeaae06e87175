package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

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
