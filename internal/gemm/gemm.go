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
	"github.com/xent-go/xent/internal/num"
	"github.com/xent-go/xent/internal/parallel"
)

// Float is float32 or float64, the one constraint of every package here.
type Float = num.Float

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

// Block sizes: kc steps of k, at most mc rows of A, nc columns of B per
// block.
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
	job.mc = blockRows(m, mr, workers)
	for jc := 0; jc < n; jc += nc {
		ncb := min(nc, n-jc)
		for pc := 0; pc < k; pc += kc {
			kcb := min(kc, k-pc)
			job.packB(b, pc, jc, kcb, ncb, workers)
			job.add = add || pc > 0
			parallel.Sum(job, (m+job.mc-1)/job.mc, workers)
		}
	}
	job.c, job.a.Data, job.b.Data = nil, nil, nil
}

// blockRows returns the rows of an m-block: mc, or fewer when m is small,
// so that the workers get about four blocks each of even size (a 131-row
// product split 96 + 35 left one worker idle most of the time). The size
// of the blocks does not change any element's arithmetic.
func blockRows(m, mr, workers int) int {
	want := max(1, 4*workers)
	rows := (m + want - 1) / want
	rows = (rows + mr - 1) / mr * mr
	return max(mr, min(mc, rows))
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
	a, b      Matrix[T]
	m, mr, nr int
	mc        int // rows of an m-block
	jc, ncb   int
	pc, kcb   int
	add       bool
	packedB   []T // kept with the job from call to call
}

// packB packs op(B)[pc:pc+kcb, jc:jc+ncb] into panels of nr columns: panel
// q holds, for each step p, the nr values of row p, zero past n. The panels
// are packed on the workers, each reading B contiguously.
func (j *mulJob[T]) packB(b Matrix[T], pc, jc, kcb, ncb, workers int) {
	panels := (ncb + j.nr - 1) / j.nr
	size := panels * kcb * j.nr
	if cap(j.packedB) < size {
		j.packedB = make([]T, size)
	}
	j.b, j.pc, j.jc, j.kcb, j.ncb = b, pc, jc, kcb, ncb
	pk := parallel.Get[packBJob[T]]()
	defer parallel.Put(pk)
	pk.j = j
	parallel.Sum(pk, (panels+panelsPerBlock-1)/panelsPerBlock, workers)
	pk.j = nil
}

// panelsPerBlock is the panels of B one packing block takes.
const panelsPerBlock = 16

// packBJob packs the panels of B, panelsPerBlock at a time.
type packBJob[T Float] struct{ j *mulJob[T] }

func (pk *packBJob[T]) Block(i int) float64 {
	j := pk.j
	nr, kcb := j.nr, j.kcb
	panels := (j.ncb + nr - 1) / nr
	for q := i * panelsPerBlock; q < min((i+1)*panelsPerBlock, panels); q++ {
		panel := j.packedB[q*kcb*nr : (q+1)*kcb*nr]
		cols := min(nr, j.ncb-q*nr)
		c0 := j.jc + q*nr
		if j.b.Trans { // op(B)[p][c] = B[c][p]: B's row c is contiguous in p
			for jj := range cols {
				src := j.b.Data[(c0+jj)*j.b.Stride+j.pc:][:kcb]
				for p, v := range src {
					panel[p*nr+jj] = v
				}
			}
		} else { // row p of B holds the panel's row p
			for p := range kcb {
				copy(panel[p*nr:p*nr+cols], j.b.Data[(j.pc+p)*j.b.Stride+c0:][:cols])
			}
		}
		if cols < nr {
			for p := range kcb {
				clear(panel[p*nr+cols : (p+1)*nr])
			}
		}
	}
	return 0
}

// packA packs op(A)[ic:ic+mcb, pc:pc+kcb] into pa, panels of mr rows:
// panel q holds, for each step p, the mr values of column p, zero past m.
func (j *mulJob[T]) packA(pa []T, ic, mcb int) {
	mr, kcb := j.mr, j.kcb
	panels := (mcb + mr - 1) / mr
	for q := range panels {
		panel := pa[q*kcb*mr : (q+1)*kcb*mr]
		rows := min(mr, mcb-q*mr)
		r0 := ic + q*mr
		if j.a.Trans { // op(A)[r][p] = A[p][r]: A's row p holds the panel's column p
			for p := range kcb {
				copy(panel[p*mr:p*mr+rows], j.a.Data[(j.pc+p)*j.a.Stride+r0:][:rows])
			}
		} else { // A's row r is contiguous in p
			for r := range rows {
				src := j.a.Data[(r0+r)*j.a.Stride+j.pc:][:kcb]
				for p, v := range src {
					panel[p*mr+r] = v
				}
			}
		}
		if rows < mr {
			for p := range kcb {
				clear(panel[p*mr+rows : (p+1)*mr])
			}
		}
	}
}

// Block multiplies A's m-block i by the packed block of B into C.
func (j *mulJob[T]) Block(i int) float64 {
	ic := i * j.mc
	mcb := min(j.mc, j.m-ic)
	buf := parallel.Get[packBuf[T]]()
	defer parallel.Put(buf)
	panels := (mcb + j.mr - 1) / j.mr
	size := panels * j.kcb * j.mr
	if cap(buf.a) < size {
		buf.a = make([]T, size)
	}
	pa := buf.a[:size]
	j.packA(pa, ic, mcb)
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
