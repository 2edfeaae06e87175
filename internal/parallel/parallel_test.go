package parallel

import (
	"math"
	"runtime"
	"sync"
	"testing"
)

// sines sums sin over blocks of a range, with terms of mixed magnitude so
// that the order of addition shows in the last bits.
type sines struct{ size int }

func (s *sines) Block(b int) float64 {
	t := 0.0
	for i := b * s.size; i < (b+1)*s.size; i++ {
		t += math.Sin(float64(i)) * math.Pow(10, float64(i%17-8))
	}
	return t
}

func TestSumIsTheSameForAnyWorkers(t *testing.T) {
	r := &sines{size: 100}
	want := 0.0
	for b := range 97 {
		want += r.Block(b)
	}
	for _, workers := range []int{0, 1, 2, 3, 8, 64, 300} {
		for range 5 {
			if got := Sum(r, 97, workers); got != want {
				t.Fatalf("workers %d: %v, want %v (bit for bit)", workers, got, want)
			}
		}
	}
	if got := Sum(r, 0, 4); got != 0 {
		t.Errorf("no block: %v", got)
	}
}

// TestSumConcurrentCallers runs Sum from many goroutines at once (go test
// -race checks the sharing).
func TestSumConcurrentCallers(t *testing.T) {
	r := &sines{size: 50}
	want := Sum(r, 40, 1)
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 20 {
				if got := Sum(r, 40, 4); got != want {
					t.Errorf("%v, want %v", got, want)
					return
				}
			}
		}()
	}
	wg.Wait()
}

type job struct {
	a []int
	n int
}

func TestGetPut(t *testing.T) {
	j := Get[job]()
	j.a, j.n = []int{1}, 3
	Put(j)
	if k := Get[job](); k != j {
		t.Errorf("Get after Put gave a new object")
	} else {
		Put(k)
	}
	for range 2 * freeListSize { // more than the list keeps: no block
		Put(new(job))
	}
	if a := testing.AllocsPerRun(100, func() { Put(Get[job]()) }); a != 0 {
		t.Errorf("Get/Put: %v allocations", a)
	}
	r := &sines{size: 10}
	Sum(r, 8, 2)
	if a := testing.AllocsPerRun(100, func() { Sum(r, 8, 2) }); a != 0 {
		t.Errorf("Sum with 2 workers: %v allocations", a)
	}
	runtime.GC() // a sync.Pool would be empty now
	if a := testing.AllocsPerRun(100, func() { Sum(r, 8, 2) }); a != 0 {
		t.Errorf("Sum with 2 workers after a GC: %v allocations", a)
	}
}
