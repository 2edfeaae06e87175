package npy

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
)

// The header of a .npy file is the repr of a Python dict, which numpy
// reads with ast.literal_eval and then requires to have exactly the keys
// 'descr', 'fortran_order' and 'shape'. parseHeader reads it the same way,
// as a Python literal and not by searching text, with these rules:
//
//   - the dict is the whole header: whitespace may follow its '}' (numpy
//     pads with spaces and ends with a newline), nothing else may;
//   - keys are string literals ('…' or "…", no escapes), each of the three
//     exactly once (numpy would let a repeated key's last value win; a
//     file that repeats one is refused here, since it is not one numpy
//     wrote);
//   - descr is a string: '<f4', '|u1', …; a list (a structured dtype) is
//     refused;
//   - fortran_order is True or False, and must be False;
//   - shape is a tuple of non-negative integers — (), (3,), (2, 3) or
//     (2, 3,) — whose integers are Python literals: decimal (with _
//     between digits), 0x, 0o or 0b, and the trailing L of files Python 2
//     wrote, which numpy also accepts. (3) is the integer 3, not a tuple,
//     and is refused as numpy refuses it; so are True and False, which
//     numpy would take as 1 and 0.
func parseHeader(h string) (*Array, error) {
	p := &literal{s: h}
	entries, err := p.dict()
	if err != nil {
		return nil, err
	}
	p.space()
	if p.i != len(p.s) {
		return nil, p.errorf("text after the dictionary")
	}
	a := &Array{order: binary.LittleEndian}
	descr, ok := entries["descr"]
	if !ok {
		return nil, fmt.Errorf("%w: header %q lacks the key 'descr'", ErrFormat, h)
	}
	if err := a.setDescr(descr); err != nil {
		return nil, err
	}
	fortran, ok := entries["fortran_order"]
	if !ok {
		return nil, fmt.Errorf("%w: header %q lacks the key 'fortran_order'", ErrFormat, h)
	}
	switch fortran.word {
	case "False":
	case "True":
		return nil, fmt.Errorf("%w: the array is in Fortran order; save it with numpy.ascontiguousarray", ErrFormat)
	default:
		return nil, fmt.Errorf("%w: fortran_order %s is not True or False", ErrFormat, fortran.text)
	}
	shape, ok := entries["shape"]
	if !ok {
		return nil, fmt.Errorf("%w: header %q lacks the key 'shape'", ErrFormat, h)
	}
	if !shape.isTuple {
		return nil, fmt.Errorf("%w: shape %s is not a tuple", ErrFormat, shape.text)
	}
	a.Shape = make([]int, len(shape.tuple))
	for i, d := range shape.tuple {
		if d < 0 {
			return nil, fmt.Errorf("%w: shape %s has a negative dimension", ErrFormat, shape.text)
		}
		a.Shape[i] = int(d)
	}
	return a, nil
}

// setDescr sets the dtype from the descr value.
func (a *Array) setDescr(v value) error {
	if !v.isString {
		return fmt.Errorf("%w: descr %s is not a string: structured dtypes are not supported", ErrFormat, v.text)
	}
	d := v.str
	if len(d) < 3 || !strings.ContainsRune("<>|=", rune(d[0])) {
		return fmt.Errorf("%w: dtype %s", ErrFormat, v.text)
	}
	if d[0] == '>' {
		a.order = binary.BigEndian
	}
	a.Kind = d[1]
	size, err := strconv.Atoi(d[2:])
	if err != nil || d[2] < '1' || d[2] > '9' {
		return fmt.Errorf("%w: dtype %s", ErrFormat, v.text)
	}
	a.Size = size
	switch {
	case a.Kind == 'f' && (size == 4 || size == 8),
		(a.Kind == 'i' || a.Kind == 'u') && (size == 1 || size == 2 || size == 4 || size == 8),
		a.Kind == 'b' && size == 1:
		return nil
	}
	return fmt.Errorf("%w: dtype %s (xent reads bool, integers, float32 and float64)", ErrFormat, v.text)
}

// literal is a reader of the Python literals a .npy header holds.
type literal struct {
	s string
	i int
}

// value is one literal: a string, a word (True, False, None), an
// integer or a tuple of integers; text is its source.
type value struct {
	text     string
	isString bool
	str      string
	word     string
	isTuple  bool
	tuple    []int64
}

func (p *literal) errorf(format string, args ...any) error {
	return fmt.Errorf("%w: header %q: %s at byte %d", ErrFormat, p.s, fmt.Sprintf(format, args...), p.i)
}

func (p *literal) space() {
	for p.i < len(p.s) && strings.IndexByte(" \t\n\r\f\v", p.s[p.i]) >= 0 {
		p.i++
	}
}

// eat skips space and then c, reporting whether c was there.
func (p *literal) eat(c byte) bool {
	p.space()
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

var headerKeys = map[string]bool{"descr": true, "fortran_order": true, "shape": true}

func (p *literal) dict() (map[string]value, error) {
	if !p.eat('{') {
		return nil, fmt.Errorf("%w: header %q is not a dictionary", ErrFormat, p.s)
	}
	entries := map[string]value{}
	for {
		if p.eat('}') {
			return entries, nil
		}
		p.space()
		key, err := p.value()
		if err != nil {
			return nil, err
		}
		if !key.isString {
			return nil, p.errorf("key %s is not a string", key.text)
		}
		if !headerKeys[key.str] {
			return nil, p.errorf("key %s is not one of descr, fortran_order and shape", key.text)
		}
		if _, dup := entries[key.str]; dup {
			return nil, p.errorf("key %s given twice", key.text)
		}
		if !p.eat(':') {
			return nil, p.errorf("no ':' after key %s", key.text)
		}
		p.space()
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		entries[key.str] = v
		if p.eat(',') {
			continue
		}
		if p.eat('}') {
			return entries, nil
		}
		return nil, p.errorf("no ',' or '}' after the value of %s", key.text)
	}
}

// value reads one literal at p.i (no space before it).
func (p *literal) value() (value, error) {
	start := p.i
	if p.i >= len(p.s) {
		return value{}, p.errorf("unexpected end")
	}
	var v value
	switch c := p.s[p.i]; {
	case c == '\'' || c == '"':
		end := strings.IndexByte(p.s[p.i+1:], c)
		if end < 0 {
			return value{}, p.errorf("unterminated string")
		}
		v.str = p.s[p.i+1 : p.i+1+end]
		if strings.ContainsAny(v.str, "\\\n\r") {
			return value{}, p.errorf("string %s%s%s with an escape or a line break", string(c), v.str, string(c))
		}
		v.isString = true
		p.i += end + 2
	case c == '(':
		p.i++
		v.isTuple, v.tuple = true, []int64{}
		for {
			if p.eat(')') {
				break
			}
			p.space()
			n, err := p.integer()
			if err != nil {
				return value{}, err
			}
			v.tuple = append(v.tuple, n)
			if p.eat(',') {
				continue
			}
			if !p.eat(')') {
				return value{}, p.errorf("no ',' or ')' in the tuple")
			}
			if len(v.tuple) == 1 { // (3) is 3, not a tuple
				v.isTuple = false
			}
			break
		}
	case c == '-' || c >= '0' && c <= '9':
		if _, err := p.integer(); err != nil {
			return value{}, err
		}
	case c == '[':
		end := strings.IndexByte(p.s[p.i:], ']')
		if end < 0 {
			return value{}, p.errorf("unterminated list")
		}
		p.i += end + 1
	default:
		for p.i < len(p.s) && (isLetter(p.s[p.i]) || p.s[p.i] >= '0' && p.s[p.i] <= '9') {
			p.i++
		}
		v.word = p.s[start:p.i]
		if v.word != "True" && v.word != "False" && v.word != "None" {
			p.i = start
			return value{}, p.errorf("%q is not a literal", p.s[start:min(len(p.s), start+12)])
		}
	}
	v.text = p.s[start:p.i]
	return v, nil
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' }

// integer reads a Python integer literal, optionally negative, as int64;
// larger values are an error.
func (p *literal) integer() (int64, error) {
	start := p.i
	neg := false
	if p.i < len(p.s) && p.s[p.i] == '-' {
		neg = true
		p.i++
		p.space()
	}
	digits := p.i
	for p.i < len(p.s) && (isLetter(p.s[p.i]) || p.s[p.i] >= '0' && p.s[p.i] <= '9') {
		p.i++
	}
	text := strings.TrimSuffix(p.s[digits:p.i], "L")
	base := 10
	if len(text) > 2 && text[0] == '0' {
		switch text[1] {
		case 'x', 'X':
			base = 16
		case 'o', 'O':
			base = 8
		case 'b', 'B':
			base = 2
		}
		if base != 10 {
			text = strings.TrimPrefix(text[2:], "_")
		}
	}
	if base == 10 && len(text) > 1 && text[0] == '0' && strings.Trim(text, "0_") != "" {
		return 0, p.errorf("integer %s with a leading zero", p.s[start:p.i])
	}
	ok := text != "" && text[0] != '_' && text[len(text)-1] != '_' && !strings.Contains(text, "__")
	u, err := strconv.ParseUint(strings.ReplaceAll(text, "_", ""), base, 63)
	if !ok || err != nil {
		if p.i == digits {
			return 0, p.errorf("no integer")
		}
		return 0, p.errorf("%s is not an integer below 2^63", p.s[start:p.i])
	}
	if neg {
		return -int64(u), nil
	}
	return int64(u), nil
}
