package web

import (
	"bytes"
	"encoding/json"
	"io"
	"reflect"
	"strconv"
	"strings"
)

// keyProblem is "" when every object key of the JSON value body starts
// with names a field of t exactly and appears once in its object;
// otherwise it says which key is wrong. encoding/json takes the last of a
// repeated key and matches a key to a field regardless of letter case, so
// {"order_amount":20000,"ORDER_AMOUNT":1} would be read as 1. Keys of
// maps and of types that decode themselves are checked for repeats only.
// Malformed JSON is left to the decoder to report.
func keyProblem(body []byte, t reflect.Type) string {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	w := keyWalk{dec: dec, fields: map[reflect.Type]map[string]reflect.Type{}}
	p, _ := w.walk(t, "")
	return p
}

// keyWalk is one keyProblem: the body's decoder and the JSON fields of the
// struct types met so far.
type keyWalk struct {
	dec    *json.Decoder
	fields map[reflect.Type]map[string]reflect.Type
}

// walk reads one JSON value, whose Go type is t (nil when unknown) at
// path, and returns the first problem keyProblem describes.
func (w *keyWalk) walk(t reflect.Type, path string) (string, error) {
	dec := w.dec
	tok, err := dec.Token()
	if err != nil {
		return "", err
	}
	t = decodedType(t)
	switch tok {
	case json.Delim('{'):
		var fields map[string]reflect.Type
		if t != nil && t.Kind() == reflect.Struct {
			if fields = w.fields[t]; fields == nil {
				fields = jsonFields(t)
				w.fields[t] = fields
			}
		}
		seen := map[string]bool{}
		for dec.More() {
			tok, err := dec.Token()
			if err != nil {
				return "", err
			}
			key, _ := tok.(string)
			at := join(path, key)
			if seen[key] {
				return "request body repeats the key " + strconv.Quote(at), nil
			}
			seen[key] = true
			var elem reflect.Type
			switch {
			case fields != nil:
				ft, ok := fields[key]
				if !ok {
					for name := range fields {
						if strings.EqualFold(name, key) {
							return "request body key " + strconv.Quote(at) + " must be spelt " + strconv.Quote(name), nil
						}
					}
				}
				elem = ft
			case t != nil && t.Kind() == reflect.Map:
				elem = t.Elem()
			}
			if p, err := w.walk(elem, at); p != "" || err != nil {
				return p, err
			}
		}
	case json.Delim('['):
		var elem reflect.Type
		if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
			elem = t.Elem()
		}
		for i := 0; dec.More(); i++ {
			if p, err := w.walk(elem, path+"["+strconv.Itoa(i)+"]"); p != "" || err != nil {
				return p, err
			}
		}
	default:
		return "", nil // A scalar.
	}
	if _, err := dec.Token(); err != nil && err != io.EOF { // The closing delimiter.
		return "", err
	}
	return "", nil
}

// decodedType is t without pointers, or nil when encoding/json does not
// match its keys to fields: unknown, an interface, or a type that decodes
// itself.
func decodedType(t reflect.Type) reflect.Type {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t.Kind() == reflect.Interface ||
		reflect.PointerTo(t).Implements(jsonUnmarshaler) || reflect.PointerTo(t).Implements(textUnmarshaler) {
		return nil
	}
	return t
}

// jsonFields are the JSON names of struct type t's fields, embedded
// structs' fields included, with their types.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	m := map[string]reflect.Type{}
	addFields(t, m, 0)
	return m
}

// addFields adds the fields of struct type t, embedded depth deep, to m; a
// field nearer the top hides an embedded one of the same name.
func addFields(t reflect.Type, m map[string]reflect.Type, depth int) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" || (!f.IsExported() && !f.Anonymous) {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				if depth < 8 {
					addFields(ft, m, depth+1)
				}
				continue
			}
			if !f.IsExported() {
				continue
			}
		}
		if name == "" {
			name = f.Name
		}
		if _, ok := m[name]; !ok || depth == 0 {
			m[name] = f.Type
		}
	}
}
