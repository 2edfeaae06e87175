// Package mem answers questions about the memory behind slices.
package mem

import "unsafe"

// Overlap reports whether a and b share at least one element: whether the
// byte ranges [&a[0], &a[0]+len(a)·size) and [&b[0], &b[0]+len(b)·size)
// intersect. Empty slices share nothing.
func Overlap[T any](a, b []T) bool {
	if len(a) == 0 || len(b) == 0 {
		return false
	}
	size := unsafe.Sizeof(a[0])
	pa, pb := uintptr(unsafe.Pointer(&a[0])), uintptr(unsafe.Pointer(&b[0]))
	return pa < pb+uintptr(len(b))*size && pb < pa+uintptr(len(a))*size
}
