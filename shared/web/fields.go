package web

import (
	"encoding"
	"encoding/json"
	"reflect"
	"strings"
	"sync"

	jsonv2 "github.com/go-json-experiment/json"
)

// structFields are the JSON fields of a struct type as encoding/json sees
// them, in declaration order with embedded structs' fields in place.
type structFields struct {
	list   []structField
	byName map[string]int // Exact JSON name to index in list.
}

// structField is one JSON field of a struct.
type structField struct {
	name     string
	index    []int // As for reflect.Value.FieldByIndex.
	typ      reflect.Type
	optional bool // Tagged omitempty or omitzero: a document may leave it out.
	// plain is set when no struct read field by field, no array and no
	// map is within the field's value: the JSON module reads it alone.
	plain bool
}

// fold is the index of the field whose name equals key in other letter
// case, or -1.
func (fs *structFields) fold(key string) int {
	for i := range fs.list {
		if strings.EqualFold(fs.list[i].name, key) {
			return i
		}
	}
	return -1
}

// fieldCache holds the structFields of every struct type met, or nil for
// struct types that decode themselves. Types are few and fixed, so it
// only grows to their number.
var fieldCache sync.Map // reflect.Type → *structFields

var (
	jsonUnmarshaler   = reflect.TypeFor[json.Unmarshaler]()
	jsonUnmarshalerV2 = reflect.TypeFor[jsonv2.UnmarshalerFrom]()
	textUnmarshaler   = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// fieldsOf is the JSON fields of struct type t, or nil when t decodes
// itself (time.Time).
func fieldsOf(t reflect.Type) *structFields {
	if fs, ok := fieldCache.Load(t); ok {
		return fs.(*structFields)
	}
	var fs *structFields
	if !decodesItself(t) {
		fs = &structFields{byName: map[string]int{}}
		fs.add(t, nil, 0)
	}
	fieldCache.Store(t, fs)
	return fs
}

// decodesItself reports whether values of type t are read by their own
// method rather than field by field.
func decodesItself(t reflect.Type) bool {
	p := reflect.PointerTo(t)
	return p.Implements(jsonUnmarshaler) || p.Implements(textUnmarshaler) || p.Implements(jsonUnmarshalerV2) || isTime(t)
}

// isTime reports whether t is time.Time, which encoding/json reads by its
// own method and the JSON module by a built-in rule to the same effect.
func isTime(t reflect.Type) bool {
	return t.PkgPath() == "time" && t.Name() == "Time"
}

// add adds the fields of struct type t, reached through index, embedded
// depth deep; a field nearer the top hides an embedded one of the same
// name.
func (fs *structFields) add(t reflect.Type, index []int, depth int) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" || (!f.IsExported() && !f.Anonymous) {
			continue
		}
		at := append(append([]int(nil), index...), i)
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				if !f.IsExported() {
					continue // encoding/json cannot set an unexported embedded pointer.
				}
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				if depth < 8 {
					fs.add(ft, at, depth+1)
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
		field := structField{name: name, index: at, typ: f.Type, plain: plain(f.Type),
			optional: hasOpt(opts, "omitempty") || hasOpt(opts, "omitzero")}
		if j, ok := fs.byName[name]; ok {
			if depth == 0 {
				fs.list[j] = field
			}
			continue
		}
		fs.byName[name] = len(fs.list)
		fs.list = append(fs.list, field)
	}
}

// plain reports whether a value of type t holds no struct read field by
// field, no array and no map.
func plain(t reflect.Type) bool {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct:
		return decodesItself(t)
	case reflect.Slice:
		return t.Elem().Kind() == reflect.Uint8 // Bytes, read from base64.
	case reflect.Array, reflect.Map, reflect.Interface:
		return false
	}
	return true
}

// of is v's field f, allocating the embedded structs on its way.
func (f *structField) of(v reflect.Value) reflect.Value {
	for i, x := range f.index {
		if i > 0 && v.Kind() == reflect.Pointer {
			if v.IsNil() {
				v.Set(reflect.New(v.Type().Elem()))
			}
			v = v.Elem()
		}
		v = v.Field(x)
	}
	return v
}

func hasOpt(opts, want string) bool {
	for o := range strings.SplitSeq(opts, ",") {
		if o == want {
			return true
		}
	}
	return false
}
