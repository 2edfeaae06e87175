// Package num holds the one definition of the element types every package
// of xent computes in, so that a float type accepted by one is accepted by
// all.
package num

import "math"

// Float is float32 or float64 (or a type defined on them).
type Float interface{ ~float32 | ~float64 }

// Index is an integer type of class-index targets. PyTorch's targets are
// int64; numpy label files are often int32 or uint8.
type Index interface {
	~int | ~int8 | ~int16 | ~int32 | ~int64 | ~uint8 | ~uint16 | ~uint32
}

// MaxFinite returns the largest finite T.
func MaxFinite[T Float]() T {
	maxF64 := math.MaxFloat64 // a variable: the constant does not fit float32
	if T(maxF64) == T(math.Inf(1)) {
		return T(math.MaxFloat32)
	}
	return T(maxF64)
}
