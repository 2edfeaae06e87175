package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"

	"github.com/xent-go/xent"
	"github.com/xent-go/xent/internal/memlimit"
	"github.com/xent-go/xent/internal/npy"
	"github.com/xent-go/xent/internal/outfile"
)

const evalSynopsis = `--loss NAME --logits X.npy --targets T.npy [flags]

Computes the loss of logits X (N, C, d1…dk; <f4 or <f8, which sets the
precision) against targets T: class indices (N, d1…dk) of any integer type
for softmax and softmax-focal, floats of the logits' dtype and shape for the
others. Prints the reduced value (and the per-position losses for
--reduction none); writes the loss and the gradient of the printed value
with respect to X as .npy files on request.`

type evalFlags struct {
	lossFlags
	logits, targets, gradOutput string
	outLoss, outGrad            string
	json                        bool

	files                *outfile.Set
	writeLoss, writeGrad func(io.Writer) error // the outputs' content, once computed
}

func runEval(stdout, stderr io.Writer, args []string) error {
	fs := newFlagSet("eval", evalSynopsis)
	f := evalFlags{files: &outfile.Set{}}
	f.register(fs)
	fs.StringVar(&f.logits, "logits", "", "the logits `X.npy` (required)")
	fs.StringVar(&f.targets, "targets", "", "the targets `T.npy` (required)")
	fs.StringVar(&f.gradOutput, "grad-output", "", "the upstream gradient `G.npy` for --reduction none, the losses' shape")
	fs.StringVar(&f.outLoss, "out-loss", "", "write the loss to `L.npy`: 0-d, or the per-position losses for none")
	fs.StringVar(&f.outGrad, "out-grad", "", "write the gradient to `D.npy`, the logits' shape")
	fs.BoolVar(&f.json, "json", false, "print one JSON object instead of text")
	if err := parseFlags(fs, stdout, args); err != nil {
		return err
	}
	ch, err := f.choose(fs)
	if err != nil {
		return err
	}
	if f.logits == "" || f.targets == "" {
		return usagef("eval: --logits and --targets are required")
	}
	if f.gradOutput != "" && ch.reduction != xent.None {
		return usagef("--grad-output needs --reduction none")
	}
	// The outputs are checked against the inputs and each other before
	// anything is read, and written only when everything succeeded.
	for _, in := range append([]string{f.logits, f.targets, f.gradOutput}, f.perClassFiles()...) {
		if in != "" {
			f.files.Input(in)
		}
	}
	for _, o := range []struct {
		flag, path string
		write      *func(io.Writer) error
	}{{"--out-loss", f.outLoss, &f.writeLoss}, {"--out-grad", f.outGrad, &f.writeGrad}} {
		if o.path == "" {
			continue
		}
		if err := f.files.Add(o.flag, o.path, func(w io.Writer) error { return (*o.write)(w) }); err != nil {
			return usagef("eval: %v", err)
		}
	}
	x, err := npy.ReadFile(f.logits)
	if err != nil {
		return err
	}
	if len(x.Shape) < 2 {
		return fmt.Errorf("%s: logits of shape %s; want (N, C, d1…dk)", f.logits, shapeString(x.Shape))
	}
	switch x.Dtype() {
	case "<f4":
		logits, _ := x.Float32s()
		return evalIn(stdout, &f, ch, x.Shape, logits)
	case "<f8":
		logits, _ := x.Float64s()
		return evalIn(stdout, &f, ch, x.Shape, logits)
	}
	return fmt.Errorf("%s: logits of dtype %s; xent eval takes float32 (<f4) or float64 (<f8)", f.logits, x.Dtype())
}

// evalIn runs eval in the logits' precision T.
func evalIn[T xent.Float](stdout io.Writer, f *evalFlags, ch choice, shape []int, logits []T) error {
	loss := ch.loss
	classes := shape[1]
	positionsShape := slices.Delete(slices.Clone(shape), 1, 2)
	lossShape := positionsShape
	if loss.PerElement() {
		lossShape = shape
	}
	nLosses := elementsOf(lossShape)
	var zero T
	need := memlimit.Bytes(nLosses, int(sizeOf(zero)))
	if f.outGrad != "" {
		need = memlimit.Add(need, memlimit.Bytes(len(logits), int(sizeOf(zero))))
	}
	spec, _ := loss.Spec()
	need = memlimit.Add(need, memlimit.Bytes(len(spec.Options)*classes, 8+int(sizeOf(zero))))  // per-class options
	need = memlimit.Add(need, memlimit.Bytes(elementsOf(positionsShape), 8+int(sizeOf(zero)))) // sample weights
	if err := memlimit.Check(need, fmt.Sprintf("eval of logits of shape %s", shapeString(shape))); err != nil {
		return err
	}
	cfg, err := configOf[T](&f.lossFlags, ch, shape, nil)
	if err != nil {
		return err
	}

	var indices []int64
	var targets []T
	t, err := npy.ReadFile(f.targets)
	if err != nil {
		return err
	}
	if loss.IndexTargets() {
		if !slices.Equal(t.Shape, positionsShape) {
			return fmt.Errorf("%s: targets of shape %s; logits %s need class indices of shape %s", f.targets, shapeString(t.Shape), shapeString(shape), shapeString(positionsShape))
		}
		if indices, err = t.Int64s(); err != nil {
			if re := (*npy.RangeError)(nil); errors.As(err, &re) {
				return fmt.Errorf("%s: %w", f.targets, &xent.Error{Kind: xent.ErrTarget,
					Msg: fmt.Sprintf("target %d at position %d is outside [0, %d)", re.Value, re.Index, classes)})
			}
			if t.Kind != 'i' && t.Kind != 'u' {
				return fmt.Errorf("%s: targets of dtype %s; %s takes integer class indices (<i8 or <i4)", f.targets, t.Dtype(), loss)
			}
			return fmt.Errorf("%s: %w", f.targets, err)
		}
	} else {
		if !slices.Equal(t.Shape, shape) {
			return fmt.Errorf("%s: targets of shape %s; %s takes targets of the logits' shape %s", f.targets, shapeString(t.Shape), loss, shapeString(shape))
		}
		if targets, err = readFloats[T](t); err != nil {
			return fmt.Errorf("%s: targets of dtype %s; %s takes targets of the logits' dtype %s", f.targets, t.Dtype(), loss, dtypeOf[T]())
		}
	}
	if f.gradOutput != "" {
		g, err := npy.ReadFile(f.gradOutput)
		if err != nil {
			return err
		}
		if !slices.Equal(g.Shape, lossShape) {
			return fmt.Errorf("%s: upstream gradient of shape %s; %s's losses have shape %s", f.gradOutput, shapeString(g.Shape), loss, shapeString(lossShape))
		}
		if cfg.GradOutput, err = readAnyFloats[T](g, f.gradOutput); err != nil {
			return err
		}
	}

	out := xent.Output[T]{Losses: make([]T, nLosses)}
	if f.outGrad != "" {
		out.Grad = make([]T, len(logits))
	}
	value, err := xent.Evaluate(cfg, shape, logits, indices, targets, out)
	if err != nil {
		return err
	}
	f.writeLoss = npy.Writer([]int{}, []T{value})
	if cfg.Reduction == xent.None {
		f.writeLoss = npy.Writer(lossShape, out.Losses)
	}
	f.writeGrad = npy.Writer(shape, out.Grad)
	// The report goes to stdout after the files are staged and before they
	// are renamed: a failure of either leaves the files as they were.
	var report bytes.Buffer
	if err := printEval(&report, f, cfg, loss, shape, value, out.Losses); err != nil {
		return err
	}
	return f.files.Commit(func() error { return writeStdout(stdout, report.Bytes()) })
}

// printEval writes eval's report, text or JSON.
func printEval[T xent.Float](w io.Writer, f *evalFlags, cfg xent.Config[T], loss xent.Loss, shape []int, value T, losses []T) error {
	if f.json {
		report := evalReport{
			Loss: string(loss), Reduction: cfg.Reduction.String(), Dtype: dtypeOf[T](),
			Shape: shape, Value: jsonFloat(value), OutLoss: f.outLoss, OutGrad: f.outGrad,
		}
		if cfg.Reduction == xent.None {
			report.Losses = make([]jsonFloat, len(losses))
			for i, l := range losses {
				report.Losses[i] = jsonFloat(l)
			}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(report)
	}
	return printEvalText(w, cfg.Reduction, loss, shape, value, losses, f)
}

func printEvalText[T xent.Float](w io.Writer, red xent.Reduction, loss xent.Loss, shape []int, value T, losses []T, f *evalFlags) error {
	what := "loss"
	if red == xent.None {
		what = "Σ g·l"
		if f.gradOutput == "" {
			what = "Σ l"
		}
	}
	fmt.Fprintf(w, "%s %s, %s logits %s: %s = %s\n", loss, red, dtypeOf[T](), shapeString(shape), what, formatFloat(value))
	if red == xent.None {
		const show = 20
		for i, l := range losses[:min(len(losses), show)] {
			fmt.Fprintf(w, "  l[%d] = %s\n", i, formatFloat(l))
		}
		if len(losses) > show {
			fmt.Fprintf(w, "  … %d more (--out-loss writes them all)\n", len(losses)-show)
		}
	}
	if f.outLoss != "" {
		fmt.Fprintf(w, "loss written to %s\n", f.outLoss)
	}
	if f.outGrad != "" {
		fmt.Fprintf(w, "gradient written to %s\n", f.outGrad)
	}
	return nil
}

type evalReport struct {
	Loss      string      `json:"loss"`
	Reduction string      `json:"reduction"`
	Dtype     string      `json:"dtype"`
	Shape     []int       `json:"shape"`
	Value     jsonFloat   `json:"value"`
	Losses    []jsonFloat `json:"losses,omitempty"`
	OutLoss   string      `json:"out_loss,omitempty"`
	OutGrad   string      `json:"out_grad,omitempty"`
}

// jsonFloat is a float64 that marshals NaN and ±Inf as the strings "NaN",
// "Infinity" and "-Infinity", which JSON numbers cannot hold.
type jsonFloat float64

func (v jsonFloat) MarshalJSON() ([]byte, error) {
	f := float64(v)
	switch {
	case math.IsNaN(f):
		return []byte(`"NaN"`), nil
	case math.IsInf(f, 1):
		return []byte(`"Infinity"`), nil
	case math.IsInf(f, -1):
		return []byte(`"-Infinity"`), nil
	}
	return json.Marshal(f)
}

// formatFloat prints the shortest decimal that reads back as the same T.
func formatFloat[T xent.Float](v T) string {
	bits := 64
	if _, ok := any(v).(float32); ok {
		bits = 32
	}
	return strconv.FormatFloat(float64(v), 'g', -1, bits)
}

func dtypeOf[T xent.Float]() string {
	var zero T
	if _, ok := any(zero).(float32); ok {
		return "float32"
	}
	return "float64"
}

// readFloats returns a float array of exactly T's dtype.
func readFloats[T xent.Float](a *npy.Array) ([]T, error) {
	var zero T
	switch any(zero).(type) {
	case float32:
		v, err := a.Float32s()
		return any(v).([]T), err
	default:
		v, err := a.Float64s()
		return any(v).([]T), err
	}
}

// readAnyFloats returns a float32 or float64 array converted to T.
func readAnyFloats[T xent.Float](a *npy.Array, path string) ([]T, error) {
	switch a.Dtype() {
	case "<f4":
		v, _ := a.Float32s()
		return convert[T](v), nil
	case "<f8":
		v, _ := a.Float64s()
		return convert[T](v), nil
	}
	return nil, fmt.Errorf("%s: dtype %s; want float32 (<f4) or float64 (<f8)", path, a.Dtype())
}
