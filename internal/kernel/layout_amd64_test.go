//go:build amd64 && !noasm

package kernel

import (
	"testing"
	"unsafe"
)

// TestElemArgsLayout pins the offsets _gen/gen.go reads the frame at.
func TestElemArgsLayout(t *testing.T) {
	var a elemArgs
	var b elemArgs64
	for _, c := range []struct {
		name string
		got  uintptr
		want uintptr
	}{
		{"x", unsafe.Offsetof(a.x), 0}, {"t", unsafe.Offsetof(a.t), 8}, {"w", unsafe.Offsetof(a.w), 16},
		{"q", unsafe.Offsetof(a.q), 24}, {"g", unsafe.Offsetof(a.g), 32}, {"h", unsafe.Offsetof(a.h), 40},
		{"grad", unsafe.Offsetof(a.grad), 48}, {"loss", unsafe.Offsetof(a.loss), 56}, {"n", unsafe.Offsetof(a.n), 64},
		{"wInc", unsafe.Offsetof(a.wInc), 72}, {"qInc", unsafe.Offsetof(a.qInc), 80}, {"gInc", unsafe.Offsetof(a.gInc), 88},
		{"hInc", unsafe.Offsetof(a.hInc), 96}, {"gradInc", unsafe.Offsetof(a.gradInc), 104}, {"lossInc", unsafe.Offsetof(a.lossInc), 112},
		{"a1", unsafe.Offsetof(a.a1), 120}, {"a2", unsafe.Offsetof(a.a2), 124}, {"gamma", unsafe.Offsetof(a.gamma), 128},
		{"gamma2", unsafe.Offsetof(a.gamma2), 136}, {"mode", unsafe.Offsetof(a.mode), 144}, {"lanes", unsafe.Offsetof(a.lanes), 152},
		{"64.x", unsafe.Offsetof(b.x), 0}, {"64.loss", unsafe.Offsetof(b.loss), 56}, {"64.n", unsafe.Offsetof(b.n), 64},
		{"64.lossInc", unsafe.Offsetof(b.lossInc), 112}, {"64.a1", unsafe.Offsetof(b.a1), 120},
		{"64.a2", unsafe.Offsetof(b.a2), 128}, {"64.gamma", unsafe.Offsetof(b.gamma), 136},
		{"64.gamma2", unsafe.Offsetof(b.gamma2), 144}, {"64.mode", unsafe.Offsetof(b.mode), 152}, {"64.lanes", unsafe.Offsetof(b.lanes), 160},
	} {
		if c.got != c.want {
			t.Errorf("elemArgs.%s at offset %d, the generator reads %d", c.name, c.got, c.want)
		}
	}
}
