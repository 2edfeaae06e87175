package data

import (
	"fmt"
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
	return multiDigit(src, from, to, n, seed, 0)
}

// multiDigit is MultiDigit drawing from random stream stream of seed.
func multiDigit(src *Set, from, to, n int, seed, stream uint64) (*MultiSet, error) {
	if src == nil || from < 0 || to > src.N || from >= to || n < 0 {
		return nil, fmt.Errorf("%w: multi-digit images from source images [%d, %d) of %d, n = %d", ErrData, from, to, setSize(src), n)
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
	if train == nil || test == nil {
		return nil, nil, nil, fmt.Errorf("%w: no source set", ErrData)
	}
	cut := train.N - train.N/ValidationShare
	if tr, err = multiDigit(train, 0, cut, nTrain, seed, 1); err != nil {
		return nil, nil, nil, err
	}
	if val, err = multiDigit(train, cut, train.N, nValidation, seed, 2); err != nil {
		return nil, nil, nil, err
	}
	if te, err = multiDigit(test, 0, test.N, nTest, seed, 3); err != nil {
		return nil, nil, nil, err
	}
	return tr, val, te, nil
}
