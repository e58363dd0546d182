// Command pay-notify is the pay-notify cloud function: it runs on AWS Lambda, Tencent SCF
// or as a local HTTP server, whichever it finds itself on.
package main

import (
	"github.com/wemember/wemember/shared/boot"
)

func main() { boot.Main("pay-notify", boot.Unbuilt("pay-notify")) }
