// Command oa-callback is the oa-callback cloud function: it runs on AWS Lambda, Tencent SCF
// or as a local HTTP server, whichever it finds itself on.
package main

import (
	"github.com/wemember/wemember/functions/wiring"
	"github.com/wemember/wemember/shared/boot"
)

func main() { boot.Main("oa-callback", wiring.OACallback) }
