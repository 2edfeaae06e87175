// Package memlimit tells how much more memory this process can have, so
// that a command can refuse an input that would need more with an error
// that names the size, instead of dying in the Go runtime with "out of
// memory" (a fatal error no recover catches).
//
// The bound is the smallest of: the address-space and data-segment limits
// (RLIMIT_AS, RLIMIT_DATA) less what the process maps already, the memory
// the kernel reports available (MemAvailable plus free swap, from
// /proc/meminfo), the cgroup's memory.max less its memory.current, and
// the Go runtime's soft limit (GOMEMLIMIT). Where a source cannot be read
// it does not bound; on systems other than Linux only GOMEMLIMIT does.
// The answer is a snapshot: other processes may take memory after it.
package memlimit

import (
	"errors"
	"fmt"
	"math"
	"runtime/debug"
)

// ErrTooLarge is wrapped by Check's errors.
var ErrTooLarge = errors.New("more memory than this process can have")

// Limit is one bound on the memory the process can still allocate.
type Limit struct {
	Bytes uint64 // how many more bytes
	What  string // where the bound comes from, for messages
}

// Available returns the tightest bound on the bytes this process can
// still allocate; Bytes is math.MaxUint64 when nothing bounds it.
func Available() Limit {
	best := Limit{Bytes: math.MaxUint64, What: "no limit"}
	for _, l := range limits() {
		if l.Bytes < best.Bytes {
			best = l
		}
	}
	if gl := debug.SetMemoryLimit(-1); gl >= 0 && gl < math.MaxInt64 && uint64(gl) < best.Bytes {
		best = Limit{Bytes: uint64(gl), What: "GOMEMLIMIT"}
	}
	return best
}

// Check returns nil when bytes more can be allocated, and otherwise an
// error wrapping ErrTooLarge that names what needs them, the size and
// the limit: "the gradient needs 48.0 GiB, more memory than this process
// can have (20.1 GiB of available memory)".
//
// Sizes up to Small pass without a look at the limits, which costs
// reading three files of /proc: such an allocation fails only on a
// machine that is out of memory already.
func Check(bytes uint64, what string) error {
	if bytes <= Small {
		return nil
	}
	l := Available()
	if bytes <= l.Bytes {
		return nil
	}
	return fmt.Errorf("%s needs %s, %w (%s of %s)", what, Size(bytes), ErrTooLarge, Size(l.Bytes), l.What)
}

// Small is the size below which Check does not look.
const Small = 16 << 20

// Bytes returns count·size, or math.MaxUint64 when the product overflows
// or count is negative: a size no Check passes.
func Bytes(count, size int) uint64 {
	if count < 0 || size < 0 {
		return math.MaxUint64
	}
	hi, lo := mul64(uint64(count), uint64(size))
	if hi != 0 {
		return math.MaxUint64
	}
	return lo
}

// Add returns a+b, saturating at math.MaxUint64.
func Add(a, b uint64) uint64 {
	if a > math.MaxUint64-b {
		return math.MaxUint64
	}
	return a + b
}

func mul64(a, b uint64) (hi, lo uint64) {
	if a == 0 || b == 0 {
		return 0, 0
	}
	lo = a * b
	if lo/b != a {
		return 1, lo
	}
	return 0, lo
}

// Size formats a byte count with a binary unit: 512 B, 1.5 KiB, 48.0 GiB.
func Size(b uint64) string {
	if b == math.MaxUint64 {
		return "more than 16 EiB"
	}
	const unit = 1024
	if b < unit {
		return fmt.Sprintf("%d B", b)
	}
	v, exp := float64(b)/unit, 0
	for v >= unit && exp < 5 {
		v /= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", v, "KMGTPE"[exp])
}
