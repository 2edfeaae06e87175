// Package outfile writes a command's output files all or none.
//
// A Set collects the files a command reads (Input) and the files it will
// write (Add, with a function that writes the content). Add refuses an
// output that is one of the inputs or another output (except a character
// device such as /dev/null, which two outputs may share), compared by file
// identity (device and inode, through symbolic links and other spellings
// of the path), and an output that is a directory. Commit then writes
// every regular output to a temporary file in its own directory, flushes
// and syncs it, and only when all of them were written renames them over
// their paths; an output that exists and is not a regular file (a device
// such as /dev/null, a FIFO) is written through in place after the
// temporary files succeeded and before the renames, never replaced. On
// any failure the temporary files are removed and the error names the
// output's own path, so that a failed command leaves every output as it
// was, except a device or FIFO already written to, or, when a rename
// itself fails, the outputs renamed before it.
//
// New files get mode 0644 (less the umask the kernel applies to Chmod's
// caller: none); a replaced regular file keeps its mode.
package outfile

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// ErrSameFile is wrapped by Add's error for an output that is an input or
// another output.
var ErrSameFile = errors.New("output names the same file as")

// Set is a group of outputs written together, and the inputs they must not
// overwrite. The zero value is ready to use.
type Set struct {
	inputs  []file
	outputs []*output
}

type file struct {
	path string
	info fs.FileInfo // nil: does not exist (yet)
	dir  fs.FileInfo // the parent directory, for files that do not exist
	base string
}

type output struct {
	file
	role    string
	write   func(io.Writer) error
	through bool   // an existing non-regular file: written in place
	target  string // the path renamed over: path with its links resolved
	tmp     string
}

// stat describes path: the file, or its parent directory and name when the
// file does not exist.
func stat(path string) (file, error) {
	f := file{path: path}
	info, err := os.Stat(path)
	if err == nil {
		f.info = info
		return f, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return f, err
	}
	f.base = filepath.Base(path)
	if f.dir, err = os.Stat(filepath.Dir(path)); err != nil {
		return f, fmt.Errorf("%s: the directory %s: %w", path, filepath.Dir(path), errors.Unwrap(err))
	}
	return f, nil
}

func (f file) same(g file) bool {
	if f.info != nil && g.info != nil {
		return os.SameFile(f.info, g.info)
	}
	if f.info == nil && g.info == nil {
		return f.base == g.base && os.SameFile(f.dir, g.dir)
	}
	return false
}

// Input records a file the command reads, which no output may be. A path
// that does not exist is no file and is ignored (reading it fails later).
func (s *Set) Input(path string) {
	if f, err := stat(path); err == nil && f.info != nil {
		s.inputs = append(s.inputs, f)
	}
}

// Add records an output: role says what it is in messages ("--out-grad"),
// write produces its whole content. It fails, writing nothing, for an
// empty path, a directory, a path whose directory does not exist, and a
// file that is an input or an earlier output (ErrSameFile).
func (s *Set) Add(role, path string, write func(io.Writer) error) error {
	if path == "" {
		return fmt.Errorf("%s: empty file name", role)
	}
	f, err := stat(path)
	if err != nil {
		return fmt.Errorf("%s: %w", role, err)
	}
	o := &output{file: f, role: role, write: write, target: path}
	if f.info != nil {
		switch {
		case f.info.IsDir():
			return fmt.Errorf("%s %s is a directory", role, path)
		case !f.info.Mode().IsRegular():
			o.through = true
		default:
			if o.target, err = filepath.EvalSymlinks(path); err != nil {
				return fmt.Errorf("%s: %w", role, err)
			}
		}
	}
	for _, in := range s.inputs {
		if !o.through && f.same(in) {
			return fmt.Errorf("%s %s: %w the input %s", role, path, ErrSameFile, in.path)
		}
	}
	for _, other := range s.outputs {
		if f.same(other.file) && !(o.through && other.through && f.info.Mode()&fs.ModeCharDevice != 0) {
			return fmt.Errorf("%s %s: %w %s %s", role, path, ErrSameFile, other.role, other.path)
		}
	}
	s.outputs = append(s.outputs, o)
	return nil
}

// Commit writes the outputs as the package doc describes. before, when
// not nil, runs after every output is staged and before any is renamed or
// written through: a command prints its report there, so that a failed
// standard output also leaves the files untouched.
func (s *Set) Commit(before func() error) (err error) {
	defer func() {
		if err != nil {
			for _, o := range s.outputs {
				if o.tmp != "" {
					os.Remove(o.tmp)
					o.tmp = ""
				}
			}
		}
	}()
	for _, o := range s.outputs {
		if !o.through {
			if err := o.stage(); err != nil {
				return fmt.Errorf("writing %s: %w", o.path, err)
			}
		}
	}
	if before != nil {
		if err := before(); err != nil {
			return err
		}
	}
	for _, o := range s.outputs {
		if o.through {
			if err := o.writeThrough(); err != nil {
				return fmt.Errorf("writing %s: %w", o.path, err)
			}
		}
	}
	for _, o := range s.outputs {
		if o.tmp == "" {
			continue
		}
		if err := os.Rename(o.tmp, o.target); err != nil {
			return fmt.Errorf("writing %s: %w", o.path, unwrapPath(err))
		}
		o.tmp = ""
	}
	return nil
}

// stage writes o's content to a synced temporary file beside its target.
func (o *output) stage() error {
	tmp, err := os.CreateTemp(filepath.Dir(o.target), "."+filepath.Base(o.target)+".*.tmp")
	if err != nil {
		return unwrapPath(err)
	}
	o.tmp = tmp.Name()
	mode := fs.FileMode(0o644)
	if o.info != nil {
		mode = o.info.Mode().Perm()
	}
	err = tmp.Chmod(mode)
	if err == nil {
		err = writeAll(tmp, o.write)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	return unwrapPath(err)
}

// writeThrough writes o's content into the existing non-regular file.
func (o *output) writeThrough() error {
	f, err := os.OpenFile(o.path, os.O_WRONLY, 0)
	if err != nil {
		return unwrapPath(err)
	}
	err = writeAll(f, o.write)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return unwrapPath(err)
}

func writeAll(w io.Writer, write func(io.Writer) error) error {
	b := bufio.NewWriterSize(w, 1<<20)
	if err := write(b); err != nil {
		return err
	}
	return b.Flush()
}

// unwrapPath drops the temporary file's name from an *fs.PathError, so
// that messages name the output, not ".D.npy.123.tmp".
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err
	}
	return err
}

// AddFiles adds the files of dir named by names, each with its content
// from files (the role in messages is the name), in that order.
func (s *Set) AddFiles(dir string, names []string, files map[string][]byte) error {
	for _, name := range names {
		if err := s.Add(name, filepath.Join(dir, name), Bytes(files[name])); err != nil {
			return err
		}
	}
	return nil
}

// WriteFile writes one file all or nothing: Add and Commit of a Set of
// one output.
func WriteFile(path string, write func(io.Writer) error) error {
	var s Set
	if err := s.Add("output", path, write); err != nil {
		return err
	}
	return s.Commit(nil)
}

// Bytes returns a write function for fixed content.
func Bytes(b []byte) func(io.Writer) error {
	return func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	}
}
