package experiment

import (
	"encoding/json"
	"math"
)

// JSON has no NaN or infinity: the measures that have no value (a class
// with no positive test image, an interval of one seed, the threshold
// +Inf of a validation split with no positive) are written as null.

func nullable(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

func nullables(v []float64) []*float64 {
	out := make([]*float64, len(v))
	for i, x := range v {
		out[i] = nullable(x)
	}
	return out
}

// MarshalJSON writes the bounds of one seed's interval (NaN) as null.
func (d Difference) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Mean *float64 `json:"mean"`
		Low  *float64 `json:"low"`
		High *float64 `json:"high"`
	}{nullable(d.Mean), nullable(d.Low), nullable(d.High)})
}

// MarshalJSON writes the NaN of no values as null.
func (s Summary) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Mean *float64 `json:"mean"`
		SD   *float64 `json:"sd"`
	}{nullable(s.Mean), nullable(s.SD)})
}

// MarshalJSON writes the measures that have no value as null (ByM's are
// multilabel.CountMetrics', which write their own).
func (t Trial) MarshalJSON() ([]byte, error) {
	type plain Trial
	return json.Marshal(struct {
		plain
		MAP          *float64   `json:"map"`
		MicroF1      *float64   `json:"micro_f1"`
		Threshold    *float64   `json:"threshold"`
		PrecisionAtM *float64   `json:"precision_at_m"`
		ExactSet     *float64   `json:"exact_set_accuracy"`
		ClassAP      []*float64 `json:"class_ap"`
	}{plain(t), nullable(t.MAP), nullable(t.MicroF1), nullable(t.Threshold), nullable(t.PrecisionAtM), nullable(t.ExactSet), nullables(t.ClassAP)})
}
