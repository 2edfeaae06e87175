package main

import (
	"errors"
	"flag"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"

	"github.com/xent-go/xent"
	"github.com/xent-go/xent/internal/gradcheck"
	"github.com/xent-go/xent/internal/npy"
)

// lossFlags are the flags that choose a loss and its options, shared by
// eval and gradcheck: --loss, --reduction, and one flag for each option of
// the registry (xent.Specs), named by its Option.Flag: a number, an
// integer, or a per-class .npy file (with, where the option has one, a
// flag that gives every class one number).
type lossFlags struct {
	loss      string
	reduction string
	numbers   map[string]*optionalFloat // number and integer options, and broadcasts, by flag
	switches  map[string]*bool          // switch options, by flag
	fileFlags map[string]*string        // per-class and per-position options, by flag
}

func (f *lossFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.loss, "loss", "", fmt.Sprintf("the loss: %s (required)", lossNames()))
	fs.StringVar(&f.reduction, "reduction", "mean", "the reduction: mean, sum, none or batchmean")
	f.numbers, f.switches, f.fileFlags = map[string]*optionalFloat{}, map[string]*bool{}, map[string]*string{}
	for _, u := range optionFlags() {
		switch {
		case u.file():
			f.fileFlags[u.flag] = fs.String(u.flag, "", u.usage)
		case u.kind == xent.Switch:
			f.switches[u.flag] = fs.Bool(u.flag, false, u.usage)
		default:
			f.numbers[u.flag] = new(optionalFloat)
			fs.Var(f.numbers[u.flag], u.flag, u.usage)
		}
	}
}

// lossNames lists the registry's losses: "a, b or c".
func lossNames() string {
	names := make([]string, len(xent.Losses))
	for i, l := range xent.Losses {
		names[i] = string(l)
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// optionFlag is one flag of the registry's options, with its help.
type optionFlag struct {
	flag, usage string
	kind        xent.OptionKind
}

// file reports whether the flag names a .npy file: a per-class or
// per-position option.
func (u optionFlag) file() bool { return u.kind == xent.PerClass || u.kind == xent.PerPosition }

// optionFlags returns the flags of every loss's options in the registry's
// order, each once; its help joins what each use of it means, with the
// losses that take it.
func optionFlags() []optionFlag {
	var flags []optionFlag
	uses := map[string][]string{}   // flag → usage texts, in order
	losses := map[string][]string{} // flag + usage → losses
	add := func(flag, usage string, kind xent.OptionKind, loss xent.Loss) {
		if _, seen := uses[flag]; !seen {
			flags = append(flags, optionFlag{flag: flag, kind: kind})
		}
		if !slices.Contains(uses[flag], usage) {
			uses[flag] = append(uses[flag], usage)
		}
		losses[flag+"\x00"+usage] = append(losses[flag+"\x00"+usage], string(loss))
	}
	for _, s := range xent.Specs() {
		for _, o := range s.Options {
			switch o.Kind {
			case xent.PerClass:
				add(o.Flag, fmt.Sprintf("%s: `%s.npy`, shape (C,)", o.Usage, strings.ToUpper(o.Flag[:1])), o.Kind, s.Loss)
				if o.Broadcast != "" {
					add(o.Broadcast, "the same "+o.Name+" for every class", xent.Number, s.Loss)
				}
			case xent.PerPosition:
				add(o.Flag, fmt.Sprintf("%s: `%s.npy`, shape (N, d1…dk)", o.Usage, strings.ToUpper(o.Flag[:1])), o.Kind, s.Loss)
			default:
				add(o.Flag, o.Usage, o.Kind, s.Loss)
			}
		}
	}
	for i := range flags {
		var parts []string
		for _, u := range uses[flags[i].flag] {
			who := losses[flags[i].flag+"\x00"+u]
			names := strings.Join(who, ", ")
			if len(who) == len(xent.Losses) {
				names = "every loss"
			}
			parts = append(parts, fmt.Sprintf("%s (%s)", u, names))
		}
		flags[i].usage = strings.Join(parts, "; ")
	}
	return flags
}

// choice is a loss, its reduction and the number and integer options the
// flags gave, checked against the loss.
type choice struct {
	loss      xent.Loss
	reduction xent.Reduction
	settings  []setting
}

// setting is one number or integer option.
type setting struct {
	name string
	kind xent.OptionKind
	v    float64
}

// choose checks the flags given against the loss: each option flag must
// be one of the loss's, an option given once, an integer whole.
func (f *lossFlags) choose(fs *flag.FlagSet) (choice, error) {
	if f.loss == "" {
		return choice{}, usagef("%s: --loss is required", fs.Name()[len("xent "):])
	}
	loss, err := xent.ParseLoss(f.loss)
	if err != nil {
		return choice{}, err
	}
	red, err := xent.ParseReduction(f.reduction)
	if err != nil {
		return choice{}, err
	}
	ch := choice{loss: loss, reduction: red}
	given := map[string]string{} // option name → the flag that gave it
	for _, flagName := range slices.Sorted(maps.Keys(setFlags(fs))) {
		o, broadcast, known := optionOfFlag(loss, flagName)
		if !known {
			continue // not an option flag
		}
		if o == nil {
			return choice{}, usagef("--%s does not apply to loss %s", flagName, loss)
		}
		if other, ok := given[o.Name]; ok {
			return choice{}, usagef("give --%s or --%s, not both", other, flagName)
		}
		given[o.Name] = flagName
		if o.Kind == xent.PerClass || o.Kind == xent.PerPosition || broadcast {
			continue // configOf reads it, knowing the shape
		}
		if o.Kind == xent.Switch {
			v := 0.0
			if *f.switches[flagName] {
				v = 1
			}
			ch.settings = append(ch.settings, setting{o.Name, o.Kind, v})
			continue
		}
		v := f.numbers[flagName].v
		if o.Kind == xent.Integer && v != math.Trunc(v) {
			return choice{}, usagef("--%s %v: want a whole number", flagName, v)
		}
		ch.settings = append(ch.settings, setting{o.Name, o.Kind, v})
	}
	return ch, nil
}

// configOf returns the Config in T of the choice for logits of the given
// shape, with its per-class and per-position options: each from its .npy
// file, of shape (C,) or (N, d1…dk), or for a per-class one every class set
// to the number its broadcast flag gave; with rng not nil (gradcheck), the
// file name "random" draws the values instead.
func configOf[T xent.Float](f *lossFlags, ch choice, shape []int, rng *rand.Rand) (xent.Config[T], error) {
	cfg := xent.Config[T]{Loss: ch.loss, Reduction: ch.reduction}
	for _, st := range ch.settings {
		var err error
		switch st.kind {
		case xent.Integer:
			err = cfg.SetInteger(st.name, int(st.v))
		case xent.Switch:
			err = cfg.SetSwitch(st.name, st.v != 0)
		default:
			err = cfg.SetNumber(st.name, st.v)
		}
		if err != nil {
			return cfg, err
		}
	}
	classes, positions := shape[1], slices.Delete(slices.Clone(shape), 1, 2)
	s, _ := ch.loss.Spec()
	for _, o := range s.Options {
		want, what := []int{classes}, "one per class"
		switch o.Kind {
		case xent.PerPosition:
			want, what = positions, "one per position"
		case xent.PerClass:
		default:
			continue
		}
		var v []T
		switch path := *f.fileFlags[o.Flag]; {
		case path == "random" && rng != nil:
			v = convert[T](gradcheck.PositiveWeights(rng, elementsOf(want)))
		case path != "":
			a, err := npy.ReadFile(path)
			if err != nil {
				return cfg, err
			}
			if !slices.Equal(a.Shape, want) {
				return cfg, fmt.Errorf("%s: %s of shape %s; want %s, %s", path, o.Name, shapeString(a.Shape), what, shapeString(want))
			}
			if v, err = readAnyFloats[T](a, path); err != nil {
				return cfg, err
			}
		case o.Broadcast != "" && f.numbers[o.Broadcast].set:
			v = make([]T, classes)
			for i := range v {
				v[i] = T(f.numbers[o.Broadcast].v)
			}
		default:
			continue
		}
		if err := cfg.SetPerClass(o.Name, v); err != nil {
			return cfg, err
		}
	}
	return cfg, nil
}

// optionOfFlag returns the loss's option that the flag sets (nil when the
// loss takes none), whether the flag is that option's broadcast number,
// and whether the flag is an option flag at all.
func optionOfFlag(loss xent.Loss, flagName string) (o *xent.Option, broadcast, known bool) {
	for _, s := range xent.Specs() {
		for i := range s.Options {
			opt := &s.Options[i]
			if opt.Flag != flagName && opt.Broadcast != flagName {
				continue
			}
			known = true
			if s.Loss == loss {
				return opt, opt.Broadcast == flagName, true
			}
		}
	}
	return nil, false, known
}

// perClassFiles returns the per-class and per-position files given, for the
// output checks.
func (f *lossFlags) perClassFiles() []string {
	var paths []string
	for _, path := range f.fileFlags {
		if *path != "" {
			paths = append(paths, *path)
		}
	}
	return paths
}

// optionalFloat is a number flag with no default of its own: an option's
// default is the library's (nil or zero in Config), which the usage states
// in words, and a flag that was not given leaves it.
type optionalFloat struct {
	v   float64
	set bool
}

func (o *optionalFloat) String() string {
	if o == nil || !o.set {
		return ""
	}
	return strconv.FormatFloat(o.v, 'g', -1, 64)
}

func (o *optionalFloat) Set(s string) error {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return errors.New("not a number")
	}
	o.v, o.set = v, true
	return nil
}

func convert[T xent.Float, F xent.Float](v []F) []T {
	if v == nil {
		return nil
	}
	out := make([]T, len(v))
	for i, x := range v {
		out[i] = T(x)
	}
	return out
}

// shapeString formats a shape as NumPy does: (2, 3), (4,), ().
func shapeString(shape []int) string {
	s := "("
	for i, d := range shape {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprint(d)
	}
	if len(shape) == 1 {
		s += ","
	}
	return s + ")"
}
