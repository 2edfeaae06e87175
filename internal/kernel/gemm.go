package kernel

// GemmTile returns the microkernel's tile for element type T on the active
// path: mr rows of A by nr columns of B.
func GemmTile[T Float]() (mr, nr int) {
	return gemmTileOn[T]()
}

// GemmKernel computes the mr×nr tile C (rows ldc apart) as the product of
// packed panels over k steps, adding to C with add:
//
//	for p := range k: for r := range mr: for j := range nr:
//		C[r·ldc + j] (+)= a[p·mr + r] · b[p·nr + j]
//
// with mr, nr = GemmTile[T](). a holds k·mr values, b k·nr.
func GemmKernel[T Float](k int, a, b, c []T, ldc int, add bool) {
	mr, nr := GemmTile[T]()
	a, b = a[:k*mr], b[:k*nr]
	_ = c[(mr-1)*ldc+nr-1]
	if k > 0 {
		gemmKernelOn(k, a, b, c, ldc, add)
		return
	}
	if !add {
		for r := range mr {
			clear(c[r*ldc : r*ldc+nr])
		}
	}
}

// gemmKernelGo is GemmKernel's reference loop on the Go tile of 4×8, the
// Go path.
func gemmKernelGo[T Float](k int, a, b, c []T, ldc int, add bool) {
	const mr, nr = 4, 8
	var acc [mr * nr]float64
	for p := range k {
		ap, bp := a[p*mr:p*mr+mr], b[p*nr:p*nr+nr]
		for r, av := range ap {
			row := acc[r*nr : r*nr+nr]
			for j, bv := range bp {
				row[j] += float64(av) * float64(bv)
			}
		}
	}
	for r := range mr {
		row := c[r*ldc : r*ldc+nr]
		for j := range row {
			if add {
				row[j] += T(acc[r*nr+j])
			} else {
				row[j] = T(acc[r*nr+j])
			}
		}
	}
}
