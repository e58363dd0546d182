package web

import (
	"bytes"
	"cmp"
	"errors"
	"io"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// decoder reads one request body in one pass of the JSON module. The
// module parses, stores the values and refuses a key given twice; the
// decoder matches object keys to struct fields itself, so that a key in
// other letter case is refused rather than matched, an unknown field is
// named, and a document's fields are seen present as they are read.
//
// It keeps the first problem of each rank, in the order a client is told
// of them: malformed JSON or a repeated or misspelt key (reading stops),
// then a value's own decoding failing (time.Time), then the first wrong
// type or unknown field, then data after the value, then the first field
// a document lacks in field order.
type decoder struct {
	strict   bool     // An unknown field is refused.
	whole    bool     // Every field of a document must be given.
	optional []string // Top-level fields a document may leave out.

	fatal *problem
	own   *problem
	wrong *problem
	lacks string

	names []string // Struct field names down to the value being read.
	field bool     // The value about to be read is a struct field's.
}

// problem is a refusal: the message for the client and the cause.
type problem struct {
	msg   string
	cause error
}

func (p *problem) Error() string { return p.msg }

// read decodes body into v, which is a non-nil pointer, and returns the
// refusal to give, or nil.
func (d *decoder) read(body []byte, v any) *problem {
	r := readers.Get().(*reader)
	defer readers.Put(r)
	r.d = decoder{strict: d.strict, whole: d.whole, optional: d.optional, names: r.d.names[:0]}
	r.dec.Reset(bytes.NewBuffer(body), r.opts)
	defer r.dec.Reset(bytes.NewBuffer(nil), r.opts) // Holds no body in the pool.
	return r.d.run(&r.dec, v)
}

// reader is a decoder with the JSON module's decoder and options bound to
// it, kept for reuse: the module remembers per type which functions of the
// options apply.
type reader struct {
	d    decoder
	dec  jsontext.Decoder
	opts jsonv2.Options
}

// readers holds readers between requests.
var readers = sync.Pool{New: func() any {
	r := new(reader)
	r.opts = jsonv2.JoinOptions(
		jsontext.AllowInvalidUTF8(true), // Stored as U+FFFD, as encoding/json does.
		jsonv2.WithUnmarshalers(jsonv2.UnmarshalFromFunc(r.d.hook)))
	return r
}}

// run decodes the value dec reads into v.
func (d *decoder) run(dec *jsontext.Decoder, v any) *problem {
	d.value(dec, v)
	if p := cmp.Or(d.fatal, d.own, d.wrong); p != nil {
		return p
	}
	if _, err := dec.ReadToken(); err != io.EOF {
		return &problem{msg: "request body has data after the JSON value"}
	}
	if d.lacks != "" {
		return &problem{msg: "request body lacks " + d.lacks + ": every field of the document is required"}
	}
	return nil
}

// value decodes the next JSON value into ptr. A wrong type is noted and
// the rest of the value read, so that reading goes on; it returns an error
// only when reading must stop.
func (d *decoder) value(dec *jsontext.Decoder, ptr any, opts ...jsonv2.Options) error {
	depth := dec.StackDepth()
	_, length := dec.StackIndex(depth)
	err := jsonv2.UnmarshalDecode(dec, ptr, opts...)
	if d.fatal != nil {
		return d.fatal
	}
	if err == nil {
		return nil
	}
	var syntax *jsontext.SyntacticError
	var se *jsonv2.SemanticError
	if errors.As(err, &syntax) || !errors.As(err, &se) {
		return d.fail(dec, err)
	}
	d.note(se)
	for {
		if _, n := dec.StackIndex(depth); dec.StackDepth() == depth && n > length {
			return nil
		}
		if _, err := dec.ReadToken(); err != nil {
			return d.fail(dec, err)
		}
	}
}

// noHook reads a value without calling hook, for a field whose type has
// nothing for hook to do.
var noHook = jsonv2.WithUnmarshalers(nil)

// hook is called by the JSON module before it reads any value: it reads
// structs field by field and lets the module read every other type.
func (d *decoder) hook(dec *jsontext.Decoder, v any) error {
	field := d.field
	d.field = false
	if d.whole && !field && d.lacks == "" && dec.StackDepth() > 0 && dec.PeekKind() == 'n' {
		d.lacks = elementPath(dec)
	}
	t := reflect.TypeOf(v).Elem()
	if t.Kind() == reflect.Struct {
		if fs := fieldsOf(t); fs != nil {
			return d.object(dec, reflect.ValueOf(v).Elem(), fs)
		}
	}
	return errors.ErrUnsupported // The module reads it.
}

// object reads a JSON object into the struct rv, whose fields are fs.
func (d *decoder) object(dec *jsontext.Decoder, rv reflect.Value, fs *structFields) error {
	top := dec.StackDepth() == 0
	switch dec.PeekKind() {
	case '{':
	case 'n':
		_, err := dec.ReadToken() // A struct is left as it is, as encoding/json does.
		return d.failed(dec, err)
	default:
		if err := dec.SkipValue(); err != nil {
			return d.fail(dec, err)
		}
		if d.wrong == nil {
			d.wrong = d.typeProblem(rv.Type(), nil)
		}
		return nil
	}
	if _, err := dec.ReadToken(); err != nil {
		return d.fail(dec, err)
	}
	var given []bool
	outer, first, firstAt := d.lacks, "", len(fs.list)
	if d.whole {
		given = make([]bool, len(fs.list))
	}
	for dec.PeekKind() != '}' {
		name, err := dec.ReadValue() // Refuses a repeated name.
		if err != nil {
			return d.fail(dec, err)
		}
		key := name[1 : len(name)-1]
		if bytes.IndexByte(key, '\\') >= 0 || !utf8.Valid(key) {
			key, _ = jsontext.AppendUnquote(nil, name)
		}
		i, ok := fs.byName[string(key)]
		if !ok {
			if j := fs.fold(string(key)); j >= 0 {
				d.fatal = &problem{msg: "request body key " + quoteClipped(pointerPath(dec, dec.StackPointer())) + " must be spelt " + strconv.Quote(fs.list[j].name)}
				return d.fatal
			}
			if d.strict && d.wrong == nil {
				d.wrong = &problem{msg: "request body has an unknown field " + quoteClipped(string(key))}
			}
			if err := dec.SkipValue(); err != nil {
				return d.fail(dec, err)
			}
			continue
		}
		f := &fs.list[i]
		if d.whole {
			given[i] = dec.PeekKind() != 'n'
			d.lacks = ""
		}
		d.names = append(d.names, f.name)
		d.field = true
		if f.plain {
			err = d.value(dec, f.of(rv).Addr().Interface(), noHook)
		} else {
			err = d.value(dec, f.of(rv).Addr().Interface())
		}
		d.field = false
		d.names = d.names[:len(d.names)-1]
		if err != nil {
			return err
		}
		if d.lacks != "" && i < firstAt {
			first, firstAt = d.lacks, i
		}
	}
	if d.whole {
		for i := range firstAt {
			f := &fs.list[i]
			if !given[i] && !f.optional && !(top && slices.Contains(d.optional, f.name)) {
				first = join(containerPath(dec), f.name)
				break
			}
		}
		d.lacks = cmp.Or(outer, first)
	}
	_, err := dec.ReadToken()
	return d.failed(dec, err)
}

// note keeps a value the module could not store.
func (d *decoder) note(se *jsonv2.SemanticError) {
	t := se.GoType
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t != nil && decodesItself(t):
		if d.own == nil {
			d.own = &problem{msg: "request body is not valid JSON", cause: se}
		}
	case d.wrong == nil:
		d.wrong = d.typeProblem(t, se)
	}
}

// typeProblem says that the value being read must be of Go type t.
func (d *decoder) typeProblem(t reflect.Type, cause error) *problem {
	if t == nil {
		return &problem{msg: "request body is not valid JSON", cause: cause}
	}
	if len(d.names) == 0 {
		return &problem{msg: "request body must be " + jsonType(t), cause: cause}
	}
	return &problem{msg: "request body field " + quoteClipped(strings.Join(d.names, ".")) + " must be " + jsonType(t), cause: cause}
}

// fail stops reading on err, malformed JSON or a repeated key.
func (d *decoder) fail(dec *jsontext.Decoder, err error) error {
	if d.fatal == nil {
		var syntax *jsontext.SyntacticError
		if errors.As(err, &syntax) && syntax.Err == jsontext.ErrDuplicateName {
			d.fatal = &problem{msg: "request body repeats the key " + quoteClipped(pointerPath(dec, syntax.JSONPointer)), cause: err}
		} else {
			d.fatal = &problem{msg: "request body is not valid JSON", cause: err}
		}
	}
	return d.fatal
}

// failed is fail when err is not nil.
func (d *decoder) failed(dec *jsontext.Decoder, err error) error {
	if err != nil {
		return d.fail(dec, err)
	}
	return nil
}

// pointerPath writes p, a pointer into the value dec is reading, as a
// client reads it: "lines[1].sku".
func pointerPath(dec *jsontext.Decoder, p jsontext.Pointer) string {
	var b strings.Builder
	level := 0
	for name := range p.Tokens() {
		level++
		kind := jsontext.Kind('{')
		if level <= dec.StackDepth() {
			kind, _ = dec.StackIndex(level)
		}
		switch {
		case kind == '[':
			b.WriteString("[" + name + "]")
		case b.Len() > 0:
			b.WriteString("." + name)
		default:
			b.WriteString(name)
		}
	}
	return b.String()
}

// containerPath is the path of the object or array dec is in.
func containerPath(dec *jsontext.Decoder) string {
	p := dec.StackPointer()
	if _, n := dec.StackIndex(dec.StackDepth()); n > 0 {
		p = p.Parent()
	}
	return pointerPath(dec, p)
}

// elementPath is the path of the array element or map value dec is about
// to read.
func elementPath(dec *jsontext.Decoder) string {
	kind, n := dec.StackIndex(dec.StackDepth())
	if kind == '[' {
		return containerPath(dec) + "[" + strconv.FormatInt(n, 10) + "]"
	}
	return pointerPath(dec, dec.StackPointer())
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// maxEcho bounds how much of a client's key or path a refusal quotes back:
// the message reaches the client and the request log.
const maxEcho = 64

// quoteClipped quotes s for a refusal, cut to maxEcho bytes (at a rune
// boundary, marked with …) so a huge key does not come back whole.
func quoteClipped(s string) string {
	if len(s) <= maxEcho {
		return strconv.Quote(s)
	}
	cut := maxEcho
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strconv.Quote(s[:cut] + "…")
}
