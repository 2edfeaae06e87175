package main

import (
	"errors"
	"fmt"
	"math"

	"github.com/xent-go/xent/data"
	"github.com/xent-go/xent/internal/memlimit"
	"github.com/xent-go/xent/internal/npy"
)

// readImageSet reads a user's images and (when labelsPath is not "")
// their labels from .npy files: images of shape (N, H, W) or (N, C, H, W),
// uint8 (divided by 255, as MNIST's pixels are) or float32/float64 (taken
// as they are, and finite), labels of shape (N,) of any integer type in
// [0, 256). Classes is the largest label + 1 (at least minClasses).
func readImageSet(imagesPath, labelsPath string, minClasses int) (*data.Set, error) {
	a, err := npy.ReadFile(imagesPath)
	if err != nil {
		return nil, err
	}
	s := &data.Set{}
	switch len(a.Shape) {
	case 3:
		s.N, s.Channels, s.Height, s.Width = a.Shape[0], 1, a.Shape[1], a.Shape[2]
	case 4:
		s.N, s.Channels, s.Height, s.Width = a.Shape[0], a.Shape[1], a.Shape[2], a.Shape[3]
	default:
		return nil, fmt.Errorf("%s: images of shape %s; want (N, H, W) or (N, C, H, W)", imagesPath, shapeString(a.Shape))
	}
	if s.Channels < 1 || s.Channels > 64 {
		return nil, fmt.Errorf("%s: %d channels; want 1 to 64 (images of shape (N, C, H, W))", imagesPath, s.Channels)
	}
	if err := memlimit.Check(memlimit.Bytes(a.Len(), 4), "the images as float32"); err != nil {
		return nil, fmt.Errorf("%s: %w", imagesPath, err)
	}
	switch {
	case a.Kind == 'u' && a.Size == 1:
		v, _ := a.Uint8s()
		s.Images = make([]float32, len(v))
		for i, p := range v {
			s.Images[i] = float32(p) / 255
		}
	case a.Dtype() == "<f4":
		s.Images, _ = a.Float32s()
	case a.Dtype() == "<f8":
		v, _ := a.Float64s()
		s.Images = convert[float32](v)
	default:
		return nil, fmt.Errorf("%s: images of dtype %s; want uint8 (|u1, pixels 0–255) or float32/float64", imagesPath, a.Dtype())
	}
	for i, v := range s.Images {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return nil, fmt.Errorf("%s: value %v at index %d; images must be finite", imagesPath, v, i)
		}
	}
	s.Classes = minClasses
	if labelsPath == "" {
		return s, nil
	}
	l, err := npy.ReadFile(labelsPath)
	if err != nil {
		return nil, err
	}
	if len(l.Shape) != 1 || l.Shape[0] != s.N {
		return nil, fmt.Errorf("%s: labels of shape %s; the %d images need (%d,)", labelsPath, shapeString(l.Shape), s.N, s.N)
	}
	v, err := l.Int64s()
	if err != nil {
		if re := (*npy.RangeError)(nil); errors.As(err, &re) {
			return nil, fmt.Errorf("%s: label %d of image %d is outside [0, 256)", labelsPath, re.Value, re.Index)
		}
		return nil, fmt.Errorf("%s: labels of dtype %s; want integers", labelsPath, l.Dtype())
	}
	s.Labels = make([]uint8, len(v))
	for i, y := range v {
		if y < 0 || y > 255 {
			return nil, fmt.Errorf("%s: label %d of image %d is outside [0, 256)", labelsPath, y, i)
		}
		s.Labels[i] = uint8(y)
		s.Classes = max(s.Classes, int(y)+1)
	}
	return s, nil
}
