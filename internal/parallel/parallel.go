// Package parallel runs the blocks of a loss on several goroutines and adds
// their results in a fixed order, so that the sum is the same float64 for
// any number of workers.
package parallel

import (
	"reflect"
	"sync"
	"sync/atomic"
)

// Runner computes one block of work and returns its partial sum.
type Runner interface {
	Block(b int) float64
}

// Sum returns Σ_b r.Block(b) over b = 0 … blocks−1, added in order of b.
// With workers > 1 (and more than one block) the blocks run on up to
// workers goroutines, the caller's among them; the result does not depend
// on workers. r must be safe to call from several goroutines on different
// blocks. Sum allocates nothing once its pools are warm.
func Sum(r Runner, blocks, workers int) float64 {
	if workers <= 1 || blocks <= 1 {
		s := 0.0
		for b := range blocks {
			s += r.Block(b)
		}
		return s
	}
	t := Get[task]()
	t.r, t.blocks = r, blocks
	t.next.Store(0)
	if cap(t.partial) < blocks {
		t.partial = make([]float64, blocks)
	}
	t.partial = t.partial[:blocks]
	helpers := min(workers, blocks) - 1
	startHelpers(helpers)
	for range helpers {
		t.wg.Add(1)
		select {
		case work <- t:
		default: // every helper is busy: the caller does that share itself
			t.wg.Done()
		}
	}
	t.run()
	t.wg.Wait()
	s := 0.0
	for _, p := range t.partial {
		s += p
	}
	t.r = nil
	Put(t)
	return s
}

type task struct {
	r       Runner
	blocks  int
	next    atomic.Int64
	partial []float64
	wg      sync.WaitGroup
}

// run takes blocks until none is left.
func (t *task) run() {
	for {
		b := int(t.next.Add(1) - 1)
		if b >= t.blocks {
			return
		}
		t.partial[b] = t.r.Block(b)
	}
}

var (
	work    = make(chan *task)
	mu      sync.Mutex
	started int
)

// maxHelpers bounds the helper goroutines kept for the whole process.
const maxHelpers = 256

// startHelpers makes sure n helper goroutines wait for work.
func startHelpers(n int) {
	mu.Lock()
	defer mu.Unlock()
	for ; started < min(n, maxHelpers); started++ {
		go func() {
			for t := range work {
				t.run()
				t.wg.Done()
			}
		}()
	}
}

// freeLists holds one free list per type for Get and Put: a buffered
// channel, not a sync.Pool, because every garbage collection empties a
// sync.Pool, and then each call would allocate again.
var freeLists sync.Map // reflect.Type → chan any

// freeListSize bounds the objects kept per type.
const freeListSize = 64

func freeList[J any]() chan any {
	l, ok := freeLists.Load(reflect.TypeFor[J]())
	if !ok {
		l, _ = freeLists.LoadOrStore(reflect.TypeFor[J](), make(chan any, freeListSize))
	}
	return l.(chan any)
}

// Get returns a *J from the free list of its type, or a new one: a job that
// a Runner can point at, or a buffer, without a heap allocation per call.
// Its contents are as the last Put left them.
func Get[J any]() *J {
	select {
	case j := <-freeList[J]():
		return j.(*J)
	default:
		return new(J)
	}
}

// Put returns j to the free list of its type (dropping it when the list is
// full). The caller clears what j must not keep alive.
func Put[J any](j *J) {
	select {
	case freeList[J]() <- j:
	default:
	}
}
