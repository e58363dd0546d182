package codes_test

import (
	"math/big"
	"slices"
	"strings"
	"testing"

	"github.com/wemember/wemember/shared/codes"
	"github.com/wemember/wemember/shared/errs"
)

func TestDefaultCharset(t *testing.T) {
	cs := codes.DefaultCharset
	for _, lookalike := range "0O1Il" {
		if strings.ContainsRune(cs, lookalike) {
			t.Errorf("DefaultCharset holds the look-alike %q", lookalike)
		}
	}
	if strings.ToUpper(cs) != cs {
		t.Errorf("DefaultCharset %q holds lower case; its codes would not match whatever case is typed", cs)
	}
	if len(cs) != 32 {
		t.Errorf("len(DefaultCharset) = %d, want 32 (5 bits a character, no rejected bytes)", len(cs))
	}
	if err := (codes.Format{Length: 8}).Validate(); err != nil {
		t.Errorf("the default format of 8 does not validate: %v", err)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		f    codes.Format
		want string // A part of the message; "" = valid.
	}{
		{"default 4", codes.Format{Length: 4}, ""},
		{"default 64", codes.Format{Length: 64}, ""},
		{"digits 12", codes.Format{Length: 12, Charset: "0123456789"}, ""},
		{"mixed case", codes.Format{Length: 20, Charset: "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"}, ""},
		{"prefix and postfix", codes.Format{Length: 8, Prefix: "VIP-", Postfix: "_x"}, ""},
		{"pattern", codes.Format{Pattern: "###-###-##"}, ""},
		{"pattern overrides length", codes.Format{Length: 999, Pattern: "####"}, ""},
		{"pattern with prefix", codes.Format{Prefix: "BR", Pattern: "AB####"}, ""},
		{"whole 64", codes.Format{Length: 60, Prefix: "AB", Postfix: "CD"}, ""},
		{"zero", codes.Format{}, "length must be 4 to 64"},
		{"length 3", codes.Format{Length: 3}, "length must be 4 to 64"},
		{"length 65", codes.Format{Length: 65}, "length must be 4 to 64"},
		{"negative length", codes.Format{Length: -8}, "length must be 4 to 64"},
		{"charset of 1", codes.Format{Length: 8, Charset: "A"}, "at least 2"},
		{"charset repeats", codes.Format{Length: 8, Charset: "ABCA"}, "repeats 'A'"},
		{"charset space", codes.Format{Length: 8, Charset: "AB "}, "charset may hold only"},
		{"charset yen", codes.Format{Length: 8, Charset: "AB$"}, "charset may hold only"},
		{"charset non-ASCII", codes.Format{Length: 8, Charset: "AB码"}, "charset may hold only"},
		{"prefix slash", codes.Format{Length: 8, Prefix: "a/b"}, "prefix and postfix"},
		{"postfix space", codes.Format{Length: 8, Postfix: " x"}, "prefix and postfix"},
		{"pattern few", codes.Format{Pattern: "ABC###"}, "pattern must hold 4 to 64 '#'"},
		{"pattern dot", codes.Format{Pattern: "####.####"}, "pattern may hold only"},
		{"whole 65", codes.Format{Length: 60, Prefix: "ABC", Postfix: "DE"}, "65 characters, over 64"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.f.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("Validate(%+v) = %v, want nil", tc.f, err)
			case tc.want != "" && !errs.Is(errs.Invalid, err):
				t.Errorf("Validate(%+v) = %v, want errs.Invalid", tc.f, err)
			case tc.want != "" && !strings.Contains(errs.SafeMessage(err), tc.want):
				t.Errorf("Validate(%+v) says %q, want it to say %q", tc.f, errs.SafeMessage(err), tc.want)
			}
		})
	}
}

func TestCapacity(t *testing.T) {
	huge, _ := new(big.Int).SetString("1"+strings.Repeat("0", 64), 10) // 10^64.
	tests := []struct {
		f    codes.Format
		want *big.Int
	}{
		{codes.Format{Length: 4, Charset: "AB"}, big.NewInt(16)},
		{codes.Format{Length: 8}, big.NewInt(1 << 40)},
		{codes.Format{Length: 10, Charset: "0123456789", Prefix: "X"}, big.NewInt(10_000_000_000)},
		{codes.Format{Length: 99, Pattern: "##-##", Charset: "0123456789"}, big.NewInt(10_000)},
		{codes.Format{Length: 64, Charset: "0123456789"}, huge},
	}
	for _, tc := range tests {
		if got := tc.f.Capacity(); got.Cmp(tc.want) != 0 {
			t.Errorf("Capacity(%+v) = %s, want %s", tc.f, got, tc.want)
		}
	}
}

func TestCanonical(t *testing.T) {
	tests := []struct {
		f          codes.Format
		code, want string
	}{
		{codes.Format{Length: 8}, "abcd2345", "ABCD2345"},
		{codes.Format{Length: 8, Prefix: "Vip-"}, "Vip-ABCD2345", "VIP-ABCD2345"},
		{codes.Format{Length: 8, Charset: "abcdefgh"}, "abcdefgh", "ABCDEFGH"},
		{codes.Format{Length: 8, Charset: "0123456789"}, "0123-x", "0123-X"},
		{codes.Format{Length: 8, Charset: "aAbB"}, "aAbBaAbB", "aAbBaAbB"},
	}
	for _, tc := range tests {
		if got := tc.f.Canonical(tc.code); got != tc.want {
			t.Errorf("%+v.Canonical(%q) = %q, want %q", tc.f, tc.code, got, tc.want)
		}
	}
}

func TestCandidates(t *testing.T) {
	tests := []struct {
		code string
		want []string
	}{
		{"ABCD2345", []string{"ABCD2345"}},
		{"abcd2345", []string{"abcd2345", "ABCD2345"}},
		{"aBcD-_9", []string{"aBcD-_9", "ABCD-_9"}},
	}
	for _, tc := range tests {
		if got := codes.Candidates(tc.code); !slices.Equal(got, tc.want) {
			t.Errorf("Candidates(%q) = %q, want %q", tc.code, got, tc.want)
		}
	}
}

// TestCandidatesFindCanonical checks that whatever case a member types a
// code in, the candidates hold the form the code is stored under when its
// format ignores case, and the exact form when it does not.
func TestCandidatesFindCanonical(t *testing.T) {
	insensitive := codes.Format{Length: 8, Prefix: "Vip"}
	sensitive := codes.Format{Length: 8, Charset: "aAbBcC"}
	for _, typed := range []string{"VipABCD2345", "vipabcd2345", "VIPABCD2345"} {
		if c := codes.Candidates(typed); !slices.Contains(c, insensitive.Canonical("VipABCD2345")) {
			t.Errorf("Candidates(%q) = %q miss the stored %q", typed, c, insensitive.Canonical("VipABCD2345"))
		}
	}
	if c := codes.Candidates("aAbBcCaA"); !slices.Contains(c, sensitive.Canonical("aAbBcCaA")) {
		t.Errorf("Candidates of a case-sensitive code miss it: %q", c)
	}
	if c := codes.Candidates("AABBCCAA"); slices.Contains(c, sensitive.Canonical("aAbBcCaA")) {
		t.Errorf("Candidates(%q) = %q find a case-sensitive code typed in the wrong case", "AABBCCAA", c)
	}
}
