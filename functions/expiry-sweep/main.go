// Command expiry-sweep is the expiry-sweep cloud function: it runs on AWS Lambda, Tencent SCF
// or as a local HTTP server, whichever it finds itself on.
package main

import (
	"github.com/wemember/wemember/functions/wiring"
	"github.com/wemember/wemember/shared/boot"
)

func main() { boot.Main("expiry-sweep", wiring.ExpirySweep()) }
