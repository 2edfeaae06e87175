package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestKernelsAtEveryOffset runs every kernel on every assembly path with
// its slices starting at each offset of a vector (0…15 elements past an
// aligned start, guards around every slice): the results must be those at
// offset 0 to the bit (no kernel's arithmetic depends on where the data
// lies), nothing may be written outside an output, and the read-only
// inputs must come back unchanged.
func TestKernelsAtEveryOffset(t *testing.T) {
	testKernelsAtEveryOffset[float32](t)
	testKernelsAtEveryOffset[float64](t)
}

// offsetLengths are lengths around the vectors' and the unrolled loops'
// sizes.
var offsetLengths = []int{1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 33, 63, 64, 65, 70, 129}

// placed is a guarded copy of v at an offset: the slice, and a check that
// nothing outside it changed and, for a read-only input, nothing in it.
func placed[F float32 | float64](v []F, off int, readOnly bool) ([]F, func(t *testing.T, what string)) {
	s, guards := guardedAtOf[F](len(v), off)
	copy(s, v)
	return s, func(t *testing.T, what string) {
		t.Helper()
		guards(t)
		if readOnly && !slices.Equal(bitsOf(s), bitsOf(v)) {
			t.Fatalf("%s: a read-only input changed", what)
		}
	}
}

// bitsOf returns v's bits, so that NaNs compare equal to themselves.
func bitsOf[F float32 | float64](v []F) []uint64 {
	b := make([]uint64, len(v))
	for i, x := range v {
		if f, ok := any(x).(float32); ok {
			b[i] = uint64(math.Float32bits(f))
		} else {
			b[i] = math.Float64bits(float64(x))
		}
	}
	return b
}

// rngFor is a generator for draws that must be the same at every offset.
func rngFor(n, what int) *rand.Rand { return rand.New(rand.NewPCG(uint64(n), uint64(what))) }

// offsetKernel is one kernel's call on inputs placed at off: its outputs
// as bits.
type offsetKernel[F float32 | float64] struct {
	name string
	run  func(t *testing.T, n, off int) []uint64
}

func testKernelsAtEveryOffset[F float32 | float64](t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	inputs := func(n int) (x, u, w, tt []F) {
		x = convertTo[F](values(rng, n, true))
		u = convertTo[F](values(rng, n, false))
		w = convertTo[F](positive(rng, n))
		tt = make([]F, n)
		for i := range tt {
			tt[i] = F(rng.IntN(2))
			if rng.IntN(3) == 0 {
				tt[i] = F(rng.Float64())
			}
		}
		return x, u, w, tt
	}
	var x, u, w, tt []F
	in := func(v []F, off int) ([]F, func(*testing.T, string)) { return placed(v, off, true) }
	out := func(n, off int) ([]F, func(*testing.T, string)) { return placed(make([]F, n), off, false) }
	scalar := func(v float64) uint64 { return math.Float64bits(v) }
	kernels := []offsetKernel[F]{
		{"Max", func(t *testing.T, n, off int) []uint64 {
			xs, cx := in(x, off)
			m := Max(xs)
			cx(t, "Max")
			return bitsOf([]F{m})
		}},
		{"ExpShiftSum", func(t *testing.T, n, off int) []uint64 {
			m := Max(u) // u has no NaN: every u_i − m ≤ 0
			us, cu := in(u, off)
			d, cd := out(n, off)
			s := ExpShiftSum(d, us, m)
			s2 := ExpShiftSum(nil, us, m)
			cu(t, "ExpShiftSum")
			cd(t, "ExpShiftSum")
			return append(bitsOf(d), scalar(s), scalar(s2))
		}},
		{"ScaleAdd", func(t *testing.T, n, off int) []uint64 {
			d, cd := placed(x, off, false)
			us, cu := in(u, off)
			ScaleAdd(d, 0.75, us, -1.5, 0.25)
			e, ce := placed(x, off, false)
			ScaleAdd(e, 0.75, nil, 0, 0.25)
			cd(t, "ScaleAdd")
			cu(t, "ScaleAdd")
			ce(t, "ScaleAdd")
			return append(bitsOf(d), bitsOf(e)...)
		}},
		{"FirstOutside", func(t *testing.T, n, off int) []uint64 {
			xs, cx := in(x, off)
			i := FirstOutside(xs, -7, 7)
			cx(t, "FirstOutside")
			return []uint64{uint64(i)}
		}},
		{"Dot and MaxDot", func(t *testing.T, n, off int) []uint64 {
			us, cu := in(u, off)
			ws, cw := in(w, off)
			d, s := Dot(us, ws), Dot(nil, ws)
			m, su, sux := MaxDot(us, ws)
			cu(t, "Dot")
			cw(t, "Dot")
			return append(bitsOf([]F{m}), scalar(d), scalar(s), scalar(su), scalar(sux))
		}},
		{"FillRows", func(t *testing.T, n, off int) []uint64 {
			c := 1 + n%5
			ss, cs := in(w[:n], off)
			d, cd := out(n*c, off)
			FillRows(d, ss, c, 0.5)
			cs(t, "FillRows")
			cd(t, "FillRows")
			return bitsOf(d)
		}},
		{"SoftmaxRows", func(t *testing.T, n, off int) []uint64 {
			c, r := n, rngFor(n, 4)
			var res []uint64
			for _, poly := range []float64{0, 0.5} {
				rows := 1 + r.IntN(5)
				xs, cx := in(convertTo[F](values(r, rows*c, false)), off)
				g, cg := out(rows*c, off)
				ys := make([]int64, rows)
				scales, ms, ss := make([]float64, rows), make([]float64, rows), make([]float64, rows)
				for k := range ys {
					ys[k], scales[k] = int64(r.IntN(c)), 0.5
				}
				ys[0] = -1 // an ignored row: its ms and ss mean nothing
				ref := slices.Clone(ys)
				SoftmaxRows(xs, g, c, ys, scales, ms, ss, poly)
				cx(t, "SoftmaxRows")
				cg(t, "SoftmaxRows")
				if !slices.Equal(ys, ref) || !slices.Equal(scales, slices.Repeat([]float64{0.5}, rows)) {
					t.Fatal("SoftmaxRows changed ys or scales")
				}
				res = append(append(append(res, bitsOf(g[c:])...), bitsOf(ms[1:])...), bitsOf(ss[1:])...)
			}
			return res
		}},
		{"Sigmoid, SigmoidFocal and Asymmetric", func(t *testing.T, n, off int) []uint64 {
			xs, cx := in(x, off)
			ts, ct := in(tt, off)
			ws, cw := in(w, off)
			gs, cg := in(u, off)
			var res []uint64
			for k, f := range []func(e *Elements[F]) float64{
				func(e *Elements[F]) float64 { return Sigmoid(e) },
				func(e *Elements[F]) float64 { return SigmoidFocal(e, 0.25, 2) },
				func(e *Elements[F]) float64 {
					return Asymmetric(e, AsymmetricParams{GammaPos: 1, GammaNeg: 4, Clip: 0.05})
				},
			} {
				grad, cgr := out(n, off)
				losses, cl := out(n, off)
				e := Elements[F]{X: xs, T: ts, W: ws, Q: ws, G: gs, WS: 1, QS: 1, GS: 1, Grad: grad, Losses: losses}
				s := f(&e)
				what := fmt.Sprintf("element kernel %d", k)
				cgr(t, what)
				cl(t, what)
				res = append(append(append(res, bitsOf(grad)...), bitsOf(losses)...), scalar(s))
			}
			cx(t, "elements")
			ct(t, "elements")
			cw(t, "elements")
			cg(t, "elements")
			return res
		}},
	}
	kernels = append(kernels, offsetKernel[F]{"GemmKernel", func(t *testing.T, n, off int) []uint64 {
		k := n
		mr, nr := GemmTile[F]()
		ldc := nr + 3
		a, ca := in(convertTo[F](values(rngFor(n, 1), k*mr, false)), off)
		b, cb := in(convertTo[F](values(rngFor(n, 2), k*nr, false)), off)
		c, cc := placed(convertTo[F](values(rngFor(n, 3), (mr-1)*ldc+nr, false)), off, false)
		GemmKernel(k, a, b, c, ldc, true)
		set := slices.Clone(c)
		GemmKernel(k, a, b, c, ldc, false)
		ca(t, "GemmKernel")
		cb(t, "GemmKernel")
		cc(t, "GemmKernel")
		return append(bitsOf(set), bitsOf(c)...)
	}})
	for _, p := range paths(t) {
		for _, n := range offsetLengths {
			x, u, w, tt = inputs(n)
			for _, k := range kernels {
				var want []uint64
				for off := range 16 {
					var got []uint64
					on(p, func() { got = k.run(t, n, off) })
					if off == 0 {
						want = got
					} else if !slices.Equal(got, want) {
						t.Fatalf("%v %T %s, length %d: offset %d gives other bits than offset 0", p, F(0), k.name, n, off)
					}
				}
			}
		}
	}
	if _, ok := any(F(0)).(float64); !ok {
		return
	}
	for _, p := range paths(t) { // Log: float64 only
		for _, n := range offsetLengths {
			v := make([]float64, n)
			for i := range v {
				v[i] = math.Exp(40 * (rng.Float64() - 0.5))
			}
			var want []uint64
			for off := range 16 {
				xs, cx := placed(v, off, true)
				d, cd := placed(make([]float64, n), off, false)
				on(p, func() { Log(d, xs) })
				cx(t, "Log")
				cd(t, "Log")
				if off == 0 {
					want = bitsOf(d)
				} else if !slices.Equal(bitsOf(d), want) {
					t.Fatalf("%v Log, length %d: offset %d gives other bits than offset 0", p, n, off)
				}
			}
		}
	}
}
