package nn

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/xent-go/xent"
)

// projection is L(x) = Σ r·f(x): a scalar whose gradient with respect to
// f's output is r, so Backward(r) must give dL/dx and dL/dparams.
func projection(l Layer[float64], x []float64, n int, r []float64) float64 {
	y := l.Forward(x, n)
	s := 0.0
	for i, v := range y {
		s += r[i] * v
	}
	return s
}

func randoms(rng *rand.Rand, n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = rng.NormFloat64()
	}
	return v
}

// awayFromZero moves values within 0.05 of 0 out of that band, so that a
// finite-difference step never crosses ReLU's kink.
func awayFromZero(v []float64) {
	for i, x := range v {
		if math.Abs(x) < 0.05 {
			v[i] = math.Copysign(0.05+math.Abs(x), x)
		}
	}
}

// checkClose reports a mismatch between an analytic and a numerical
// derivative with a tolerance relative to the larger of the two.
func checkClose(t *testing.T, what string, i int, got, want float64) {
	t.Helper()
	if d := math.Abs(got - want); d > 1e-6+1e-5*math.Max(math.Abs(got), math.Abs(want)) {
		t.Errorf("%s[%d]: analytic %.10g, numerical %.10g", what, i, got, want)
	}
}

const step = 1e-6

// gradCheckLayer compares one layer's Backward with central differences
// of the projection, for the input and every parameter.
func gradCheckLayer(t *testing.T, l Layer[float64], in Shape, n int, seed uint64, kinks bool) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	out, err := l.Init(in, rng)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range l.Params() { // non-zero biases, so they are exercised
		for i := range p.Value {
			p.Value[i] += 0.1 * rng.NormFloat64()
		}
	}
	x := randoms(rng, n*in.Size())
	if kinks {
		awayFromZero(x)
	}
	r := randoms(rng, n*out.Size())
	y := l.Forward(x, n)
	if len(y) != n*out.Size() {
		t.Fatalf("%v: output of %d values, want %d", l, len(y), n*out.Size())
	}
	dx := append([]float64(nil), l.Backward(r)...)
	grads := make([][]float64, len(l.Params()))
	for k, p := range l.Params() {
		grads[k] = append([]float64(nil), p.Grad...)
	}
	numerical := func(v []float64, i int) float64 {
		old := v[i]
		v[i] = old + step
		plus := projection(l, x, n, r)
		v[i] = old - step
		minus := projection(l, x, n, r)
		v[i] = old
		return (plus - minus) / (2 * step)
	}
	for i := range x {
		checkClose(t, l.String()+" dx", i, dx[i], numerical(x, i))
	}
	for k, p := range l.Params() {
		for i := range p.Value {
			checkClose(t, l.String()+" d"+p.Name, i, grads[k][i], numerical(p.Value, i))
		}
	}
}

func TestLayerGradients(t *testing.T) {
	cases := []struct {
		layer Layer[float64]
		in    Shape
		kinks bool
	}{
		{&Dense[float64]{Out: 5}, Shape{7, 1, 1}, false},
		{&Dense[float64]{Out: 1}, Shape{2, 3, 2}, false},
		{&Conv2D[float64]{Out: 3}, Shape{2, 5, 4}, false},
		{&Conv2D[float64]{Out: 1}, Shape{1, 1, 1}, false},
		{&Conv2D[float64]{Out: 4}, Shape{3, 3, 6}, false},
		{&ReLU[float64]{}, Shape{3, 2, 2}, true},
		{&MaxPool2D[float64]{}, Shape{2, 4, 6}, false},
		{&MaxPool2D[float64]{}, Shape{1, 5, 3}, false}, // odd sizes drop a row and a column
		{Flatten[float64]{}, Shape{2, 3, 3}, false},
	}
	for i, c := range cases {
		for _, n := range []int{1, 3} {
			t.Run(fmt.Sprintf("%d/%v/%v/n=%d", i, c.layer, c.in, n), func(t *testing.T) {
				gradCheckLayer(t, c.layer, c.in, n, uint64(10*i+n), c.kinks)
			})
		}
	}
}

// smallNet is the default network's architecture at a size a finite
// difference check can afford.
func smallNet(t *testing.T, workers int) *Network[float64] {
	net, err := NewNetwork(Shape{1, 8, 8}, 7, workers,
		&Conv2D[float64]{Out: 3}, &ReLU[float64]{}, &MaxPool2D[float64]{},
		&Conv2D[float64]{Out: 4}, &ReLU[float64]{}, &MaxPool2D[float64]{},
		Flatten[float64]{}, &Dense[float64]{Out: 6}, &ReLU[float64]{}, &Dense[float64]{Out: 5})
	if err != nil {
		t.Fatal(err)
	}
	return net
}

// netLoss is the mean softmax cross-entropy of the network's logits,
// with its gradient in grad when grad is not nil.
func netLoss(t *testing.T, net *Network[float64], x []float64, labels []int64, grad []float64) float64 {
	n := len(labels)
	logits, err := net.Forward(x, n)
	if err != nil {
		t.Fatal(err)
	}
	loss, err := xent.SoftmaxCrossEntropy([]int{n, net.Out.C}, logits, labels, xent.SoftmaxOptions[float64]{}, xent.Output[float64]{Grad: grad})
	if err != nil {
		t.Fatal(err)
	}
	return loss
}

// TestNetworkGradient checks the whole network, loss included, against
// central differences for the input and a sample of every parameter.
func TestNetworkGradient(t *testing.T) {
	for _, workers := range []int{1, 2} {
		net := smallNet(t, workers)
		rng := rand.New(rand.NewPCG(3, 4))
		const n = 4
		x := randoms(rng, n*net.In.Size())
		labels := []int64{0, 3, 4, 1}
		grad := make([]float64, n*net.Out.C)
		netLoss(t, net, x, labels, grad)
		net.ZeroGrad()
		din, err := net.Backward(grad)
		if err != nil {
			t.Fatal(err)
		}
		dx := append([]float64(nil), din...)
		numerical := func(v []float64, i int) float64 {
			old := v[i]
			v[i] = old + step
			plus := netLoss(t, net, x, labels, nil)
			v[i] = old - step
			minus := netLoss(t, net, x, labels, nil)
			v[i] = old
			return (plus - minus) / (2 * step)
		}
		for i := 0; i < len(x); i += 3 {
			checkClose(t, "net dx", i, dx[i], numerical(x, i))
		}
		for k, p := range net.Params() {
			g := append([]float64(nil), p.Grad...)
			for i := 0; i < len(p.Value); i += 1 + len(p.Value)/40 {
				checkClose(t, fmt.Sprintf("net param %d %s", k, p.Name), i, g[i], numerical(p.Value, i))
			}
		}
	}
}

// TestWorkersBitIdentical pins that the worker count does not change a
// single bit of the forward or backward pass.
func TestWorkersBitIdentical(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	const n = 9
	one, two := smallNet(t, 1), smallNet(t, 2)
	x := randoms(rng, n*one.In.Size())
	labels := []int64{0, 1, 2, 3, 4, 0, 1, 2, 3}
	g1, g2 := make([]float64, n*5), make([]float64, n*5)
	l1, l2 := netLoss(t, one, x, labels, g1), netLoss(t, two, x, labels, g2)
	if l1 != l2 {
		t.Fatalf("loss %v with 1 worker, %v with 2", l1, l2)
	}
	if _, err := one.Backward(g1); err != nil {
		t.Fatal(err)
	}
	if _, err := two.Backward(g2); err != nil {
		t.Fatal(err)
	}
	p2 := two.Params()
	for k, p := range one.Params() {
		for i := range p.Grad {
			if p.Grad[i] != p2[k].Grad[i] {
				t.Fatalf("param %d %s grad[%d]: %v with 1 worker, %v with 2", k, p.Name, i, p.Grad[i], p2[k].Grad[i])
			}
		}
	}
}

func TestBackwardAccumulates(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 9))
	d := &Dense[float64]{Out: 3}
	if _, err := d.Init(Shape{4, 1, 1}, rng); err != nil {
		t.Fatal(err)
	}
	x, r := randoms(rng, 2*4), randoms(rng, 2*3)
	d.Forward(x, 2)
	d.Backward(r)
	once := append([]float64(nil), d.W.Grad...)
	d.Forward(x, 2)
	d.Backward(r)
	for i, g := range d.W.Grad {
		if math.Abs(g-2*once[i]) > 1e-12 {
			t.Fatalf("W.Grad[%d] = %v after two backward passes, want %v", i, g, 2*once[i])
		}
	}
}

func TestInitErrors(t *testing.T) {
	for _, c := range []struct {
		layer Layer[float32]
		in    Shape
	}{
		{&Dense[float32]{}, Shape{3, 1, 1}},
		{&Conv2D[float32]{Out: 2}, Shape{0, 4, 4}},
		{&Conv2D[float32]{}, Shape{1, 4, 4}},
		{&MaxPool2D[float32]{}, Shape{1, 1, 4}},
	} {
		if _, err := NewNetwork[float32](c.in, 1, 1, c.layer); err == nil {
			t.Errorf("%v over %v: no error", c.layer, c.in)
		}
	}
}

func TestHeInit(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const fanIn = 50
	w := he[float64](rng, 100000, fanIn)
	var sum, sq float64
	for _, v := range w {
		sum += v
		sq += v * v
	}
	mean, variance := sum/float64(len(w)), sq/float64(len(w))
	if math.Abs(mean) > 0.003 || math.Abs(variance-2.0/fanIn) > 0.002 {
		t.Fatalf("mean %v, variance %v, want 0 and %v", mean, variance, 2.0/fanIn)
	}
}

// TestSGD pins torch.optim.SGD's update: b₁ = g₁, b₂ = μb₁ + g₂.
func TestSGD(t *testing.T) {
	p := &Param[float64]{Name: "p", Value: []float64{1, -2}, Grad: []float64{0.5, 1}}
	o := &SGD[float64]{LR: 0.1, Momentum: 0.9}
	if err := o.Step([]*Param[float64]{p}); err != nil {
		t.Fatal(err)
	}
	want := []float64{1 - 0.1*0.5, -2 - 0.1*1}
	p.Grad = []float64{-1, 2}
	if err := o.Step([]*Param[float64]{p}); err != nil {
		t.Fatal(err)
	}
	want[0] -= 0.1 * (0.9*0.5 - 1)
	want[1] -= 0.1 * (0.9*1 + 2) // torch.optim.SGD gives [1.005, -2.39]
	for i := range want {
		if math.Abs(p.Value[i]-want[i]) > 1e-15 {
			t.Errorf("value[%d] = %v, want %v", i, p.Value[i], want[i])
		}
	}
	if err := o.Step([]*Param[float64]{p, p}); err == nil {
		t.Error("a step with other parameters did not fail")
	}
}

// TestAdam pins two steps, by hand and against torch.optim.Adam (lr 0.01,
// defaults otherwise), on p = [1, −2] with gradients [0.5, 1] and then
// [−1, 2]. The first step moves each value by lr·sign(g).
func TestAdam(t *testing.T) {
	p := &Param[float64]{Name: "p", Value: []float64{1, -2}, Grad: []float64{0.5, 1}}
	o := &Adam[float64]{LR: 0.01}
	if err := o.Step([]*Param[float64]{p}); err != nil {
		t.Fatal(err)
	}
	for i, want := range []float64{0.99, -2.01} {
		if math.Abs(p.Value[i]-want) > 1e-9 { // ε moves it by 2e-10
			t.Errorf("step 1 value[%d] = %v, want %v", i, p.Value[i], want)
		}
	}
	after1 := append([]float64(nil), p.Value...)
	p.Grad = []float64{-1, 2}
	if err := o.Step([]*Param[float64]{p}); err != nil {
		t.Fatal(err)
	}
	// Second step by hand: m = 0.9·0.1g₁ + 0.1g₂, v = 0.999·0.001g₁² + 0.001g₂².
	for i, g := range [][2]float64{{0.5, -1}, {1, 2}} {
		m := 0.9*0.1*g[0] + 0.1*g[1]
		v := 0.999*0.001*g[0]*g[0] + 0.001*g[1]*g[1]
		mhat, vhat := m/(1-0.81), v/(1-0.999*0.999)
		want := after1[i] - 0.01*mhat/(math.Sqrt(vhat)+1e-8)
		if math.Abs(p.Value[i]-want) > 1e-12 {
			t.Errorf("step 2 value[%d] = %v, want %v", i, p.Value[i], want)
		}
	}
	// torch.optim.Adam, float64, printed with repr.
	for i, want := range []float64{0.9936610354240566, -2.0196518200971836} {
		if math.Abs(p.Value[i]-want) > 1e-15 {
			t.Errorf("step 2 value[%d] = %v, torch gives %v", i, p.Value[i], want)
		}
	}
}

// TestTrainsSeparableData trains the small network with Adam on a task a
// CNN must solve — the class is which quadrant of the image is bright —
// and requires the training loss to fall below a tenth of its start.
func TestTrainsSeparableData(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	net := smallNet(t, 2)
	const n = 32
	x := make([]float64, n*64)
	labels := make([]int64, n)
	for b := range n {
		q := b % 4
		labels[b] = int64(q)
		for i := range 8 {
			for j := range 8 {
				v := 0.1 * rng.NormFloat64()
				if (i/4)*2+j/4 == q {
					v += 1
				}
				x[b*64+i*8+j] = v
			}
		}
	}
	opt := &Adam[float64]{LR: 0.01}
	grad := make([]float64, n*net.Out.C)
	first := netLoss(t, net, x, labels, nil)
	var last float64
	for range 100 {
		last = netLoss(t, net, x, labels, grad)
		net.ZeroGrad()
		if _, err := net.Backward(grad); err != nil {
			t.Fatal(err)
		}
		if err := opt.Step(net.Params()); err != nil {
			t.Fatal(err)
		}
	}
	if !(last < first/10) {
		t.Fatalf("loss %v after 100 steps, from %v", last, first)
	}
}

func TestClassifierShapes(t *testing.T) {
	for _, c := range []struct {
		in       Shape
		features int
	}{{Shape{1, 28, 28}, 1568}, {Shape{1, 56, 56}, 6272}, {Shape{3, 9, 9}, 32 * 2 * 2}} {
		net, err := Classifier[float32](c.in, 10, 1, 1)
		if err != nil {
			t.Fatal(err)
		}
		dense := net.Layers[7].(*Dense[float32])
		if dense.in != c.features || net.Out != (Shape{10, 1, 1}) {
			t.Errorf("%v: dense takes %d features, output %v; want %d and 10×1×1", c.in, dense.in, net.Out, c.features)
		}
		if y, err := net.Forward(make([]float32, 2*c.in.Size()), 2); err != nil || len(y) != 20 {
			t.Errorf("%v: %d outputs for 2 images (%v)", c.in, len(y), err)
		}
	}
	if _, err := Classifier[float32](Shape{1, 28, 28}, 0, 1, 1); err == nil {
		t.Error("0 classes: no error")
	}
	if _, err := Classifier[float32](Shape{1, 3, 3}, 10, 1, 1); err == nil {
		t.Error("3×3 images (the second pool has 1×1): no error")
	}
}

// TestNetworkShapeErrors: wrong sizes are errors wrapping ErrShape, not
// panics, and leave the network usable.
func TestNetworkShapeErrors(t *testing.T) {
	net := smallNet(t, 1)
	if _, err := net.Backward(make([]float64, 5)); !errors.Is(err, ErrShape) {
		t.Errorf("Backward before Forward: %v", err)
	}
	for _, c := range []struct{ values, n int }{{63, 1}, {65, 1}, {64, 2}, {0, 0}, {64, -1}} {
		if _, err := net.Forward(make([]float64, c.values), c.n); !errors.Is(err, ErrShape) {
			t.Errorf("Forward of %d values as %d examples: %v", c.values, c.n, err)
		}
	}
	if _, err := net.Forward(make([]float64, 2*64), 2); err != nil {
		t.Fatal(err)
	}
	for _, size := range []int{5, 11, 0} {
		if _, err := net.Backward(make([]float64, size)); !errors.Is(err, ErrShape) {
			t.Errorf("Backward of %d values after a batch of 2: %v", size, err)
		}
	}
	if _, err := net.Backward(make([]float64, 10)); err != nil {
		t.Errorf("Backward of the right size: %v", err)
	}
}
