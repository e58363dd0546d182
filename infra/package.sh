#!/usr/bin/env bash
# package.sh FUNCTION... — build every named function for both clouds:
#
#   dist/aws/<fn>.zip      bootstrap, linux/arm64, -tags lambda,lambda.norpc,dynamo (Lambda provided.al2023)
#   dist/tencent/<fn>.zip  main,      linux/amd64, -tags scf,dynamo                    (SCF Go1)
#
# The tags keep one platform's runtime and one store in each binary (see
# shared/launch and shared/boot): the Lambda build links no scf-go-lib and
# no bbolt, the SCF build no aws-lambda-go. Both clouds' functions use the
# DynamoDB table (WEMEMBER_STORE=dynamo:… in serverless.yml and
# infra/tencent/*/serverless.yml); a bbolt deployment would build with
# bolt instead of dynamo.
#
# The unzipped folders dist/aws/<fn>/ and dist/tencent/<fn>/ are kept: the
# Tencent framework uploads a folder (infra/tencent/<fn>/serverless.yml).
# Zips are written by infra/zipdir (Go only, 0755 kept, fixed times, so the
# same binaries give the same zip). Needs nothing but the Go toolchain.
#
# One `go build` per cloud builds all functions at once: the dependencies
# compile once and go runs -p $(nproc) compile and link jobs side by side.
set -euo pipefail
cd "$(dirname "$0")/.."

GO=${GO:-go}
DIST=${DIST:-dist}

if [ $# -eq 0 ]; then
	echo "usage: infra/package.sh FUNCTION..." >&2
	exit 2
fi
for fn in "$@"; do
	if [ ! -f "functions/$fn/main.go" ]; then
		echo "package: functions/$fn/main.go not found" >&2
		exit 2
	fi
done

fns=("$@")
pkgs=()
for fn in "$@"; do pkgs+=("./functions/$fn"); done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "== zip tool"
"$GO" build -o "$tmp/zipdir" ./infra/zipdir

# build CLOUD GOARCH BINARY [TAGS]: compile every function into
# $DIST/CLOUD/<fn>/BINARY and zip it to $DIST/CLOUD/<fn>.zip.
build() {
	local cloud=$1 arch=$2 binary=$3 tags=${4:-}
	local out="$tmp/$cloud"
	mkdir -p "$out" "$DIST/$cloud"
	echo "== $cloud: linux/$arch${tags:+, tags $tags}"
	local start=$SECONDS
	GOOS=linux GOARCH=$arch CGO_ENABLED=0 \
		"$GO" build -trimpath -ldflags "-s -w" ${tags:+-tags "$tags"} -o "$out/" "${pkgs[@]}"
	for fn in "${fns[@]}"; do
		rm -rf "${DIST:?}/$cloud/$fn" "$DIST/$cloud/$fn.zip"
		mkdir -p "$DIST/$cloud/$fn"
		mv "$out/$fn" "$DIST/$cloud/$fn/$binary"
		chmod 0755 "$DIST/$cloud/$fn/$binary"
		"$tmp/zipdir" -o "$DIST/$cloud/$fn.zip" "$DIST/$cloud/$fn"
	done
	echo "   built and zipped ${#fns[@]} functions in $((SECONDS - start))s"
}

build aws arm64 bootstrap lambda,lambda.norpc,dynamo
build tencent amd64 main scf,dynamo

# Sizes in KiB (binaries are stripped: -s -w).
kib() { echo $(( ($(stat -c %s "$1") + 1023) / 1024 )); }
echo
printf '%-16s %14s %14s %16s %16s\n' function "aws bin KiB" "aws zip KiB" "tencent bin KiB" "tencent zip KiB"
for fn in "${fns[@]}"; do
	printf '%-16s %14s %14s %16s %16s\n' "$fn" \
		"$(kib "$DIST/aws/$fn/bootstrap")" "$(kib "$DIST/aws/$fn.zip")" \
		"$(kib "$DIST/tencent/$fn/main")" "$(kib "$DIST/tencent/$fn.zip")"
done
