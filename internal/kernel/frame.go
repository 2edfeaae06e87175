package kernel

// elemArgs and elemArgs64 are the frames of the float32 and float64
// element kernels (dispatch_amd64.go fills them); the generator
// (_gen/elements.go) reads their layout from these declarations, which are
// its one definition. A nil optional operand is pointed, by the kernel, at
// its lane below, which holds its scalar (or, for an output, takes the
// values nobody wants).
type elemArgs struct {
	x, t, w, q, g, h, grad, loss             *float32
	n                                        int
	wInc, qInc, gInc, hInc, gradInc, lossInc int // set by the kernel
	a1, a2                                   float32
	gamma, gamma2, mode                      int
	lanes                                    [5][16]float32 // w, q, g, h, sink
}

type elemArgs64 struct {
	x, t, w, q, g, h, grad, loss             *float64
	n                                        int
	wInc, qInc, gInc, hInc, gradInc, lossInc int
	a1, a2                                   float64
	gamma, gamma2, mode                      int
	lanes                                    [5][8]float64
}
