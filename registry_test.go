package xent

import (
	"errors"
	"os"
	"strings"
	"testing"
)

// TestRegistryFields: every option of the registry is held by a Config
// field, and every option field of Config holds an option.
func TestRegistryFields(t *testing.T) {
	var c Config[float32]
	held := map[string]bool{}
	for _, s := range Specs() {
		for i := range s.Options {
			o := &s.Options[i]
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Errorf("%s: option %s: %v", s.Loss, o.Name, r)
					}
				}()
				f := c.field(o)
				kind := Number
				switch {
				case f.perClass != nil && o.Kind == PerPosition:
					kind = PerPosition
				case f.perClass != nil:
					kind = PerClass
				case f.integer != nil:
					kind = Integer
				case f.flag != nil:
					kind = Switch
				}
				if kind != o.Kind {
					t.Errorf("%s: option %s is %v but Config.%s holds %v", s.Loss, o.Name, o.Kind, o.field, kind)
				}
			}()
			held[o.field] = true
			if o.Flag == "" || o.Usage == "" || o.Name == "" {
				t.Errorf("%s: option %+v lacks a name, flag or usage", s.Loss, *o)
			}
		}
	}
	for _, f := range c.fields() {
		if !held[f.name] {
			t.Errorf("Config.%s holds no option of the registry", f.name)
		}
	}
}

// TestRegistryDocs: the package documentation and the README name every
// loss's function, and Losses is the registry's order.
func TestRegistryDocs(t *testing.T) {
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range Specs() {
		if Losses[i] != s.Loss {
			t.Errorf("Losses[%d] = %s, registry %s", i, Losses[i], s.Loss)
		}
		if !strings.Contains(string(doc), s.Function) {
			t.Errorf("doc.go does not name %s", s.Function)
		}
		if !strings.Contains(string(readme), "`"+s.Function+"` · `"+string(s.Loss)+"`") {
			t.Errorf("the README's loss table has no row for %s · %s", s.Function, s.Loss)
		}
	}
}

// TestSetOption: the setters take exactly the loss's options, of their kind.
func TestSetOption(t *testing.T) {
	c := Config[float64]{Loss: SoftmaxFocal}
	if err := c.SetNumber("gamma", 0.5); err != nil || *c.Gamma != 0.5 {
		t.Errorf("gamma: %v", err)
	}
	if err := c.SetInteger("ignore_index", 3); err != nil || *c.IgnoreIndex != 3 {
		t.Errorf("ignore_index: %v", err)
	}
	if err := c.SetPerClass("alpha", []float64{1, 2}); err != nil || len(c.ClassAlpha) != 2 || c.Alpha != nil {
		t.Errorf("alpha: %v", err)
	}
	for _, err := range []error{
		c.SetNumber("alpha", 0.5),           // per class here
		c.SetNumber("label_smoothing", 0.1), // not softmax-focal's
		c.SetPerClass("weight", nil),
		c.SetInteger("gamma", 1),
	} {
		if !errors.Is(err, ErrOption) {
			t.Errorf("accepted: %v", err)
		}
	}
	s := Config[float64]{Loss: SigmoidFocal}
	if err := s.SetNumber("alpha", 0.5); err != nil || *s.Alpha != 0.5 || s.ClassAlpha != nil {
		t.Errorf("sigmoid-focal alpha: %v", err)
	}
	if n := (&Config[float64]{Weight: make([]float64, 3), PosWeight: make([]float64, 5)}).Classes(); n != 5 {
		t.Errorf("Classes = %d", n)
	}
}

// TestEvaluateRefuses: an unknown loss, an option of another loss (naming
// where the loss holds an option of that name), targets of the wrong kind.
func TestEvaluateRefuses(t *testing.T) {
	x := make([]float64, 6)
	for _, c := range []struct {
		cfg     Config[float64]
		indices []int64
		targets []float64
		want    string
	}{
		{Config[float64]{Loss: "hinge"}, nil, x, `loss "hinge" is not one of softmax, softmax-prob`},
		{Config[float64]{Loss: Sigmoid, Gamma: new(1.0)}, nil, x, "gamma (Config.Gamma) does not apply to loss sigmoid"},
		{Config[float64]{Loss: SoftmaxFocal, Alpha: new(0.5)}, []int64{0, 1}, nil, "which takes alpha as Config.ClassAlpha (one value per class)"},
		{Config[float64]{Loss: Softmax}, nil, x, "takes class-index targets"},
		{Config[float64]{Loss: Sigmoid}, []int64{0, 1}, nil, "takes float targets"},
	} {
		_, err := Evaluate(c.cfg, []int{2, 3}, x, c.indices, c.targets, Output[float64]{})
		if !errors.Is(err, ErrOption) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.cfg, err, c.want)
		}
	}
}

// TestConfigCheck: Check accepts every loss's default configuration and
// refuses, without data, an option a loss does not take, a value out of
// range and per-class options of another length than classes.
func TestConfigCheck(t *testing.T) {
	for _, s := range Specs() {
		if err := (Config[float32]{Loss: s.Loss}).Check(3); err != nil {
			t.Errorf("%s: %v", s.Loss, err)
		}
	}
	for _, c := range []struct {
		cfg     Config[float64]
		classes int
		want    string
	}{
		{Config[float64]{Loss: "hinge"}, 2, `loss "hinge"`},
		{Config[float64]{Loss: Sigmoid, Gamma: new(1.0)}, 2, "gamma (Config.Gamma) does not apply"},
		{Config[float64]{Loss: SigmoidFocal, Gamma: new(-1.0)}, 2, "gamma"},
		{Config[float64]{Loss: Softmax, LabelSmoothing: 2}, 2, "label smoothing"},
		{Config[float64]{Loss: Softmax, Weight: []float64{1, 2, 3}}, 2, "weight"},
	} {
		if err := c.cfg.Check(c.classes); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v on %d classes: %v, want %q", c.cfg, c.classes, err, c.want)
		}
	}
	// classes < 1: as many as the per-class options have.
	if err := (Config[float64]{Loss: Softmax, Weight: []float64{1, 2, 3}}).Check(0); err != nil {
		t.Errorf("three weights, classes from them: %v", err)
	}
}
