package poster

import (
	"encoding/binary"
	"errors"
)

// realign copies the first font of SFNT data (a TTF, OTF, TTC or OTC) into
// a standalone font whose tables start on four-byte boundaries, as the
// OpenType specification asks and golang.org/x/image/font/sfnt insists.
// Some fonts in wide use break the rule: WenQuanYi Micro Hei's collection,
// Debian's default Chinese font, has tables at odd offsets, which sfnt
// refuses with "invalid table offset". Every offset inside a table is
// relative to the table's start, so moving whole tables changes nothing
// else; checksums, which sfnt ignores, are left as they were.
func realign(data []byte) ([]byte, error) {
	errShort := errors.New("font data cut short")
	u16 := func(o int) (int, bool) {
		if o < 0 || o+2 > len(data) {
			return 0, false
		}
		return int(binary.BigEndian.Uint16(data[o:])), true
	}
	u32 := func(o int) (int, bool) {
		if o < 0 || o+4 > len(data) {
			return 0, false
		}
		return int(binary.BigEndian.Uint32(data[o:])), true
	}
	dir := 0
	if len(data) >= 4 && string(data[:4]) == "ttcf" {
		var ok bool
		if dir, ok = u32(12); !ok {
			return nil, errShort
		}
	}
	n, ok := u16(dir + 4)
	if !ok || n == 0 || n > 256 {
		return nil, errors.New("font has no table directory")
	}
	head := 12 + 16*n
	if dir+head > len(data) {
		return nil, errShort
	}
	size := head
	for i := 0; i < n; i++ {
		off, ok1 := u32(dir + 12 + 16*i + 8)
		length, ok2 := u32(dir + 12 + 16*i + 12)
		if !ok1 || !ok2 || off+length > len(data) || off+length < off {
			return nil, errShort
		}
		size += (length + 3) &^ 3
	}
	out := make([]byte, size)
	copy(out, data[dir:dir+head])
	at := head
	for i := 0; i < n; i++ {
		rec := out[12+16*i:]
		off, length := int(binary.BigEndian.Uint32(rec[8:])), int(binary.BigEndian.Uint32(rec[12:]))
		copy(out[at:], data[off:off+length])
		binary.BigEndian.PutUint32(rec[8:], uint32(at))
		at += (length + 3) &^ 3
	}
	return out, nil
}
