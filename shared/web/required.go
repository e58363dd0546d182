package web

import (
	"bytes"
	"encoding"
	"encoding/json"
	"reflect"
	"strconv"
	"strings"

	"github.com/wemember/wemember/shared/errs"
)

// RequireFields refuses (errs.Invalid, naming the field) a request body that
// lacks, or sets to null, a field of doc's JSON form: a document replaced
// whole (a PUT of rules) must say every value, so that a field left out is
// not silently taken as zero. Fields tagged omitempty may be left out, and
// so may the top-level fields named in optional (those the server sets).
// Objects are compared recursively, and every element of an array or value
// of a map against its own type; a null element or value is refused as a
// null field is. Call it before or after decoding the body.
func RequireFields(req *Request, doc any, optional ...string) error {
	const op = "web.RequireFields"
	dec := json.NewDecoder(bytes.NewReader(req.Body))
	dec.UseNumber()
	var body any
	if err := dec.Decode(&body); err != nil {
		return errs.E(op, errs.Invalid, "request body is not valid JSON", err)
	}
	skip := make(map[string]bool, len(optional))
	for _, name := range optional {
		skip[name] = true
	}
	if path := missingField(reflect.TypeOf(doc), body, "", skip); path != "" {
		return errs.E(op, errs.Invalid, "request body lacks "+path+": every field of the document is required")
	}
	return nil
}

var (
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// missingField is the path of the first required field of t that v (a
// decoded JSON value at path) lacks, or "". Types that decode themselves
// (time.Time) are taken as given.
func missingField(t reflect.Type, v any, path string, skip map[string]bool) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if v == nil || reflect.PointerTo(t).Implements(jsonUnmarshaler) || reflect.PointerTo(t).Implements(textUnmarshaler) {
		return ""
	}
	switch t.Kind() {
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			return ""
		}
		return missingStructField(t, m, path, skip)
	case reflect.Slice, reflect.Array:
		a, ok := v.([]any)
		if !ok {
			return ""
		}
		for i, el := range a {
			if el == nil {
				return path + "[" + strconv.Itoa(i) + "]"
			}
			if p := missingField(t.Elem(), el, path+"["+strconv.Itoa(i)+"]", nil); p != "" {
				return p
			}
		}
	case reflect.Map:
		m, ok := v.(map[string]any)
		if !ok {
			return ""
		}
		for k, el := range m {
			if el == nil {
				return join(path, k)
			}
			if p := missingField(t.Elem(), el, join(path, k), nil); p != "" {
				return p
			}
		}
	}
	return ""
}

// missingStructField checks the JSON fields of struct type t, in field
// order, embedded structs' fields included.
func missingStructField(t reflect.Type, m map[string]any, path string, skip map[string]bool) string {
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" || (!f.IsExported() && !f.Anonymous) {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				if p := missingStructField(ft, m, path, skip); p != "" {
					return p
				}
				continue
			}
		}
		if name == "" {
			name = f.Name
		}
		field := join(path, name)
		v, present := m[name]
		optional := skip[name] || hasOpt(opts, "omitempty") || hasOpt(opts, "omitzero")
		if (!present || v == nil) && !optional {
			return field
		}
		if p := missingField(f.Type, v, field, nil); p != "" {
			return p
		}
	}
	return ""
}

func hasOpt(opts, want string) bool {
	for o := range strings.SplitSeq(opts, ",") {
		if o == want {
			return true
		}
	}
	return false
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}
