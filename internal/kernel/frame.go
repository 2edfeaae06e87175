package kernel

// elemArgs and elemArgs64 are the frames of the float32 and float64
// element kernels (dispatch_amd64.go fills them); the generator
// (_gen/elements.go) reads their layout from these declarations, which are
// its one definition. A nil optional operand is pointed, by the kernel, at
// its lane below, into which the kernel broadcasts its scalar (ws, qs, gs,
// and 1 for h; ws·s[r] before row r with row weights), or which, for an
// output, takes the values nobody wants.
type elemArgs struct {
	x, t, w, q, g, h, grad, loss             *float32
	n                                        int
	wInc, qInc, gInc, hInc, gradInc, lossInc int      // set by the kernel
	ws, qs, gs                               float32  // the scalars of nil w, q, g
	s                                        *float32 // row weights (w nil), or nil
	rows                                     int      // rows of n elements; counted down by the kernel
	a1, a2                                   float32
	gamma, gamma2, mode                      int
	lanes                                    [5][16]float32 // w, q, g, h, sink
}

type elemArgs64 struct {
	x, t, w, q, g, h, grad, loss             *float64
	n                                        int
	wInc, qInc, gInc, hInc, gradInc, lossInc int
	ws, qs, gs                               float64
	s                                        *float64
	rows                                     int
	a1, a2                                   float64
	gamma, gamma2, mode                      int
	lanes                                    [5][8]float64
}
