package xent

import (
	"strings"

	"github.com/xent-go/xent/internal/kernel"
)

// KernelPaths lists the kernel paths this machine runs, slowest first:
// "go" (plain Go, float64 arithmetic per element, on every machine), then
// "avx2" (AVX2 with FMA) and "avx512" (AVX-512 F, DQ and VL) where the CPU
// has them. The losses run on the last, the fastest, unless UseKernelPath
// picks another.
func KernelPaths() []string {
	var names []string
	for _, p := range []kernel.Path{kernel.Go, kernel.AVX2, kernel.AVX512} {
		if kernel.Supported(p) {
			names = append(names, p.String())
		}
	}
	return names
}

// KernelPath returns the name of the kernel path the losses run on.
func KernelPath() string { return kernel.Active().String() }

// UseKernelPath makes every loss run on the named path of KernelPaths
// until restore is called, for benchmarks and for comparing the paths
// (which agree within the error bounds of the package documentation, not
// to the bit). It is not safe to call while a loss runs. Errors wrap
// ErrOption: a name this machine does not run, with the ones it does.
func UseKernelPath(name string) (restore func(), err error) {
	for _, p := range []kernel.Path{kernel.Go, kernel.AVX2, kernel.AVX512} {
		if p.String() == name {
			if restore, ok := kernel.Use(p); ok {
				return restore, nil
			}
		}
	}
	return nil, optionError("kernel path %q: this machine runs %s", name, strings.Join(KernelPaths(), ", "))
}
