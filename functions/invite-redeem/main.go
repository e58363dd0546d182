// Command invite-redeem is the invite-redeem cloud function: it runs on AWS Lambda, Tencent SCF
// or as a local HTTP server, whichever it finds itself on.
package main

import (
	"github.com/wemember/wemember/shared/boot"
)

func main() { boot.Main("invite-redeem", boot.Unbuilt("invite-redeem")) }
