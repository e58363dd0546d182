package store

import (
	"encoding/base64"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/wemember/wemember/shared/errs"
)

// MaxKeyLen bounds partition and sort keys, query prefixes and bounds, in
// bytes. DynamoDB allows 2,048 for a partition key and 1,024 for a sort key;
// one limit for both keeps the rule simple.
const MaxKeyLen = 1024

// ValidKey checks that a key is usable by every backend, so that a key one
// accepts is never refused by another: both parts non-empty UTF-8 text of at
// most MaxKeyLen bytes without a zero byte (DynamoDB refuses empty and
// non-UTF-8 strings; bbolt separates the parts with a zero byte). It fails
// with errs.Invalid and a message naming the rule broken. Adapters call it
// (through Validate for writes) before touching the backend.
func ValidKey(op string, k Key) error {
	if err := validText(op, "partition key", k.PK, true); err != nil {
		return err
	}
	return validText(op, "sort key", k.SK, true)
}

// ValidQuery checks that a query is usable by every backend: its partition
// key follows ValidKey's rules, Prefix and Before are UTF-8 text of at most
// MaxKeyLen bytes without a zero byte (or empty), and After is a cursor
// DecodeCursor accepts. It fails with errs.Invalid and a message naming the
// rule broken. Adapters call it before touching the backend.
func ValidQuery(op string, q Query) error {
	if err := validText(op, "partition key", q.PK, true); err != nil {
		return err
	}
	if err := validText(op, "query prefix", q.Prefix, false); err != nil {
		return err
	}
	if err := validText(op, "query bound", q.Before, false); err != nil {
		return err
	}
	if q.After != "" {
		if _, err := DecodeCursor(op, q.After); err != nil {
			return err
		}
	}
	return nil
}

// validText checks one key part, prefix or bound named what.
func validText(op, what, s string, required bool) error {
	var msg string
	switch {
	case s == "" && required:
		msg = "empty " + what
	case len(s) > MaxKeyLen:
		msg = fmt.Sprintf("%s over %d bytes", what, MaxKeyLen)
	case !utf8.ValidString(s):
		msg = what + " is not UTF-8 text"
	case strings.IndexByte(s, 0) >= 0:
		msg = what + " contains a zero byte"
	default:
		return nil
	}
	return errs.E(op, errs.Invalid, msg)
}

// EncodeCursor turns the last sort key of a page into a Page.Next cursor.
func EncodeCursor(sk string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(sk))
}

// DecodeCursor turns a cursor back into the sort key to continue after. A
// cursor that does not decode to a valid sort key fails with errs.Invalid.
func DecodeCursor(op, cursor string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil || validText(op, "cursor", string(b), true) != nil {
		return "", errs.E(op, errs.Invalid, "bad page cursor")
	}
	return string(b), nil
}
