// Package gemm multiplies row-major matrices, C = op(A)·op(B) or
// C += op(A)·op(B), with either operand transposed, for the fused linear
// loss and the network layers. It is the Goto–van de Geijn scheme: B is
// packed kc×nc block by block into panels of nr columns, A mc×kc block by
// block into panels of mr rows, and internal/kernel's microkernel
// multiplies one panel of each into an mr×nr tile of C (AVX-512: 8×32,
// AVX2: 6×16 float32; plain Go otherwise, and for float64). The m-blocks
// run on up to workers goroutines; each tile of C belongs to one block, so
// the result does not depend on workers.
package gemm

import (
	"fmt"

	"github.com/xent-go/xent/internal/kernel"
	"github.com/xent-go/xent/internal/parallel"
)

// Float is float32 or float64.
type Float interface{ ~float32 | ~float64 }

// Matrix is a row-major matrix view: element (i, j) of the stored matrix
// is Data[i·Stride + j]. With Trans the operand is its transpose.
type Matrix[T Float] struct {
	Data   []T
	Stride int
	Trans  bool
}

// at returns element (i, j) of the operand (after the transpose).
func (x Matrix[T]) at(i, j int) T {
	if x.Trans {
		return x.Data[j*x.Stride+i]
	}
	return x.Data[i*x.Stride+j]
}

// Block sizes: kc steps of k, mc rows of A, nc columns of B per block.
const (
	kc = 256
	mc = 96
	nc = 2048
)

// Mul sets C (m×n, rows ldc apart) to op(A)·op(B) — or adds it, with add —
// for op(A) m×k and op(B) k×n, on up to workers goroutines (at least one).
// It panics when a slice is too short for its shape: the callers are
// xent's own packages.
func Mul[T Float](c []T, ldc int, a, b Matrix[T], m, n, k int, add bool, workers int) {
	if m == 0 || n == 0 {
		return
	}
	check("C", c, ldc, m, n, false)
	check("A", a.Data, a.Stride, m, k, a.Trans)
	check("B", b.Data, b.Stride, k, n, b.Trans)
	if k == 0 {
		if !add {
			for i := range m {
				clear(c[i*ldc : i*ldc+n])
			}
		}
		return
	}
	mr, nr := kernel.GemmTile[T]()
	job := parallel.Get[mulJob[T]]()
	defer parallel.Put(job)
	job.c, job.ldc, job.a, job.m, job.mr, job.nr = c, ldc, a, m, mr, nr
	for jc := 0; jc < n; jc += nc {
		ncb := min(nc, n-jc)
		for pc := 0; pc < k; pc += kc {
			kcb := min(kc, k-pc)
			job.packB(b, pc, jc, kcb, ncb)
			job.jc, job.ncb, job.pc, job.kcb = jc, ncb, pc, kcb
			job.add = add || pc > 0
			parallel.Sum(job, (m+mc-1)/mc, workers)
		}
	}
	job.c, job.a.Data = nil, nil
}

func check[T Float](name string, x []T, stride, rows, cols int, trans bool) {
	if trans {
		rows, cols = cols, rows
	}
	if stride < cols || (rows > 0 && len(x) < (rows-1)*stride+cols) {
		panic(fmt.Sprintf("gemm: %s of %d values with stride %d cannot hold %d×%d", name, len(x), stride, rows, cols))
	}
}

// mulJob is one (jc, pc) step of Mul: B's block is packed, and Block(i)
// packs A's i-th m-block and multiplies it into C.
type mulJob[T Float] struct {
	c         []T
	ldc       int
	a         Matrix[T]
	m, mr, nr int
	jc, ncb   int
	pc, kcb   int
	add       bool
	packedB   []T // kept with the job from call to call
}

// packB packs op(B)[pc:pc+kcb, jc:jc+ncb] into panels of nr columns: panel
// q holds, for each step p, the nr values of row p, zero past n.
func (j *mulJob[T]) packB(b Matrix[T], pc, jc, kcb, ncb int) {
	panels := (ncb + j.nr - 1) / j.nr
	size := panels * kcb * j.nr
	if cap(j.packedB) < size {
		j.packedB = make([]T, size)
	}
	dst := j.packedB[:size]
	for q := range panels {
		panel := dst[q*kcb*j.nr : (q+1)*kcb*j.nr]
		for p := range kcb {
			row := panel[p*j.nr : (p+1)*j.nr]
			for jj := range row {
				col := q*j.nr + jj
				if col < ncb {
					row[jj] = b.at(pc+p, jc+col)
				} else {
					row[jj] = 0
				}
			}
		}
	}
}

// Block multiplies A's m-block i by the packed block of B into C.
func (j *mulJob[T]) Block(i int) float64 {
	ic := i * mc
	mcb := min(mc, j.m-ic)
	buf := parallel.Get[packBuf[T]]()
	defer parallel.Put(buf)
	// Pack op(A)[ic:ic+mcb, pc:pc+kcb] into panels of mr rows.
	panels := (mcb + j.mr - 1) / j.mr
	size := panels * j.kcb * j.mr
	if cap(buf.a) < size {
		buf.a = make([]T, size)
	}
	pa := buf.a[:size]
	for q := range panels {
		panel := pa[q*j.kcb*j.mr : (q+1)*j.kcb*j.mr]
		for p := range j.kcb {
			col := panel[p*j.mr : (p+1)*j.mr]
			for r := range col {
				row := q*j.mr + r
				if row < mcb {
					col[r] = j.a.at(ic+row, j.pc+p)
				} else {
					col[r] = 0
				}
			}
		}
	}
	if cap(buf.tile) < j.mr*j.nr {
		buf.tile = make([]T, j.mr*j.nr)
	}
	tile := buf.tile[:j.mr*j.nr]
	for jq := 0; jq*j.nr < j.ncb; jq++ {
		bp := j.packedB[jq*j.kcb*j.nr : (jq+1)*j.kcb*j.nr]
		cols := min(j.nr, j.ncb-jq*j.nr)
		for iq := range panels {
			ap := pa[iq*j.kcb*j.mr : (iq+1)*j.kcb*j.mr]
			rows := min(j.mr, mcb-iq*j.mr)
			r0, c0 := ic+iq*j.mr, j.jc+jq*j.nr
			if rows == j.mr && cols == j.nr {
				kernel.GemmKernel(j.kcb, ap, bp, j.c[r0*j.ldc+c0:], j.ldc, j.add)
				continue
			}
			// A partial tile: the whole tile into scratch, its valid part to C.
			kernel.GemmKernel(j.kcb, ap, bp, tile, j.nr, false)
			for r := range rows {
				dst := j.c[(r0+r)*j.ldc+c0 : (r0+r)*j.ldc+c0+cols]
				src := tile[r*j.nr : r*j.nr+cols]
				if j.add {
					for x := range dst {
						dst[x] += src[x]
					}
				} else {
					copy(dst, src)
				}
			}
		}
	}
	return 0
}

// packBuf is one goroutine's scratch: a packed block of A and a tile.
type packBuf[T Float] struct{ a, tile []T }
