package memlimit

import (
	"errors"
	"math"
	"runtime/debug"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	if err := Check(1<<30, "one GiB"); err != nil {
		t.Fatalf("Check(1 MiB) = %v", err)
	}
	err := Check(math.MaxUint64, "the gradient")
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Check(MaxUint64) = %v, want ErrTooLarge", err)
	}
	if msg := err.Error(); !strings.HasPrefix(msg, "the gradient needs more than 16 EiB, more memory than this process can have (") {
		t.Errorf("message %q", msg)
	}
}

func TestGOMEMLIMITBounds(t *testing.T) {
	old := debug.SetMemoryLimit(64 << 20)
	defer debug.SetMemoryLimit(old)
	l := Available()
	if l.Bytes > 64<<20 || l.What != "GOMEMLIMIT" {
		t.Fatalf("Available() = %+v with GOMEMLIMIT 64 MiB", l)
	}
	err := Check(128<<20, "x")
	if err == nil || !strings.Contains(err.Error(), "x needs 128.0 MiB") || !strings.Contains(err.Error(), "64.0 MiB of GOMEMLIMIT") {
		t.Fatalf("Check(128 MiB) = %v", err)
	}
	debug.SetMemoryLimit(1 << 20)
	if err := Check(Small, "small"); err != nil {
		t.Errorf("Check(Small) with GOMEMLIMIT 1 MiB = %v: small sizes are not looked at", err)
	}
}

func TestBytesSaturates(t *testing.T) {
	for _, c := range []struct {
		count, size int
		want        uint64
	}{
		{0, 8, 0}, {3, 8, 24}, {-1, 8, math.MaxUint64}, {math.MaxInt, 2, uint64(math.MaxInt) * 2}, {math.MaxInt, 4, math.MaxUint64},
		{math.MaxInt, math.MaxInt, math.MaxUint64},
	} {
		if got := Bytes(c.count, c.size); got != c.want {
			t.Errorf("Bytes(%d, %d) = %d, want %d", c.count, c.size, got, c.want)
		}
	}
	if Add(math.MaxUint64-1, 2) != math.MaxUint64 || Add(2, 3) != 5 {
		t.Error("Add does not saturate")
	}
}

func TestSize(t *testing.T) {
	for b, want := range map[uint64]string{0: "0 B", 1023: "1023 B", 1536: "1.5 KiB", 48 << 30: "48.0 GiB"} {
		if got := Size(b); got != want {
			t.Errorf("Size(%d) = %q, want %q", b, got, want)
		}
	}
}
