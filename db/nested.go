package db

import (
	"encoding/json"
	"errors"
	"fmt"
)

// Nested is one value of the JSON that the 360 statements nest rows in (JSONRow, json_agg,
// json_build_array): an array, null, or a scalar — a string (every column is sent as its
// text form) or a number (a count). ParseNested reads a whole column of it in one pass,
// where encoding/json would walk every nested level again for each level decoded: on a
// page of 50 customers with their relations that was a fifth of the server's CPU.
type Nested struct {
	Items []Nested // an array's elements
	Text  []byte   // a scalar's text: a string unquoted and unescaped, a number as written
	Kind  NestedKind
}

// NestedKind tells what a Nested value is.
type NestedKind uint8

const (
	NestedNull NestedKind = iota
	NestedScalar
	NestedArray
)

// ParseNested parses raw (nil is SQL NULL: a Null value). The Text of unescaped strings
// aliases raw, so the value is valid only as long as raw is: scan it before the next row.
func ParseNested(raw []byte) (Nested, error) {
	if raw == nil {
		return Nested{}, nil
	}
	p := nestedParser{b: raw}
	v, err := p.value(0)
	if err != nil {
		return Nested{}, err
	}
	p.space()
	if p.i != len(p.b) {
		return Nested{}, p.fail("trailing data")
	}
	return v, nil
}

// maxNestedDepth bounds the recursion; the 360 statements nest four levels deep.
const maxNestedDepth = 16

type nestedParser struct {
	b     []byte
	i     int
	stack []Nested // the elements of the arrays being read, innermost last
}

func (p *nestedParser) fail(what string) error {
	return fmt.Errorf("db: nested rows: %s at byte %d", what, p.i)
}

func (p *nestedParser) space() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *nestedParser) value(depth int) (Nested, error) {
	p.space()
	if p.i == len(p.b) {
		return Nested{}, p.fail("unexpected end")
	}
	switch c := p.b[p.i]; {
	case c == '[':
		if depth == maxNestedDepth {
			return Nested{}, p.fail("too deep")
		}
		return p.array(depth + 1)
	case c == '"':
		return p.str()
	case c == 'n':
		if len(p.b)-p.i >= 4 && string(p.b[p.i:p.i+4]) == "null" {
			p.i += 4
			return Nested{}, nil
		}
	case c == '-' || (c >= '0' && c <= '9'):
		start := p.i
		for p.i < len(p.b) && (p.b[p.i] == '-' || p.b[p.i] == '+' || p.b[p.i] == '.' ||
			p.b[p.i] == 'e' || p.b[p.i] == 'E' || (p.b[p.i] >= '0' && p.b[p.i] <= '9')) {
			p.i++
		}
		return Nested{Kind: NestedScalar, Text: p.b[start:p.i]}, nil
	}
	return Nested{}, p.fail(fmt.Sprintf("unexpected %q", p.b[p.i]))
}

// array reads an array's elements onto the parser's stack, then copies them into a slice of
// their exact length: one allocation an array, none wasted on growing it.
func (p *nestedParser) array(depth int) (Nested, error) {
	p.i++ // [
	v := Nested{Kind: NestedArray}
	p.space()
	if p.i < len(p.b) && p.b[p.i] == ']' {
		p.i++
		return v, nil
	}
	mark := len(p.stack)
	for {
		item, err := p.value(depth)
		if err != nil {
			return Nested{}, err
		}
		p.stack = append(p.stack, item)
		p.space()
		if p.i == len(p.b) {
			return Nested{}, p.fail("unterminated array")
		}
		switch p.b[p.i] {
		case ',':
			p.i++
		case ']':
			p.i++
			v.Items = append([]Nested(nil), p.stack[mark:]...)
			p.stack = p.stack[:mark]
			return v, nil
		default:
			return Nested{}, p.fail(fmt.Sprintf("unexpected %q in array", p.b[p.i]))
		}
	}
}

// str reads a string. Without escapes (nearly always: PostgreSQL escapes only quotes,
// backslashes and control characters) it is a slice of the input; with them, encoding/json
// unescapes it, surrogate pairs and all.
func (p *nestedParser) str() (Nested, error) {
	start := p.i
	p.i++ // "
	escaped := false
	for p.i < len(p.b) {
		switch c := p.b[p.i]; {
		case c == '"':
			p.i++
			if !escaped {
				return Nested{Kind: NestedScalar, Text: p.b[start+1 : p.i-1]}, nil
			}
			var s string
			if err := json.Unmarshal(p.b[start:p.i], &s); err != nil {
				return Nested{}, p.fail("bad string escape")
			}
			return Nested{Kind: NestedScalar, Text: []byte(s)}, nil
		case c == '\\':
			escaped = true
			p.i += 2
		case c < 0x20:
			return Nested{}, p.fail("control character in string")
		default:
			p.i++
		}
	}
	p.i = len(p.b)
	return Nested{}, errors.New("db: nested rows: unterminated string")
}
