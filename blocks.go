package xent

import (
	"runtime"

	"github.com/xent-go/xent/internal/parallel"
)

// blockElements is the work of one block: about 64K logits. Blocks depend
// on the shape alone, never on the number of workers, and their partial
// sums are added in order, so a result is the same to the bit for any
// worker count.
const blockElements = 1 << 16

// blocking splits count units of unitSize elements into fixed blocks.
type blocking struct{ count, per int }

func newBlocking(count, unitSize int) blocking {
	per := max(1, blockElements/max(unitSize, 1))
	return blocking{count: count, per: per}
}

func (b blocking) blocks() int { return (b.count + b.per - 1) / b.per }

// span returns the units [lo, hi) of block i.
func (b blocking) span(i int) (lo, hi int) {
	lo = i * b.per
	return lo, min(lo+b.per, b.count)
}

// workerCount is the number of goroutines a call may use: the option, or
// GOMAXPROCS when it is 0.
func workerCount(option int) int {
	if option > 0 {
		return option
	}
	return runtime.GOMAXPROCS(0)
}

// runJob sums job's blocks on the workers and returns the job, cleared, to
// its free list.
func runJob[J any, P interface {
	*J
	parallel.Runner
}](job P, b blocking, workers int) float64 {
	s := parallel.Sum(job, b.blocks(), workerCount(workers))
	var zero J
	*job = zero // drop the caller's slices
	parallel.Put[J](job)
	return s
}
