# wemember — the two commands a newcomer needs are `make run` and `make test`;
# `make` alone lists every target.
SHELL := /bin/bash
GO ?= go
PORT ?= 8080
FUNCTIONS := mp-login member-api oa-callback wecom-callback invite-redeem pay-notify expiry-sweep admin-api
# WEMEMBER_DATA_DIR is where `make run` keeps its bbolt file; `make reset` clears it.
WEMEMBER_DATA_DIR ?= data
# FUZZTIME is how long `make fuzz` runs each fuzz target.
FUZZTIME ?= 10s
# BENCH_N_BOLT and BENCH_N_DYNAMO are the requests `make bench` times per hot
# path; BENCH_SWEEP_BOLT and BENCH_SWEEP_DYNAMO the due items of each sweep.
BENCH_N_BOLT ?= 200
BENCH_N_DYNAMO ?= 50
BENCH_SWEEP_BOLT ?= 2000
BENCH_SWEEP_DYNAMO ?= 500
# BENCH_PATHS selects the hot paths among tests/e2e's benchmarks, named
# path/backend[/case]; BENCH_SKIP leaves out the pushes that register no one.
BENCH_PATHS = ^Benchmark(Write3|Login|Card|SignIn|OAPush|WeComPush|Coupon|Points)$$
BENCH_SKIP = Push$$/.*/^(text|del)$$
# FUZZ_TARGETS lists every fuzz target as ./<package dir>:<FuzzName>.
FUZZ_TARGETS = $(shell grep -rEo --include='*_test.go' '^func Fuzz[A-Za-z0-9_]*' shared functions tests \
	| sed -E 's|^(.*)/[^/]*:func (Fuzz.*)$$|./\1:\2|' | sort -u)

.DEFAULT_GOAL := help
.PHONY: help run reset test test-unit test-dynamo check-deploy package bench fuzz vet clean

## help: list the targets (what `make` alone does).
help:
	@awk -F': ' '/^## [a-z-]+:/ { sub(/^## /, "", $$1); printf "  %-13s %s\n", $$1, $$2; prev = 1; next } \
		/^## / && prev { sub(/^## /, ""); printf "  %-13s %s\n", "", $$0 } { prev = /^## / }' $(MAKEFILE_LIST)

## run: every function in one process on 127.0.0.1:8080 (PORT=…) over bbolt, with the
## WeChat simulator beside it; Ctrl-C or kill stops it.
run:
	@mkdir -p .cache/bin
	$(GO) build -o .cache/bin/local ./functions/local
	exec .cache/bin/local

## reset: clear the local data of `make run` (data/, or WEMEMBER_DATA_DIR); caches stay.
reset:
	$(if $(filter __ __/ __. __./ __.. __../ __.cache __.cache/%,__$(strip $(WEMEMBER_DATA_DIR))),\
		$(error make reset: refusing to remove WEMEMBER_DATA_DIR='$(WEMEMBER_DATA_DIR)'))
	rm -rf -- "$(WEMEMBER_DATA_DIR)"

## test: everything — unit and domain tests on bbolt, the conformance and
## end-to-end suites on bbolt and on DynamoDB Local, and the deployment check.
test: vet
	tests/run.sh all
	@$(MAKE) --no-print-directory check-deploy

## test-unit: the tests that need no DynamoDB Local (unchanged packages cached).
test-unit: vet
	tests/run.sh unit

## test-dynamo: the tests that need DynamoDB Local, which it starts and stops.
test-dynamo: vet
	tests/run.sh dynamo

## vet: go vet over every package.
vet:
	$(GO) vet ./...

## check-deploy: build every zip and prove serverless.yml packages offline.
check-deploy: package
	infra/sls-check.sh

## package: the deployable zips for both clouds under dist/.
package:
	infra/package.sh $(FUNCTIONS)

## bench: the hot paths on bbolt and DynamoDB Local (latency, commits and reads per
## request, × one 3-item write, sweep items/s), then the cold starts; ~5 min.
bench:
	@set -uo pipefail; \
	mkdir -p .cache/bench; out=.cache/bench/bench.txt; : > "$$out"; failed=0; \
	tests/dynamodb-local.sh start || exit 1; \
	trap 'tests/dynamodb-local.sh stop' EXIT; \
	export WEMEMBER_DYNAMO_ENDPOINT="$$(cat .cache/dynamodb-local/endpoint)"; \
	bench() { \
		echo "bench: $$1"; \
		$(GO) test -run '^$$' -timeout 10m -benchmem -bench "$$2" -skip '$(BENCH_SKIP)' -benchtime "$$3x" ./tests/e2e/ >"$$out.step" 2>&1; \
		rc=$$?; cat "$$out.step" >>"$$out"; \
		if [ $$rc -ne 0 ]; then \
			failed=1; \
			if grep -q -e '--- FAIL' -e '^panic' "$$out.step"; then grep -A4 -e '--- FAIL' -e '^panic' "$$out.step" | head -n 30; \
			else tail -n 20 "$$out.step"; fi; \
		fi; \
		rm -f "$$out.step"; \
	}; \
	bench "hot paths on bbolt, $(BENCH_N_BOLT) requests each" '$(BENCH_PATHS)/^bolt$$' $(BENCH_N_BOLT); \
	bench "sweeps on bbolt, $(BENCH_SWEEP_BOLT) due items each" '^BenchmarkSweep$$/^bolt$$' $(BENCH_SWEEP_BOLT); \
	bench "hot paths on DynamoDB Local, $(BENCH_N_DYNAMO) requests each" '$(BENCH_PATHS)/^dynamo$$' $(BENCH_N_DYNAMO); \
	bench "sweeps on DynamoDB Local, $(BENCH_SWEEP_DYNAMO) due items each" '^BenchmarkSweep$$/^dynamo$$' $(BENCH_SWEEP_DYNAMO); \
	echo; $(GO) run ./tests/benchreport "$$out" || failed=1; \
	echo; echo "cold start, bbolt:"; $(GO) run ./tests/coldstart -n 5 || failed=1; \
	echo; echo "cold start, DynamoDB Local:"; $(GO) run ./tests/coldstart -n 5 -store dynamo || failed=1; \
	echo; echo "bench: the benchmarks' own lines are in $$out"; \
	exit $$failed

## fuzz: run each fuzz target for FUZZTIME (default 10s) in turn.
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		echo "== $${t#*:} in $${t%%:*}"; \
		$(GO) test -run '^$$' -fuzz "^$${t#*:}$$" -fuzztime $(FUZZTIME) "$${t%%:*}"; \
	done

## clean: remove build output, local data and every cache (DynamoDB Local,
## Serverless); `make reset` clears the local data only.
clean:
	rm -rf dist data .cache
