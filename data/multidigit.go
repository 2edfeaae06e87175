package data

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// MultiSet is a multi-label image set: N grey images of Height×Width
// pixels in Images (as in Set), and in Targets N rows of Classes values,
// 1 for each class present in the image and 0 otherwise (multi-hot).
type MultiSet struct {
	Images        []float32
	Targets       []float32
	N             int
	Height, Width int
	Classes       int
}

// Image returns image i's pixels.
func (s *MultiSet) Image(i int) []float32 {
	size := s.Height * s.Width
	return s.Images[i*size : (i+1)*size]
}

// Count returns M, the number of classes image i holds.
func (s *MultiSet) Count(i int) int {
	m := 0
	for _, t := range s.Targets[i*s.Classes : (i+1)*s.Classes] {
		m += int(t)
	}
	return m
}

// MultiDigit builds n images of a 2×2 grid of src's images (2H×2W
// pixels): each cell holds an image with probability ½, drawn again until
// at least one cell does, so the number of digits is 1…4 with
// probabilities 4/15, 6/15, 4/15, 1/15; a filled cell's image is drawn
// uniformly from src.Image(from…to−1), an empty cell is 0. The targets are
// the set of distinct labels of the cells (two 7s make one class). The
// images depend on src, the range, n and seed alone.
func MultiDigit(src *Set, from, to, n int, seed uint64) (*MultiSet, error) {
	return multiDigit(src, from, to, n, seed, 0, nil)
}

// multiDigit is MultiDigit drawing from random stream stream of seed;
// with freq not nil, a filled cell's class is drawn first, class k with
// probability freq[k], then its image uniformly from that class's images
// in the range.
func multiDigit(src *Set, from, to, n int, seed, stream uint64, freq []float64) (*MultiSet, error) {
	if src == nil || from < 0 || to > src.N || from >= to || n < 0 {
		return nil, fmt.Errorf("%w: multi-digit images from source images [%d, %d) of %d, n = %d", ErrData, from, to, setSize(src), n)
	}
	var byClass [][]int // the images of each class in the range
	var cumulative []float64
	if freq != nil {
		if len(freq) != src.Classes {
			return nil, fmt.Errorf("%w: %d class frequencies for %d classes", ErrData, len(freq), src.Classes)
		}
		byClass = make([][]int, src.Classes)
		for k := from; k < to; k++ {
			byClass[src.Labels[k]] = append(byClass[src.Labels[k]], k)
		}
		total := 0.0
		for k, f := range freq {
			if !(f >= 0) || math.IsInf(f, 0) {
				return nil, fmt.Errorf("%w: class %d has frequency %v: want finite and ≥ 0", ErrData, k, f)
			}
			if f > 0 && len(byClass[k]) == 0 {
				return nil, fmt.Errorf("%w: class %d has frequency %v but no image in source images [%d, %d)", ErrData, k, f, from, to)
			}
			total += f
			cumulative = append(cumulative, total)
		}
		if !(total > 0) {
			return nil, fmt.Errorf("%w: the class frequencies sum to %v", ErrData, total)
		}
	}
	h, w := src.Height, src.Width
	s := &MultiSet{Images: make([]float32, n*4*h*w), Targets: make([]float32, n*src.Classes),
		N: n, Height: 2 * h, Width: 2 * w, Classes: src.Classes}
	rng := rand.New(rand.NewPCG(seed, 0x6d756c7469+stream))
	for i := range n {
		var filled [4]bool
		for filled == [4]bool{} {
			for c := range filled {
				filled[c] = rng.IntN(2) == 1
			}
		}
		img := s.Image(i)
		for c, f := range filled {
			if !f {
				continue
			}
			k := from + rng.IntN(to-from)
			if freq != nil {
				images := byClass[drawClass(rng, cumulative)]
				k = images[rng.IntN(len(images))]
			}
			s.Targets[i*s.Classes+int(src.Labels[k])] = 1
			digit := src.Image(k)
			top, left := (c/2)*h, (c%2)*w
			for y := range h {
				copy(img[(top+y)*2*w+left:][:w], digit[y*w:(y+1)*w])
			}
		}
	}
	return s, nil
}

// drawClass draws a class from cumulative frequencies (their last is the
// total): the first class whose cumulative frequency exceeds a uniform
// draw below the total.
func drawClass(rng *rand.Rand, cumulative []float64) int {
	u := rng.Float64() * cumulative[len(cumulative)-1]
	for k, c := range cumulative {
		if u < c {
			return k
		}
	}
	return len(cumulative) - 1
}

// LongTail returns the class frequencies of a geometric long tail over
// classes: class k has frequency r^k/Σ_j r^j with r = ratio^(−1/(classes−1)),
// so class 0 is the most frequent, each class is r times as frequent as
// the one before, and class 0 is ratio times as frequent as the last.
// classes ≥ 2 and ratio ≥ 1 (1 is uniform).
func LongTail(classes int, ratio float64) ([]float64, error) {
	if classes < 2 || !(ratio >= 1) || math.IsInf(ratio, 0) {
		return nil, fmt.Errorf("%w: long tail over %d classes with ratio %v: want at least 2 classes and a finite ratio ≥ 1", ErrData, classes, ratio)
	}
	r := math.Pow(ratio, -1/float64(classes-1))
	freq, total := make([]float64, classes), 0.0
	for k := range freq {
		freq[k] = math.Pow(r, float64(k))
		total += freq[k]
	}
	for k := range freq {
		freq[k] /= total
	}
	return freq, nil
}

func setSize(s *Set) int {
	if s == nil {
		return 0
	}
	return s.N
}

// ValidationShare is the share of a training split that MultiDigitSplits
// holds out: validation images are built from its last tenth, training
// images from the rest, so no source digit is in both.
const ValidationShare = 10

// MultiDigitSplits builds the training, validation and test sets of the
// multi-label experiment from MNIST's two splits: training images from
// the first nine tenths of train, validation from its last tenth, test
// images from test; each from its own random stream of seed.
func MultiDigitSplits(train, test *Set, nTrain, nValidation, nTest int, seed uint64) (tr, val, te *MultiSet, err error) {
	return MultiDigitSplitsOf(train, test, nTrain, nValidation, nTest, seed, nil)
}

// MultiDigitSplitsOf is MultiDigitSplits with the training images' digits
// drawn with class frequencies freq (see LongTail): a filled cell's digit
// is class k with probability freq[k]/Σ freq, its image drawn uniformly
// from that class's. The validation and test images are drawn as
// MultiDigitSplits draws them, from the source's own class frequencies
// (MNIST's are within 10% of uniform): a model trained on a long tail is
// measured on balanced data. freq nil is MultiDigitSplits.
func MultiDigitSplitsOf(train, test *Set, nTrain, nValidation, nTest int, seed uint64, freq []float64) (tr, val, te *MultiSet, err error) {
	if train == nil || test == nil {
		return nil, nil, nil, fmt.Errorf("%w: no source set", ErrData)
	}
	cut := train.N - train.N/ValidationShare
	if tr, err = multiDigit(train, 0, cut, nTrain, seed, 1, freq); err != nil {
		return nil, nil, nil, err
	}
	if val, err = multiDigit(train, cut, train.N, nValidation, seed, 2, nil); err != nil {
		return nil, nil, nil, err
	}
	if te, err = multiDigit(test, 0, test.N, nTest, seed, 3, nil); err != nil {
		return nil, nil, nil, err
	}
	return tr, val, te, nil
}
