// Package num holds the one definition of the element types every package
// of xent computes in, so that a float type accepted by one is accepted by
// all.
package num

// Float is float32 or float64 (or a type defined on them).
type Float interface{ ~float32 | ~float64 }

// Index is an integer type of class-index targets. PyTorch's targets are
// int64; numpy label files are often int32 or uint8.
type Index interface {
	~int | ~int8 | ~int16 | ~int32 | ~int64 | ~uint8 | ~uint16 | ~uint32
}
