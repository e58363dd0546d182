package web_test

import (
	"testing"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/web"
)

// TestDecodeDocumentNullElements: a null element of an array, or a null
// value of a map, is refused naming the element, as a null field is; it
// would otherwise be stored as the zero value.
func TestDecodeDocumentNullElements(t *testing.T) {
	type level struct {
		ID string `json:"id"`
	}
	type doc struct {
		Table  []int64          `json:"table"`
		Levels []level          `json:"levels"`
		Caps   map[string]int64 `json:"caps"`
	}
	for body, want := range map[string]string{
		`{"table":[null,5],"levels":[],"caps":{}}`:           "table[0]",
		`{"table":[5,null],"levels":[],"caps":{}}`:           "table[1]",
		`{"table":[],"levels":[{"id":"a"},null],"caps":{}}`:  "levels[1]",
		`{"table":[],"levels":[],"caps":{"gold":null}}`:      "caps.gold",
		`{"table":[],"levels":[{"id":null}],"caps":{"a":1}}`: "levels[0].id",
	} {
		err := web.DecodeDocument(web.NewRequest("PUT", "/", []byte(body)), &doc{})
		if msg := errs.SafeMessage(err); !errs.Is(errs.Invalid, err) || msg != "request body lacks "+want+": every field of the document is required" {
			t.Errorf("DecodeDocument(%s) = %v; want invalid naming %s", body, err, want)
		}
	}
	if err := web.DecodeDocument(web.NewRequest("PUT", "/", []byte(`{"table":[0,5],"levels":[{"id":"a"}],"caps":{"a":0}}`)), &doc{}); err != nil {
		t.Errorf("DecodeDocument of a whole document = %v, want nil", err)
	}
}
