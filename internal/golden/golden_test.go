package golden

import (
	"encoding/json"
	"math"
	"testing"
)

func TestCompareTolerances(t *testing.T) {
	for _, c := range []struct {
		got, want []float64
		dtype     string
		ok        bool
	}{
		{[]float64{1 + 0.9e-9}, []float64{1}, "float64", true},
		{[]float64{1 + 1.2e-9}, []float64{1}, "float64", false},
		{[]float64{1e-13}, []float64{0}, "float64", true},           // absolute 1e-12·max(1, max|want|)
		{[]float64{1e-11}, []float64{0}, "float64", false},          //
		{[]float64{1e-11, 100}, []float64{0, 100}, "float64", true}, // the scale is max|want| = 100
		{[]float64{1.00019}, []float64{1}, "float32", true},
		{[]float64{1.00025}, []float64{1}, "float32", false},
		{[]float64{3e-6}, []float64{0}, "float32", false},
		{[]float64{math.NaN()}, []float64{1}, "float64", false},
		{[]float64{math.Inf(1)}, []float64{1}, "float32", false},
		{[]float64{1, 2}, []float64{1}, "float64", false},
	} {
		err := Compare("v", c.got, c.want, c.dtype)
		if (err == nil) != c.ok {
			t.Errorf("Compare(%v, %v, %s) = %v, want ok=%v", c.got, c.want, c.dtype, err, c.ok)
		}
	}
}

func TestValuesJSON(t *testing.T) {
	var v Values
	if err := json.Unmarshal([]byte("0.5"), &v); err != nil || !v.Scalar || len(v.List) != 1 || v.List[0] != 0.5 {
		t.Errorf("number: %+v, %v", v, err)
	}
	if err := json.Unmarshal([]byte("[1, 2]"), &v); err != nil || v.Scalar || len(v.List) != 2 {
		t.Errorf("list: %+v, %v", v, err)
	}
	if err := json.Unmarshal([]byte(`"x"`), &v); err == nil {
		t.Error("a string was accepted")
	}
	for in, want := range map[string]string{"0.5": "0.5", "[1,2]": "[1,2]"} {
		var v Values
		if err := json.Unmarshal([]byte(in), &v); err != nil {
			t.Fatal(err)
		}
		if b, err := json.Marshal(v); err != nil || string(b) != want {
			t.Errorf("round trip of %s: %s, %v", in, b, err)
		}
	}
}

func TestLoadAndConfig(t *testing.T) {
	if _, err := Load(t.TempDir()); err == nil {
		t.Error("an empty directory loaded")
	}
	cases, err := Load("../../testdata/golden")
	if err != nil || len(cases) < 800 {
		t.Fatalf("%d cases, %v", len(cases), err)
	}
	for _, c := range cases {
		if a, ok := c.Options.Values["alpha"]; ok && !a.Scalar {
			cfg, err := Config[float32](&c)
			if err != nil || len(cfg.ClassAlpha) != c.Shape[1] || cfg.Alpha != nil {
				t.Fatalf("%s: %+v, %v", c.Name, cfg, err)
			}
			return
		}
	}
	t.Error("no case with a per-class alpha")
}
