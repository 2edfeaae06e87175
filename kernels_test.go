package xent

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestUseKernelPath(t *testing.T) {
	paths := KernelPaths()
	if len(paths) == 0 || paths[0] != "go" {
		t.Fatalf("KernelPaths() = %v, want go first", paths)
	}
	if got := KernelPath(); got != paths[len(paths)-1] {
		t.Errorf("KernelPath() = %q, want the fastest, %q", got, paths[len(paths)-1])
	}
	for _, p := range paths {
		restore, err := UseKernelPath(p)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if got := KernelPath(); got != p {
			t.Errorf("after UseKernelPath(%q), KernelPath() = %q", p, got)
		}
		v, err := SoftmaxCrossEntropy([]int{1, 3}, []float32{1, 2, 3}, []int64{2}, SoftmaxOptions[float32]{}, Output[float32]{})
		if err != nil || !(v > 0.40 && v < 0.41) {
			t.Errorf("%s: loss %v, %v; want 0.4076", p, v, err)
		}
		restore()
	}
	if got := KernelPath(); got != paths[len(paths)-1] {
		t.Errorf("after restore, KernelPath() = %q", got)
	}
	_, err := UseKernelPath("neon")
	if !errors.Is(err, ErrOption) || !strings.Contains(err.Error(), `"neon"`) || !strings.Contains(err.Error(), strings.Join(paths, ", ")) {
		t.Errorf("unknown path: %v", err)
	}
	if slices.Contains(paths, "avx512") && !slices.Contains(paths, "avx2") {
		t.Errorf("%v: a machine with AVX-512 runs the AVX2 kernels too", paths)
	}
}
