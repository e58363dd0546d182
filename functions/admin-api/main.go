// Command admin-api is the admin-api cloud function: it runs on AWS Lambda, Tencent SCF
// or as a local HTTP server, whichever it finds itself on.
package main

import (
	"github.com/wemember/wemember/functions/admin-api/adminapi"
	"github.com/wemember/wemember/functions/wiring"
	"github.com/wemember/wemember/shared/boot"
)

func main() { boot.Main("admin-api", wiring.AdminAPI, adminapi.BodyLimits()...) }
