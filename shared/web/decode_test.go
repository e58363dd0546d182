package web_test

import (
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
