package nn

import (
	"fmt"
	"math"
)

// Optimizer updates parameters from their accumulated gradients. Its
// state is kept per parameter, in the order of the slice Step is given,
// so Step must be called with the same parameters every time.
type Optimizer[T Float] interface {
	Step(params []*Param[T]) error
}

// SGD is stochastic gradient descent with momentum, PyTorch's torch.optim.SGD
// without dampening or Nesterov: b ← μ·b + g (b = g on the first step),
// then p ← p − lr·b. With Momentum 0 it is plain p ← p − lr·g.
type SGD[T Float] struct {
	LR, Momentum float64
	// Buf holds b per parameter, nil before the first step.
	Buf [][]T
}

// Step applies one update. It fails if the parameters are not those of the
// previous steps.
func (o *SGD[T]) Step(params []*Param[T]) error {
	if err := initState(&o.Buf, params); err != nil {
		return err
	}
	lr, mu := T(o.LR), T(o.Momentum)
	for i, p := range params {
		b := o.Buf[i]
		for j, g := range p.Grad {
			if mu != 0 {
				g += mu * b[j]
				b[j] = g
			}
			p.Value[j] -= lr * g
		}
	}
	return nil
}

// Adam is Kingma and Ba's optimiser as torch.optim.Adam computes it: with
// t the step number,
//
//	m ← β₁·m + (1−β₁)·g,  v ← β₂·v + (1−β₂)·g²,
//	p ← p − (lr/(1−β₁ᵗ)) · m / (√v/√(1−β₂ᵗ) + ε).
//
// Zero Beta1, Beta2 and Eps mean PyTorch's defaults 0.9, 0.999 and 1e-8.
type Adam[T Float] struct {
	LR, Beta1, Beta2, Eps float64
	// T is the number of steps taken; M and V the moment estimates.
	T    int
	M, V [][]T
}

// Step applies one update. It fails if the parameters are not those of the
// previous steps.
func (o *Adam[T]) Step(params []*Param[T]) error {
	if err := initState(&o.M, params); err != nil {
		return err
	}
	if err := initState(&o.V, params); err != nil {
		return err
	}
	b1, b2, eps := o.Beta1, o.Beta2, o.Eps
	if b1 == 0 {
		b1 = 0.9
	}
	if b2 == 0 {
		b2 = 0.999
	}
	if eps == 0 {
		eps = 1e-8
	}
	o.T++
	step := T(o.LR / (1 - math.Pow(b1, float64(o.T))))
	scale := T(1 / math.Sqrt(1-math.Pow(b2, float64(o.T))))
	tb1, tb2, teps := T(b1), T(b2), T(eps)
	for i, p := range params {
		m, v := o.M[i], o.V[i]
		for j, g := range p.Grad {
			m[j] = tb1*m[j] + (1-tb1)*g
			v[j] = tb2*v[j] + (1-tb2)*g*g
			p.Value[j] -= step * m[j] / (T(math.Sqrt(float64(v[j])))*scale + teps)
		}
	}
	return nil
}

// initState allocates one zero buffer per parameter on the first call and
// checks that later calls see parameters of the same sizes.
func initState[T Float](state *[][]T, params []*Param[T]) error {
	if *state == nil {
		s := make([][]T, len(params))
		for i, p := range params {
			s[i] = make([]T, len(p.Value))
		}
		*state = s
		return nil
	}
	if len(*state) != len(params) {
		return fmt.Errorf("nn: optimizer state has %d parameters, step given %d", len(*state), len(params))
	}
	for i, p := range params {
		if len((*state)[i]) != len(p.Value) || len(p.Grad) != len(p.Value) {
			return fmt.Errorf("nn: parameter %d (%s) has %d values and %d gradients, optimizer state %d",
				i, p.Name, len(p.Value), len(p.Grad), len((*state)[i]))
		}
	}
	return nil
}
