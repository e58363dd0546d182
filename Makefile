# wemember — the two commands a newcomer needs are `make run` and `make test`.
SHELL := /bin/bash
GO ?= go
PORT ?= 8080
FUNCTIONS := mp-login member-api oa-callback wecom-callback invite-redeem pay-notify expiry-sweep admin-api

.PHONY: run test test-unit test-dynamo check-deploy package bench fuzz vet clean

## run: every function in one process on 127.0.0.1:$(PORT) over bbolt, with the WeChat simulator beside it.
run:
	$(GO) run ./functions/local

## test: everything — unit and domain tests on bbolt, the conformance and
## end-to-end suites on bbolt and on DynamoDB Local, and the deployment check.
test: vet
	tests/run.sh
	@$(MAKE) --no-print-directory check-deploy
	@cat .cache/go-test.summary

vet:
	@mkdir -p .cache
	$(GO) vet ./...

## check-deploy: build every zip and prove serverless.yml packages offline.
check-deploy: package
	infra/sls-check.sh

## package: the deployable zips for both clouds under dist/.
package:
	infra/package.sh $(FUNCTIONS)

## bench: the hot-path benchmarks on both backends.
bench:
	@set -euo pipefail; \
	tests/dynamodb-local.sh start; \
	trap 'tests/dynamodb-local.sh stop' EXIT; \
	export WEMEMBER_DYNAMO_ENDPOINT="$$(cat .cache/dynamodb-local/endpoint)"; \
	$(GO) test -run '^$$' -bench . -benchmem ./...

clean:
	rm -rf dist data .cache
