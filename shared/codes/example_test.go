package codes_test

import (
	"fmt"
	mrand "math/rand/v2"

	"github.com/wemember/wemember/shared/codes"
)

// A campaign's codes: the brand's prefix and a pattern, drawn from a seeded
// source here (crypto/rand.Reader in production).
func ExampleGenerate() {
	f := codes.Format{Prefix: "SPRING-", Pattern: "####-####"}
	got, err := codes.Generate(mrand.NewChaCha8([32]byte{1}), f, 3)
	fmt.Println(got[0], len(got), err)
	_, err = codes.Generate(mrand.NewChaCha8([32]byte{1}), codes.Format{Length: 4, Charset: "0123456789"}, 6000)
	fmt.Println(err)
	// Output:
	// SPRING-C8SZ-HXBV 3 <nil>
	// codes.Generate: invalid: the code format can make 10000 distinct codes and a batch may take at most half of them (5000); make the codes longer or the charset larger
}

// A member types a code with a Chinese input method; it is stored in upper
// case because its format ignores case.
func ExampleNormalize() {
	code, ok := codes.Normalize(" ａｂｃｄ ２３４５ ")
	fmt.Println(code, ok, codes.Candidates(code))
	// Output: abcd2345 true [abcd2345 ABCD2345]
}

// A text token survives a chat app that strips links; the code comes back
// out of whatever the member pastes.
func ExampleParseToken() {
	tok := codes.Token("ABCD2345", "好物商城")
	fmt.Println(tok)
	fmt.Println(codes.ParseToken("朋友发来：" + tok + "\n快去领吧"))
	// Output:
	// 【好物商城】复制这段话打开微信小程序，领取好友邀请礼 ¥ABCD2345¥
	// ABCD2345 true
}
