package web_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/wemember/wemember/shared/errs"
	"github.com/wemember/wemember/shared/web"
)

// redeemBody stands for a request body: tagged fields, a nested object, a
// list of objects and a field that decodes itself.
type redeemBody struct {
	OrderAmount int64               `json:"order_amount"`
	Clerk       string              `json:"clerk"`
	Order       struct{ ID string } `json:"order"`
	Lines       []struct {
		SKU string `json:"sku"`
	} `json:"lines"`
	Tags map[string]string `json:"tags"`
	At   time.Time         `json:"at"`
	Ok   bool              `json:"ok"`
}

// TestDecodeRefusesAmbiguousKeys: a key given twice, or spelt with other
// letter case than the field's name, is refused naming the key (encoding/json
// would take the last one, or match it regardless of case), in strict and
// lenient decoding alike; a wrong type names the field and the type.
func TestDecodeRefusesAmbiguousKeys(t *testing.T) {
	for body, msg := range map[string]string{
		`{"order_amount":20000,"order_amount":1}`:       `request body repeats the key "order_amount"`,
		`{"order_amount":20000,"ORDER_AMOUNT":1}`:       `request body key "ORDER_AMOUNT" must be spelt "order_amount"`,
		`{"Order_Amount":1}`:                            `request body key "Order_Amount" must be spelt "order_amount"`,
		`{"order":{"ID":"a","ID":"b"}}`:                 `request body repeats the key "order.ID"`,
		`{"order":{"id":"a"}}`:                          `request body key "order.id" must be spelt "ID"`,
		`{"lines":[{"sku":"a"},{"sku":"a","SKU":"b"}]}`: `request body key "lines[1].SKU" must be spelt "sku"`,
		`{"tags":{"a":"1","a":"2"}}`:                    `request body repeats the key "tags.a"`,
		`{"order_amount":"20000"}`:                      `request body field "order_amount" must be an integer`,
		`{"clerk":1}`:                                   `request body field "clerk" must be a string`,
		`{"order":{"ID":1}}`:                            `request body field "order.ID" must be a string`,
		`{"lines":{}}`:                                  `request body field "lines" must be an array`,
		`{"ok":"yes"}`:                                  `request body field "ok" must be true or false`,
		`{"order_amount":1.5}`:                          `request body field "order_amount" must be an integer`,
	} {
		for name, decode := range map[string]func(*web.Request, any) error{"DecodeJSON": web.DecodeJSON, "DecodeStrict": web.DecodeStrict} {
			var v redeemBody
			err := decode(web.NewRequest("POST", "/", []byte(body)), &v)
			if !errs.Is(errs.Invalid, err) || errs.SafeMessage(err) != msg {
				t.Errorf("%s(%s) = %v, want %q", name, body, err, msg)
			}
		}
	}
	var v redeemBody
	body := `{"order_amount":20000,"clerk":"till","order":{"ID":"o-1"},"lines":[{"sku":"a"},{"sku":"b"}],"tags":{"a":"1","A":"2"},"at":"2026-01-02T03:04:05Z","ok":true}`
	if err := web.DecodeStrict(web.NewRequest("POST", "/", []byte(body)), &v); err != nil || v.OrderAmount != 20000 || v.Tags["A"] != "2" || len(v.Lines) != 2 {
		t.Errorf("DecodeStrict(%s) = %v, %+v", body, err, v)
	}
}

// document stands for a document replaced whole: required fields, an
// optional one, one the server sets and one that decodes itself.
type document struct {
	Version int64  `json:"version"` // Set by the server.
	Name    string `json:"name"`
	Note    string `json:"note,omitempty"`
	Levels  []struct {
		ID  string `json:"id"`
		Min int64  `json:"min"`
	} `json:"levels"`
	At time.Time `json:"at"`
}

// TestDecodeRefusals: every refusal of a request body, with the status
// and the message the client gets, and which refusal wins when a body has
// more than one: malformed JSON and keys given twice or misspelt first
// (wherever they are), then a type's own decoding failing, then the first
// wrong type or unknown field, then data after the value, then a field a
// whole document lacks.
func TestDecodeRefusals(t *testing.T) {
	decodeJSON := func(r *web.Request) error { return web.DecodeJSON(r, &redeemBody{}) }
	decodeStrict := func(r *web.Request) error { return web.DecodeStrict(r, &redeemBody{}) }
	decodeDocument := func(r *web.Request) error { return web.DecodeDocument(r, &document{}, "version") }
	tests := []struct {
		name   string
		decode func(*web.Request) error
		body   string
		status int
		msg    string
	}{
		{"empty", decodeJSON, "", 400, "request body is empty; JSON expected"},
		{"blank", decodeStrict, " \r\n\t", 400, "request body is empty; JSON expected"},
		{"cut short", decodeJSON, `{"clerk":`, 400, "request body is not valid JSON"},
		{"not JSON", decodeStrict, `clerk=a`, 400, "request body is not valid JSON"},
		{"bad escape", decodeStrict, `{"clerk":"\x"}`, 400, "request body is not valid JSON"},
		{"trailing comma", decodeStrict, `{"clerk":"a",}`, 400, "request body is not valid JSON"},
		{"second value", decodeJSON, `{"clerk":"a"} {}`, 400, "request body has data after the JSON value"},
		{"stray bracket", decodeJSON, `{"clerk":"a"}]`, 400, "request body has data after the JSON value"},
		{"stray brace", decodeStrict, `{"clerk":"a"} }`, 400, "request body has data after the JSON value"},
		{"array for object", decodeStrict, `[]`, 400, "request body must be an object"},
		{"string for object", decodeJSON, `"a"`, 400, "request body must be an object"},
		{"wrong type", decodeStrict, `{"clerk":1}`, 400, `request body field "clerk" must be a string`},
		{"wrong type in a list", decodeStrict, `{"lines":[{"sku":"a"},{"sku":2}]}`, 400, `request body field "lines.sku" must be a string`},
		{"first wrong type", decodeJSON, `{"clerk":1,"ok":"yes"}`, 400, `request body field "clerk" must be a string`},
		{"too large", decodeStrict, `{"order_amount":9223372036854775808}`, 400, `request body field "order_amount" must be an integer`},
		{"time not a string", decodeStrict, `{"at":1}`, 400, "request body is not valid JSON"},
		{"time malformed", decodeStrict, `{"at":"soon"}`, 400, "request body is not valid JSON"},
		{"repeated", decodeJSON, `{"clerk":"a","clerk":"b"}`, 400, `request body repeats the key "clerk"`},
		{"repeated by escape", decodeStrict, `{"clerk":"a","\u0063lerk":"b"}`, 400, `request body repeats the key "clerk"`},
		{"repeated in a map", decodeStrict, `{"tags":{"a":"1","a":"2"}}`, 400, `request body repeats the key "tags.a"`},
		{"repeated in an unknown field", decodeJSON, `{"x":{"a":1,"a":2}}`, 400, `request body repeats the key "x.a"`},
		{"repeated in a time", decodeStrict, `{"at":{"a":1,"a":2}}`, 400, `request body repeats the key "at.a"`},
		{"repeated among many", decodeStrict, `{"tags":{"1":"","2":"","3":"","4":"","5":"","6":"","7":"","8":"","9":"","10":"","11":"","12":"","13":"","14":"","15":"","16":"","17":"","18":"","3":""}}`, 400, `request body repeats the key "tags.3"`},
		{"repeated before a colon", decodeStrict, `{"clerk":"a","clerk"`, 400, `request body repeats the key "clerk"`},
		{"misspelt", decodeJSON, `{"Clerk":"a"}`, 400, `request body key "Clerk" must be spelt "clerk"`},
		{"misspelt in a list", decodeStrict, `{"lines":[{"sku":"a"},{"Sku":"b"}]}`, 400, `request body key "lines[1].Sku" must be spelt "sku"`},
		{"unknown", decodeStrict, `{"clerk":"a","clark":"b"}`, 400, `request body has an unknown field "clark"`},
		{"unknown and huge", decodeStrict, `{"clerk":"a","` + strings.Repeat("k", 70) + `":1}`, 400,
			`request body has an unknown field "` + strings.Repeat("k", 64) + `…"`},
		{"repeated and huge", decodeJSON, `{"x":{"` + strings.Repeat("é", 40) + `":1,"` + strings.Repeat("é", 40) + `":2}}`, 400,
			`request body repeats the key "x.` + strings.Repeat("é", 31) + `…"`},
		{"unknown nested", decodeStrict, `{"order":{"ID":"a","id2":"b"}}`, 400, `request body has an unknown field "id2"`},
		{"repeat beats an earlier wrong type", decodeStrict, `{"clerk":1,"ok":true,"ok":false}`, 400, `request body repeats the key "ok"`},
		{"misspelling beats an earlier unknown field", decodeStrict, `{"clark":1,"OK":true}`, 400, `request body key "OK" must be spelt "ok"`},
		{"malformed beats an earlier wrong type", decodeStrict, `{"clerk":1,"ok":tru}`, 400, "request body is not valid JSON"},
		{"time beats an earlier wrong type", decodeStrict, `{"clerk":1,"at":"soon"}`, 400, "request body is not valid JSON"},
		{"wrong type beats a later unknown field", decodeStrict, `{"clerk":1,"clark":"b"}`, 400, `request body field "clerk" must be a string`},
		{"unknown field beats a later wrong type", decodeStrict, `{"clark":"b","clerk":1}`, 400, `request body has an unknown field "clark"`},
		{"wrong type beats data after", decodeStrict, `{"clerk":1} {}`, 400, `request body field "clerk" must be a string`},
		{"lacks a field", decodeDocument, `{"name":"n","at":"2026-01-02T03:04:05Z"}`, 400, "request body lacks levels: every field of the document is required"},
		{"null field", decodeDocument, `{"name":null,"levels":[],"at":"2026-01-02T03:04:05Z"}`, 400, "request body lacks name: every field of the document is required"},
		{"lacks in a list", decodeDocument, `{"name":"n","levels":[{"id":"a"}],"at":"2026-01-02T03:04:05Z"}`, 400, "request body lacks levels[0].min: every field of the document is required"},
		{"null element", decodeDocument, `{"name":"n","levels":[null],"at":"2026-01-02T03:04:05Z"}`, 400, "request body lacks levels[0]: every field of the document is required"},
		{"first missing in field order", decodeDocument, `{"at":"2026-01-02T03:04:05Z","levels":[{"id":"a"}]}`, 400, "request body lacks name: every field of the document is required"},
		{"null time", decodeDocument, `{"name":"n","levels":[],"at":null}`, 400, "request body lacks at: every field of the document is required"},
		{"wrong type beats a missing field", decodeDocument, `{"name":1}`, 400, `request body field "name" must be a string`},
		{"unknown field beats a missing field", decodeDocument, `{"nam":"n"}`, 400, `request body has an unknown field "nam"`},
		{"data after beats a missing field", decodeDocument, `{} {}`, 400, "request body has data after the JSON value"},
		{"not a pointer", func(r *web.Request) error { return web.DecodeJSON(r, redeemBody{}) }, `{}`, 500, "internal"},
	}
	for _, tt := range tests {
		err := tt.decode(web.NewRequest("POST", "/", []byte(tt.body)))
		resp := web.Error(err, "")
		var b web.ErrorBody
		if jerr := json.Unmarshal(resp.Body, &b); err == nil || jerr != nil || resp.Status != tt.status || b.Error.Message != tt.msg {
			t.Errorf("%s: %s = %d %s (%v), want %d %q", tt.name, tt.body, resp.Status, resp.Body, err, tt.status, tt.msg)
		}
	}
	for _, body := range []string{
		`{"version":0,"name":"n","levels":[],"at":"2026-01-02T03:04:05Z"}`,
		`{"name":"n","note":null,"levels":[{"id":"a","min":0}],"at":"2026-01-02T03:04:05Z"}`,
	} {
		if err := decodeDocument(web.NewRequest("PUT", "/", []byte(body))); err != nil {
			t.Errorf("DecodeDocument(%s) = %v, want nil", body, err)
		}
	}
}

// FuzzDecodeStoresAsEncodingJSON: a body DecodeStrict takes is stored
// exactly as encoding/json stores it, and a body encoding/json finds
// malformed is refused.
func FuzzDecodeStoresAsEncodingJSON(f *testing.F) {
	for _, s := range []string{
		`{"order_amount":20000,"clerk":"till","order":{"ID":"o-1"},"lines":[{"sku":"a"},{"sku":"b"}],"tags":{"a":"1","A":"2"},"at":"2026-01-02T03:04:05Z","ok":true}`,
		`{"clerk":"\u00e9\ud83d\ude00\ud800","tags":null,"lines":[]}`,
		`{"order_amount":-0,"order":null,"at":null}`,
		`{"lines":[{"sku":"a"},null]}`,
		`{"clerk":"a"} `,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var got, want redeemBody
		err := web.DecodeStrict(web.NewRequest("POST", "/", body), &got)
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		wantErr := dec.Decode(&want)
		var syntax *json.SyntaxError
		if errors.As(wantErr, &syntax) && err == nil {
			t.Fatalf("DecodeStrict(%q) took what encoding/json finds malformed: %v", body, wantErr)
		}
		if err == nil && (wantErr != nil || !reflect.DeepEqual(got, want)) {
			t.Fatalf("DecodeStrict(%q) = %+v; encoding/json: %+v, %v", body, got, want, wantErr)
		}
	})
}
