package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"unsafe"
)

// paths returns the assembly paths this machine runs, and skips the test
// when there is none (noasm, other architectures).
func paths(t *testing.T) []Path {
	t.Helper()
	var out []Path
	for _, p := range []Path{AVX2, AVX512} {
		if Supported(p) {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		t.Skip("no assembly path in this build")
	}
	return out
}

// on runs f with path p active. The reference side of every comparison
// runs on(Go, …): the default path is the assembly.
func on(p Path, f func()) {
	restore, ok := Use(p)
	if !ok {
		panic("unsupported path")
	}
	defer restore()
	f()
}

// lengths are every length up to 70 and some large ones.
func lengths() []int {
	var n []int
	for i := 0; i <= 70; i++ {
		n = append(n, i)
	}
	return append(n, 127, 128, 129, 1000, 4099)
}

// values draws n logits: mostly in [−8, 8], some large, and, with special,
// ±1e4, ±Inf and NaN.
func values(rng *rand.Rand, n int, special bool) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(16*rng.Float64() - 8)
		if special {
			switch rng.IntN(40) {
			case 0:
				v[i] = 1e4
			case 1:
				v[i] = -1e4
			case 2:
				v[i] = float32(math.Inf(1))
			case 3:
				v[i] = float32(math.Inf(-1))
			case 4:
				v[i] = float32(math.NaN())
			case 5:
				v[i] = float32(200 * (rng.Float64() - 0.5))
			}
		}
	}
	return v
}

// guardedAtOf is guardedOf with the slice starting off elements after the
// guard, so that its alignment varies; every value outside it is checked.
func guardedAtOf[F float32 | float64](n, off int) ([]F, func(t *testing.T)) {
	const guard = 8
	buf := make([]F, n+2*guard+off)
	for i := range buf {
		buf[i] = 12345
	}
	s := buf[guard+off : guard+off+n]
	for i := range s {
		s[i] = 0
	}
	return s, func(t *testing.T) {
		t.Helper()
		for i := range buf {
			if (i < guard+off || i >= guard+off+n) && buf[i] != 12345 {
				t.Fatalf("length %d at offset %d: the value at %d outside the slice was overwritten", n, off, i)
			}
		}
	}
}

// rowTolerance is how far the assembly's row kernels may be from the Go
// reference: exp (relative, plus per unit of |z| for the rounding of
// z = x − m), sums (relative) and scale-add (relative, absolute).
type rowTolerance struct{ exp, expPerZ, sum, scaleRel, scaleAbs float64 }

func TestRowKernelsAgainstGo(t *testing.T) {
	testRowKernels[float32](t, rowTolerance{exp: 4e-7, expPerZ: 6e-8, sum: 4e-7, scaleRel: 2e-7, scaleAbs: 2e-6})
	testRowKernels[float64](t, rowTolerance{exp: 1e-14, expPerZ: 1.2e-16, sum: 1e-13, scaleRel: 1e-15, scaleAbs: 1e-14})
}

func testRowKernels[F float32 | float64](t *testing.T, tol rowTolerance) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, p := range paths(t) {
		for _, n := range lengths() {
			for _, special := range []bool{false, true} {
				x := convertTo[F](values(rng, n, special))
				u := convertTo[F](values(rng, n, false))
				name := fmt.Sprintf("%v/%T/n=%d/special=%v", p, x, n, special)

				var wantMax, gotMax F
				on(Go, func() { wantMax = Max(x) })
				on(p, func() { gotMax = Max(x) })
				if !(gotMax == wantMax || (math.IsNaN(float64(wantMax)) && hasNaNOf(x))) {
					t.Errorf("%s: Max %v, want %v", name, gotMax, wantMax)
				}

				// m is the row's maximum, as every caller passes it (NaNs left
				// out, which the kernels may or may not return): then x − m ≤ 0,
				// or NaN.
				m := F(math.Inf(-1))
				for _, v := range x {
					if v > m {
						m = v
					}
				}
				want := make([]F, n)
				var wantSum float64
				on(Go, func() { wantSum = ExpShiftSum(want, x, m) })
				got, check := guardedOf[F](n)
				var gotSum, gotSumNoStore float64
				on(p, func() {
					gotSum = ExpShiftSum(got, x, m)
					gotSumNoStore = ExpShiftSum(nil, x, m)
				})
				check(t)
				for i := range want {
					z := math.Abs(float64(x[i]) - float64(m))
					// AVX2 flushes results below the smallest normal to 0.
					if !closeF(got[i], want[i], tol.exp+tol.expPerZ*z, smallestNormal[F]()) {
						t.Fatalf("%s: exp(x[%d] − m) = exp(%v − %v): %v, want %v", name, i, x[i], m, got[i], want[i])
					}
				}
				if !closeRel(gotSum, wantSum, tol.sum) || !closeRel(gotSumNoStore, gotSum, 0) {
					t.Errorf("%s: ExpShiftSum %v (without storing %v), want %v", name, gotSum, gotSumNoStore, wantSum)
				}

				for _, withU := range []bool{false, true} {
					uu := u
					if !withU {
						uu = nil
					}
					base := convertTo[F](values(rng, n, false))
					want := append([]F(nil), base...)
					on(Go, func() { ScaleAdd(want, 0.75, uu, -1.5, 0.25) })
					got, check := guardedOf[F](n)
					copy(got, base)
					on(p, func() { ScaleAdd(got, 0.75, uu, -1.5, 0.25) })
					check(t)
					for i := range want {
						if !closeF(got[i], want[i], tol.scaleRel, tol.scaleAbs) {
							t.Fatalf("%s withU=%v: ScaleAdd[%d] %v, want %v", name, withU, i, got[i], want[i])
						}
					}
					var wantDot, gotDot float64
					on(Go, func() { wantDot = Dot(uu, x) })
					on(p, func() { gotDot = Dot(uu, x) })
					if !closeRel(gotDot, wantDot, tol.sum) {
						t.Errorf("%s withU=%v: Dot %v, want %v", name, withU, gotDot, wantDot)
					}
				}
			}
		}
	}
}

// smallestNormal returns 2⁻¹²⁶ for float32, 2⁻¹⁰²² for float64.
func smallestNormal[F float32 | float64]() float64 {
	var zero F
	if any(zero) == any(float32(0)) {
		return 0x1p-126
	}
	return 0x1p-1022
}

// closeRel compares float64 results to a relative tolerance, NaN matching
// NaN and infinities equal.
func closeRel(a, b, rel float64) bool {
	if a == b || math.IsNaN(a) && math.IsNaN(b) {
		return true
	}
	if math.IsNaN(a) || math.IsNaN(b) || math.IsInf(a, 0) || math.IsInf(b, 0) {
		return false
	}
	return math.Abs(a-b) <= rel*math.Abs(b)+1e-300
}

func hasNaNOf[F float32 | float64](x []F) bool {
	for _, v := range x {
		if v != v {
			return true
		}
	}
	return false
}

func TestFirstOutsideAgainstGo(t *testing.T) {
	testFirstOutside[float32](t)
	testFirstOutside[float64](t)
}

func testFirstOutside[F float32 | float64](t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, p := range paths(t) {
		for _, n := range lengths() {
			for trial := range 20 {
				x := make([]F, n)
				for i := range x {
					x[i] = F(rng.Float64())
				}
				if n > 0 && trial > 0 {
					bad := []float64{-0.5, 1.5, math.NaN(), math.Inf(1), -1e-30, 1.0000001, -1e-300}
					for range 1 + rng.IntN(3) {
						x[rng.IntN(n)] = F(bad[rng.IntN(len(bad))])
					}
				}
				var want, got int
				on(Go, func() { want = FirstOutside(x, 0, 1) })
				on(p, func() { got = FirstOutside(x, 0, 1) })
				if got != want {
					t.Fatalf("%v %T n=%d: FirstOutside %d, want %d", p, x, n, got, want)
				}
			}
		}
	}
}

// softmaxRowsInputs draws a batch of up to SoftmaxRowsBatch rows of c
// logits (with special values or not), their targets (a fifth ignored) and
// scales in [−2, 2).
func softmaxRowsInputs[F float32 | float64](rng *rand.Rand, c int, special bool) (x []F, ys []int64, scales []float64) {
	rows := 1 + rng.IntN(SoftmaxRowsBatch)
	x = convertTo[F](values(rng, rows*c, special))
	ys, scales = make([]int64, rows), make([]float64, rows)
	for r := range ys {
		ys[r] = int64(rng.IntN(c))
		if rng.IntN(5) == 0 {
			ys[r] = -1
		}
		scales[r] = 4*rng.Float64() - 2
	}
	return x, ys, scales
}

func TestSoftmaxRowsAgainstGo(t *testing.T) {
	// float32: the gradient to float32 accuracy of terms up to |scale|.
	testSoftmaxRows[float32](t, 4e-7, 2e-5, 2e-6)
	testSoftmaxRows[float64](t, 1e-13, 1e-13, 1e-15)
}

func testSoftmaxRows[F float32 | float64](t *testing.T, sumRel, rel, absPerScale float64) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, p := range paths(t) {
		for _, c := range lengths() {
			if c == 0 {
				continue
			}
			for i, special := range []bool{false, true, false, true} {
				poly := 0.0 // Poly-1's ε: 0 in the first two turns
				if i >= 2 {
					poly = []float64{-1, -0.25, 0.5, 3}[rng.IntN(4)]
				}
				x, ys, scales := softmaxRowsInputs[F](rng, c, special)
				rows := len(ys)
				want := make([]F, rows*c)
				wm, ws := make([]float64, rows), make([]float64, rows)
				on(Go, func() { SoftmaxRows(x, want, c, ys, scales, wm, ws, poly) })
				got, check := guardedAtOf[F](rows*c, rng.IntN(16)) // any alignment
				gm, gs := make([]float64, rows), make([]float64, rows)
				on(p, func() { SoftmaxRows(x, got, c, ys, scales, gm, gs, poly) })
				check(t)
				for r, y := range ys {
					name := fmt.Sprintf("%v %T c=%d row %d/%d special=%v poly=%v", p, x, c, r, rows, special, poly)
					if y < 0 {
						for k := r * c; k < (r+1)*c; k++ {
							if got[k] != 0 {
								t.Fatalf("%s: an ignored row was written", name)
							}
						}
						continue
					}
					// With a NaN in the row s is NaN on both paths, and m is
					// unspecified (Max may or may not return the NaN).
					bothNaN := math.IsNaN(gs[r]) && math.IsNaN(ws[r])
					if !bothNaN && (gm[r] != wm[r] || !closeRel(gs[r], ws[r], sumRel)) {
						t.Fatalf("%s: m, s = %v, %v; want %v, %v", name, gm[r], gs[r], wm[r], ws[r])
					}
					for k := r * c; k < (r+1)*c; k++ {
						if !closeF(got[k], want[k], rel, absPerScale*math.Abs(scales[r])*(1+math.Abs(poly))) {
							t.Fatalf("%s: grad[%d] = %v, want %v", name, k-r*c, got[k], want[k])
						}
					}
				}
			}
		}
	}
}

// TestSoftmaxRowsPoly pins SoftmaxRows' Poly-1 factor on the Go path
// against its definition: the rows with poly are the rows without it
// times 1 + poly·p_y.
func TestSoftmaxRowsPoly(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for _, c := range []int{1, 2, 10, 33, 1000} {
		x, ys, scales := softmaxRowsInputs[float64](rng, c, false)
		rows, poly := len(ys), 0.75
		plain, got := make([]float64, rows*c), make([]float64, rows*c)
		ms, ss := make([]float64, rows), make([]float64, rows)
		on(Go, func() {
			SoftmaxRows(x, plain, c, ys, scales, ms, ss, 0)
			SoftmaxRows(x, got, c, ys, scales, ms, ss, poly)
		})
		for r, y := range ys {
			if y < 0 {
				continue
			}
			f := 1 + poly*math.Exp(x[r*c+int(y)]-ms[r])/ss[r]
			for k := r * c; k < (r+1)*c; k++ {
				if want := plain[k] * f; !closeF(got[k], want, 1e-14, 1e-15*math.Abs(scales[r])) { // the target's term cancels
					t.Fatalf("c=%d row %d: grad[%d] = %v, want %v", c, r, k-r*c, got[k], want)
				}
			}
		}
	}
}

func TestElementKernelsAgainstGo(t *testing.T) {
	// float32: the gradient's terms can cancel (soft targets), so it is
	// accurate to its terms' size; float64 to 1e-12 of them.
	testElementKernels[float32](t, 3e-5, 1e-6)
	testElementKernels[float64](t, 1e-12, 1e-14)
}

func testElementKernels[F float32 | float64](t *testing.T, rel, abs float64) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, p := range paths(t) {
		for _, n := range lengths() {
			for variant := range 32 {
				x := convertTo[F](values(rng, n, variant&8 != 0))
				if variant&8 == 0 { // full float64 precision where it matters
					for i := range x {
						x[i] = F(16*rng.Float64() - 8)
					}
				}
				tt := make([]F, n)
				sparse := variant&2 != 0 // multi-hot targets, mostly 0: whole vectors of 0 take a path of their own
				for i := range tt {
					switch {
					case sparse:
						tt[i] = F(b2f(rng.IntN(40) == 0))
					case rng.IntN(3) == 0:
						tt[i] = F(rng.Float64())
					default:
						tt[i] = F(rng.IntN(2))
					}
				}
				e := Elements[F]{X: x, T: tt, WS: 0.5, QS: 2, GS: 0.125}
				if variant&1 != 0 {
					e.W, e.Q = convertTo[F](positive(rng, n)), convertTo[F](positive(rng, n))
				}
				if variant&2 != 0 {
					e.G = convertTo[F](values(rng, n, false))
				}
				if variant&16 != 0 { // row weights (ignored beside W): rows that end at every offset of a vector
					e.S = convertTo[F](positive(rng, n/rowLenOf(n)))
				}
				kinds := []string{"sigmoid", "focal a=0.25 γ=2", "focal a=-1 γ=0", "focal a=0.75 γ=5", "focal a=0 γ=1",
					"asymmetric 0 4 0.05", "asymmetric 1 4 0.05 detach", "asymmetric 2 0 0", "asymmetric 0 3 0.3", "asymmetric 3 1 0 detach"}
				for _, kind := range kinds {
					run := func(e *Elements[F]) float64 {
						var p AsymmetricParams
						if n, _ := fmt.Sscanf(kind, "asymmetric %v %v %v", &p.GammaPos, &p.GammaNeg, &p.Clip); n == 3 {
							p.Detach = strings.HasSuffix(kind, "detach")
							return Asymmetric(e, p)
						}
						switch kind {
						case "sigmoid":
							return Sigmoid(e)
						case "focal a=0.25 γ=2":
							return SigmoidFocal(e, 0.25, 2)
						case "focal a=-1 γ=0":
							return SigmoidFocal(e, -1, 0)
						case "focal a=0.75 γ=5":
							return SigmoidFocal(e, 0.75, 5)
						default:
							return SigmoidFocal(e, 0, 1)
						}
					}
					want := e
					want.Grad, want.Losses = make([]F, n), make([]F, n)
					var wantSum float64
					on(Go, func() { wantSum = run(&want) })
					got := e
					var checkG, checkL func(*testing.T)
					got.Grad, checkG = guardedOf[F](n)
					got.Losses, checkL = guardedOf[F](n)
					if variant&4 != 0 {
						got.Losses, checkL = nil, func(*testing.T) {}
					}
					var gotSum float64
					on(p, func() { gotSum = run(&got) })
					checkG(t)
					checkL(t)
					name := fmt.Sprintf("%v/%T/%s/n=%d/variant=%d", p, x, kind, n, variant)
					for i := range x {
						if !closeF(got.Grad[i], want.Grad[i], rel, abs) {
							t.Fatalf("%s: grad[%d] at x=%v t=%v: %v, want %v", name, i, x[i], tt[i], got.Grad[i], want.Grad[i])
						}
						if got.Losses != nil && !closeF(got.Losses[i], want.Losses[i], rel, abs) {
							t.Fatalf("%s: loss[%d] at x=%v t=%v: %v, want %v", name, i, x[i], tt[i], got.Losses[i], want.Losses[i])
						}
					}
					// The sum's error scales with its terms, Σ|l_i·g_i|, which may
					// cancel (g of both signs).
					terms := 0.0
					for i, l := range want.Losses {
						g := 1.0
						if e.G != nil {
							g = float64(e.G[i])
						}
						terms += math.Abs(float64(l) * g)
					}
					if math.Abs(gotSum-wantSum) > rel*terms+abs*float64(n) && !(math.IsNaN(gotSum) && math.IsNaN(wantSum)) && gotSum != wantSum {
						t.Errorf("%s: sum %v, want %v", name, gotSum, wantSum)
					}
				}
			}
		}
	}
}

func convertTo[F float32 | float64](v []float32) []F {
	out := make([]F, len(v))
	for i, x := range v {
		out[i] = F(x)
	}
	return out
}

// guardedOf is guarded for either type.
func guardedOf[F float32 | float64](n int) ([]F, func(t *testing.T)) {
	const guard = 8
	buf := make([]F, n+2*guard)
	for i := range buf {
		buf[i] = 12345
	}
	return buf[guard : guard+n], func(t *testing.T) {
		t.Helper()
		for i := range guard {
			if buf[i] != 12345 || buf[guard+n+i] != 12345 {
				t.Fatalf("length %d: a guard value was overwritten", n)
			}
		}
	}
}

// closeF is close32 for either type.
func closeF[F float32 | float64](a, b F, rel, abs float64) bool {
	if a == b {
		return true
	}
	x, y := float64(a), float64(b)
	if math.IsNaN(x) || math.IsNaN(y) {
		return math.IsNaN(x) && math.IsNaN(y)
	}
	if math.IsInf(x, 0) || math.IsInf(y, 0) {
		return x == y
	}
	return math.Abs(x-y) <= rel*math.Abs(y)+abs
}

func positive(rng *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = 0.1 + 2*rng.Float32()
	}
	return v
}

// TestSoftplusAndExpAccuracy holds the assembly's exp and softplus to a few
// ulp of the exact values: for t = 1 and x ≥ 0 the sigmoid loss is
// softplus(−x) = log1p(e^−x) alone, and its derivative −σ(−x).
func TestSoftplusAndExpAccuracy(t *testing.T) {
	for _, p := range paths(t) {
		n := 7000
		x, tt := make([]float64, n), make([]float64, n)
		for i := range x {
			x[i] = float64(i) * 0.01 // 0 … 70
			tt[i] = 1
		}
		e := Elements[float64]{X: x, T: tt, WS: 1, QS: 1, GS: 1, Grad: make([]float64, n), Losses: make([]float64, n)}
		on(p, func() { Sigmoid(&e) })
		for i, v := range x {
			want := math.Log1p(math.Exp(-v))
			if d := math.Abs(e.Losses[i]-want) / want; d > 1e-15 { // 4.5 ulp
				t.Fatalf("%v float64: softplus(−%v) = %v, want %v (relative error %.2g)", p, v, e.Losses[i], want, d)
			}
			wantGrad := -1 / (1 + math.Exp(v))
			if d := math.Abs(e.Grad[i]-wantGrad) / -wantGrad; d > 1e-15 {
				t.Fatalf("%v float64: −σ(−%v) = %v, want %v (relative error %.2g)", p, v, e.Grad[i], wantGrad, d)
			}
		}
	}
	for _, p := range paths(t) {
		n := 4000
		x, tt := make([]float32, n), make([]float32, n)
		for i := range x {
			x[i] = float32(i) * 0.01 // 0 … 40
			tt[i] = 1
		}
		e := Elements[float32]{X: x, T: tt, WS: 1, QS: 1, GS: 1, Grad: make([]float32, n), Losses: make([]float32, n)}
		on(p, func() { Sigmoid(&e) })
		for i, v := range x {
			want := math.Log1p(math.Exp(-float64(v)))
			if d := math.Abs(float64(e.Losses[i])-want) / want; d > 4.8e-7 { // 4 ulp
				t.Fatalf("%v: softplus(−%v) = %v, want %v (relative error %.2g)", p, v, e.Losses[i], want, d)
			}
			wantGrad := -1 / (1 + math.Exp(float64(v)))
			if d := math.Abs(float64(e.Grad[i])-wantGrad) / -wantGrad; d > 4.8e-7 {
				t.Fatalf("%v: −σ(−%v) = %v, want %v (relative error %.2g)", p, v, e.Grad[i], wantGrad, d)
			}
		}
	}
}

func TestSoftmaxRowsStreamIsSoftmaxRows(t *testing.T) {
	testSoftmaxRowsStream[float32](t)
	testSoftmaxRowsStream[float64](t)
}

// testSoftmaxRowsStream checks that the streaming kernel gives SoftmaxRows'
// bits: gradient, maxima and sums, for every tail length and alignment of
// the gradient, rows with a target anywhere (first and last class
// included), ignored rows between counted ones, and ±1e4, ±Inf and NaN
// (where a NaN row's maximum, unspecified, may differ, and so its NaNs'
// payloads).
func testSoftmaxRowsStream[F float32 | float64](t *testing.T) {
	if !Supported(AVX512) {
		t.Skip("no AVX-512 on this machine")
	}
	rng := rand.New(rand.NewPCG(9, 10))
	var zero F
	size := int(unsafe.Sizeof(zero))
	var cs []int
	for c := 64; c <= 64+40; c++ { // the kernel's least c, then every tail
		cs = append(cs, c)
	}
	cs = append(cs, 127, 128, 129, 1000, 4099, StreamMinRowBytes/size-1, StreamMinRowBytes/size+7,
		StreamMaxRowBytes/size-3, StreamMaxRowBytes/size)
	for _, c := range cs {
		for run := range 32 { // each alignment of the gradient, with and without special values
			special, off := run%2 == 1, run/2
			rows := 1 + rng.IntN(min(SoftmaxRowsBatch, max(3, 1<<18/c)))
			x := convertTo[F](values(rng, rows*c, special))
			ys := make([]int64, rows)
			scales := make([]float64, rows)
			for r := range ys {
				switch rng.IntN(6) {
				case 0:
					ys[r] = -1
				case 1:
					ys[r] = 0
				case 2:
					ys[r] = int64(c - 1)
				default:
					ys[r] = int64(rng.IntN(c))
				}
				scales[r] = 4*rng.Float64() - 2
			}
			name := fmt.Sprintf("%T c=%d rows=%d offset=%d special=%v", x, c, rows, off, special)
			want, _ := guardedAtOf[F](rows*c, off)
			wm, ws := make([]float64, rows), make([]float64, rows)
			got, check := guardedAtOf[F](rows*c, off)
			gm, gs := make([]float64, rows), make([]float64, rows)
			on(AVX512, func() {
				SoftmaxRows(x, want, c, ys, scales, wm, ws, 0)
				if Streams[F](c) {
					SoftmaxRowsStream(x, got, c, ys, scales, gm, gs)
				} else { // shorter rows than it streams: the kernel itself
					streamRows(x, got, c, ys, scales, gm, gs)
				}
			})
			check(t)
			for r, y := range ys {
				// A row with a NaN has s = NaN on both, and an unspecified m.
				nan := math.IsNaN(gs[r]) && math.IsNaN(ws[r])
				if y >= 0 && !nan && (math.Float64bits(gm[r]) != math.Float64bits(wm[r]) || math.Float64bits(gs[r]) != math.Float64bits(ws[r])) {
					t.Fatalf("%s: row %d: m, s = %v, %v; want %v, %v", name, r, gm[r], gs[r], wm[r], ws[r])
				}
			}
			for k := range got {
				g, w := float64(got[k]), float64(want[k])
				if math.Float64bits(g) != math.Float64bits(w) && !(math.IsNaN(g) && math.IsNaN(w)) {
					t.Fatalf("%s: grad[%d] (row %d, class %d, target %d) = %v, want %v", name, k, k/c, k%c, ys[k/c], got[k], want[k])
				}
			}
		}
	}
}

// flushed returns v, or 0 of v's sign for a subnormal v: what the
// kernels compute (flushSubnormals in _gen).
func flushed[F float32 | float64](v F) F {
	smallest := math.Ldexp(1, -126)
	if unsafe.Sizeof(v) == 8 {
		smallest = math.Ldexp(1, -1022)
	}
	if math.Abs(float64(v)) < smallest {
		return F(math.Copysign(0, float64(v)))
	}
	return v
}

func TestSoftmaxRowsIsItsParts(t *testing.T) {
	testSoftmaxRowsParts[float32](t)
	testSoftmaxRowsParts[float64](t)
}

// testSoftmaxRowsParts checks the fused kernel, to the bit, against its
// parts on the same path: Max and ExpShiftSum (the same instructions on
// each value and the same order of the sum), then a = scale/s (the scale
// as F, divided in float64, rounded to F), grad = a·e and grad_y − scale in
// F's arithmetic, subnormal results flushed to 0 as in the kernels. Rows of
// one vector take a loop of their own in the kernel; this pins that it
// computes what the general loop does.
func testSoftmaxRowsParts[F float32 | float64](t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for _, p := range paths(t) {
		for _, c := range lengths() {
			if c == 0 {
				continue
			}
			for _, special := range []bool{false, true} {
				x, ys, scales := softmaxRowsInputs[F](rng, c, special)
				rows := len(ys)
				got, check := guardedAtOf[F](rows*c, rng.IntN(16))
				gm, gs := make([]float64, rows), make([]float64, rows)
				want := make([]F, rows*c)
				on(p, func() {
					SoftmaxRows(x, got, c, ys, scales, gm, gs, 0)
					for r, y := range ys {
						if y < 0 {
							continue
						}
						row, g := x[r*c:(r+1)*c], want[r*c:(r+1)*c]
						s := ExpShiftSum(g, row, Max(row))
						sc := F(scales[r]) // the kernels take the scales as F
						a := F(float64(sc) / s)
						for i := range g {
							g[i] = flushed(g[i] * a)
						}
						g[y] = flushed(g[y] - sc)
						if gs[r] != s && !(math.IsNaN(gs[r]) && math.IsNaN(s)) {
							t.Fatalf("%v %T c=%d row %d: s = %v, parts %v", p, x, c, r, gs[r], s)
						}
					}
				})
				check(t)
				for k := range got {
					g, w := float64(got[k]), float64(want[k])
					if math.Float64bits(g) != math.Float64bits(w) && !(math.IsNaN(g) && math.IsNaN(w)) {
						t.Fatalf("%v %T c=%d special=%v: grad[%d] = %v, parts %v", p, x, c, special, k, g, w)
					}
				}
			}
		}
	}
}

// TestExpFlushesBelowNormal: on both assembly paths exp gives 0 exactly
// where e^z is below the smallest normal number, and a normal number
// within float accuracy above it (a subnormal costs a microcode assist);
// −Inf gives 0 and NaN stays NaN.
func TestExpFlushesBelowNormal(t *testing.T) {
	testExpFlush[float32](t, -110, 0.001, math.Ldexp(1, -126), 3e-6)
	testExpFlush[float64](t, -760, 0.001, math.Ldexp(1, -1022), 1e-12)
}

func testExpFlush[F float32 | float64](t *testing.T, from, step, smallest, rel float64) {
	var x []F
	for z := from; z < from+60; z += step {
		x = append(x, F(z))
	}
	x = append(x, F(math.Inf(-1)), F(math.NaN()))
	for _, p := range paths(t) {
		e := make([]F, len(x))
		on(p, func() { ExpShiftSum(e, x, 0) })
		for i, z := range x {
			want := math.Exp(float64(z))
			got := float64(e[i])
			switch {
			case math.IsNaN(float64(z)):
				if !math.IsNaN(got) {
					t.Fatalf("%v %T: exp(NaN) = %v", p, z, got)
				}
			case want < smallest:
				if got != 0 {
					t.Fatalf("%v %T: exp(%v) = %v, want 0 below the smallest normal", p, z, z, got)
				}
			case got < smallest || math.Abs(got-want) > rel*want:
				t.Fatalf("%v %T: exp(%v) = %v, want %v", p, z, z, got, want)
			}
		}
	}
}

//go:noinline
func halve(v float64) float64 { return v / 2 }

// TestKernelsRestoreMXCSR: the kernels flush subnormals while they run, and
// Go's own arithmetic afterwards still makes them.
func TestKernelsRestoreMXCSR(t *testing.T) {
	tiny := math.Ldexp(1, -1022)
	for _, p := range paths(t) {
		on(p, func() {
			x := []float32{-200, 0, 1, 2}
			g := make([]float32, len(x))
			ExpShiftSum(g, x, 2)
			ScaleAdd(g, 1e-30, x, 1e-30, 0)
			SoftmaxRows(x, g, 2, []int64{0, 1}, []float64{1, 1}, make([]float64, 2), make([]float64, 2), 0)
			e := Elements[float32]{X: x, T: []float32{0, 1, 0, 1}, WS: 1, QS: 1, GS: 1, Grad: g}
			Sigmoid(&e)
			SigmoidFocal(&e, 0.25, 2)
			Asymmetric(&e, AsymmetricParams{GammaNeg: 4, Clip: 0.05})
		})
		if v := halve(tiny); v == 0 {
			t.Fatalf("%v: 2⁻¹⁰²²/2 = 0 after the kernels: MXCSR was left flushing", p)
		}
	}
	if Supported(AVX512) {
		c := StreamMinRowBytes / 4
		x, g := make([]float32, 2*c), make([]float32, 2*c)
		on(AVX512, func() { streamRows(x, g, c, []int64{0, 1}, []float64{1, 1}, make([]float64, 2), make([]float64, 2)) })
		if v := halve(tiny); v == 0 {
			t.Fatal("2⁻¹⁰²²/2 = 0 after the streaming kernel: MXCSR was left flushing")
		}
	}
}

func TestMaxDotIsItsParts(t *testing.T) {
	testMaxDot[float32](t)
	testMaxDot[float64](t)
}

// testMaxDot: MaxDot gives Max, Dot(nil, u) and Dot(u, x) to the bit, on
// every path, for every length 0…70 and large ones, with ±1e4, ±Inf and
// NaN among the values (where the maximum is unspecified).
func testMaxDot[F float32 | float64](t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	for _, p := range append(paths(t), Go) {
		for _, n := range lengths() {
			for _, special := range []bool{false, true} {
				x := convertTo[F](values(rng, n, special))
				u := convertTo[F](values(rng, n+3, false)) // longer than x
				on(p, func() {
					m, su, sux := MaxDot(x, u)
					wm, wsu, wsux := Max(x), Dot(nil, u[:n]), Dot(u, x)
					same := func(a, b float64) bool {
						return math.Float64bits(a) == math.Float64bits(b) || (math.IsNaN(a) && math.IsNaN(b))
					}
					if !same(su, wsu) || !same(sux, wsux) || (!special && !same(float64(m), float64(wm))) {
						t.Fatalf("%v %T n=%d special=%v: MaxDot = %v, %v, %v; parts %v, %v, %v", p, x, n, special, m, su, sux, wm, wsu, wsux)
					}
				})
			}
		}
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// rowLenOf picks a row length that divides n, for row weights S: rows of
// a few elements, whose ends fall at every offset of a vector.
func rowLenOf(n int) int {
	for _, d := range []int{37, 17, 10, 7, 5, 3, 2} {
		if n%d == 0 && d < n {
			return d
		}
	}
	return 1
}

// TestRowWeights: one call with row weights S gives, on every path, the
// losses and gradients of one call a row with WS·S[r] as its scalar, to
// the bit, and its sum to rounding; elements past the last whole row are
// left as they were.
func TestRowWeights(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	const rows, c = 9, 37
	x := values(rng, rows*c+5, true)
	tt := make([]float32, len(x))
	for i := range tt {
		tt[i] = float32(rng.IntN(2))
	}
	s := positive(rng, rows)
	kernels := map[string]func(*Elements[float32]) float64{
		"sigmoid":    Sigmoid[float32],
		"focal":      func(e *Elements[float32]) float64 { return SigmoidFocal(e, 0.25, 2) },
		"asymmetric": func(e *Elements[float32]) float64 { return Asymmetric(e, AsymmetricParams{GammaNeg: 4, Clip: 0.05}) },
	}
	for _, p := range append(paths(t), Go) {
		for name, run := range kernels {
			const untouched = 12345
			one := Elements[float32]{X: x, T: tt, WS: 0.5, QS: 1, GS: 0.25, S: s,
				Grad: make([]float32, len(x)), Losses: make([]float32, len(x))}
			for i := rows * c; i < len(x); i++ {
				one.Grad[i], one.Losses[i] = untouched, untouched
			}
			var got, want float64
			on(p, func() { got = run(&one) })
			grad, losses := make([]float32, len(x)), make([]float32, len(x))
			for r := range rows {
				e := Elements[float32]{X: x[r*c : (r+1)*c], T: tt[r*c : (r+1)*c], WS: 0.5 * s[r], QS: 1, GS: 0.25,
					Grad: grad[r*c : (r+1)*c], Losses: losses[r*c : (r+1)*c]}
				on(p, func() { want += run(&e) })
			}
			for i := range rows * c {
				if math.Float32bits(one.Grad[i]) != math.Float32bits(grad[i]) || math.Float32bits(one.Losses[i]) != math.Float32bits(losses[i]) {
					t.Fatalf("%v/%s: element %d: grad %v loss %v, a call a row %v %v", p, name, i, one.Grad[i], one.Losses[i], grad[i], losses[i])
				}
			}
			for i := rows * c; i < len(x); i++ {
				if one.Grad[i] != untouched || one.Losses[i] != untouched {
					t.Errorf("%v/%s: element %d past the rows written: %v %v", p, name, i, one.Grad[i], one.Losses[i])
				}
			}
			if math.Abs(got-want) > 1e-6*math.Abs(want) && !(math.IsNaN(got) && math.IsNaN(want)) {
				t.Errorf("%v/%s: sum %v, a call a row %v", p, name, got, want)
			}
		}
	}
}

// TestFillRows holds FillRows on every path to its reference loop, to the
// bit, for rows of every length around the vector sizes and at every start
// offset: nothing written outside dst, s unchanged.
func TestFillRows(t *testing.T) {
	testFillRows[float32](t)
	testFillRows[float64](t)
}

func testFillRows[F float32 | float64](t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, p := range append(paths(t), Go) {
		for c := 1; c <= 40; c++ {
			for _, rows := range []int{0, 1, 2, 3, 7, 33} {
				for off := range 3 {
					s := convertTo[F](positive(rng, rows+off))[off:]
					keep := append([]F(nil), s...)
					want := make([]F, rows*c)
					for r := range rows {
						for k := range c {
							want[r*c+k] = s[r] * 0.3
						}
					}
					buf, check := guardedOf[F](rows*c + off)
					got := buf[off:]
					on(p, func() { FillRows(got, s, c, 0.3) })
					check(t)
					for i := range want {
						if got[i] != want[i] {
							t.Fatalf("%v/%T/c=%d/rows=%d/off=%d: dst[%d] = %v, want %v", p, got[0], c, rows, off, i, got[i], want[i])
						}
					}
					for i := range s {
						if s[i] != keep[i] {
							t.Fatalf("%v: s[%d] changed", p, i)
						}
					}
				}
			}
		}
	}
}

// TestLog holds LogOf within 2 ulp of math.Log over the normal numbers
// and densely on [1, 1000] (the softmax sums), and Log on every path to
// LogOf's bits, at every length and start offset, NaN kept, nothing
// written past dst, x unchanged.
func TestLog(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	var xs []float64
	for range 20000 {
		xs = append(xs, 1+999*rng.Float64(), math.Exp(1400*rng.Float64()-700), 1+rng.Float64()*1e-9, 1-rng.Float64()*0.25)
	}
	xs = append(xs, 1, 2, 0.75, 1.5, math.MaxFloat64, 0x1p-1022, math.Nextafter(1, 2), math.Nextafter(1, 0))
	for _, x := range xs {
		got, want := LogOf(x), math.Log(x)
		if ulp := math.Abs(math.Nextafter(want, math.Inf(1)) - want); math.Abs(got-want) > 2*ulp {
			t.Fatalf("LogOf(%v) = %v, math.Log %v: beyond 2 ulp", x, got, want)
		}
	}
	if v := LogOf(math.NaN()); !math.IsNaN(v) {
		t.Errorf("LogOf(NaN) = %v", v)
	}
	for _, p := range append(paths(t), Go) {
		for _, n := range lengths() {
			for off := range 3 {
				x := make([]float64, n+off)
				for i := range x {
					x[i] = xs[rng.IntN(len(xs))]
					if rng.IntN(9) == 0 {
						x[i] = math.NaN()
					}
				}
				x = x[off:]
				keep := append([]float64(nil), x...)
				dst, check := guardedOf[float64](n)
				on(p, func() { Log(dst, x) })
				check(t)
				for i, v := range x {
					if want := LogOf(v); math.Float64bits(dst[i]) != math.Float64bits(want) && !(math.IsNaN(want) && math.IsNaN(dst[i])) {
						t.Fatalf("%v: n=%d: Log(%v) = %v, LogOf %v", p, n, v, dst[i], want)
					}
					if math.Float64bits(v) != math.Float64bits(keep[i]) {
						t.Fatalf("%v: x[%d] changed", p, i)
					}
				}
			}
		}
	}
}
