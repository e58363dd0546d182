#!/usr/bin/env bash
# sls-check.sh — prove serverless.yml builds the AWS stack, offline.
#
# Installs Serverless Framework v3 from npm into .cache/serverless (once; the
# npm registry is the only network it needs), runs `serverless package` with
# telemetry off and dummy credentials into .cache/sls-package, and checks the
# CloudFormation template (infra/check-template.js): 8 functions, their
# routes, the sweep schedule, the table and the role. Then checks that every
# Tencent function folder names its zip. Exits non-zero on any failure.
# Needs the zips: run infra/package.sh (make package) first.
set -euo pipefail
cd "$(dirname "$0")/.."

SLS_VERSION=3.40.0
SLS_DIR=.cache/serverless
OUT=.cache/sls-package
sls="$SLS_DIR/node_modules/serverless/bin/serverless.js"

installed=$(node -p "try { require('./$SLS_DIR/node_modules/serverless/package.json').version } catch { '' }")
if [ "$installed" != "$SLS_VERSION" ]; then
	echo "== installing serverless@$SLS_VERSION into $SLS_DIR"
	mkdir -p "$SLS_DIR"
	npm install --prefix "$SLS_DIR" --ignore-scripts --no-audit --no-fund --no-save \
		--loglevel=error "serverless@$SLS_VERSION"
fi

missing=()
for fn in mp-login member-api oa-callback wecom-callback invite-redeem pay-notify expiry-sweep admin-api; do
	[ -f "dist/aws/$fn.zip" ] || missing+=("dist/aws/$fn.zip")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "sls-check: missing ${missing[*]}: run infra/package.sh (make package) first" >&2
	exit 1
fi

echo "== serverless package (offline) into $OUT"
rm -rf "$OUT"
# A clean environment: no real AWS profile, no prompts, no telemetry, no
# update or dashboard checks; dummy values for the required secrets.
env -i PATH="$PATH" HOME="$HOME" LANG=C.UTF-8 CI=1 \
	SLS_TELEMETRY_DISABLED=1 SLS_NOTIFICATIONS_MODE=off SLS_INTERACTIVE_SETUP_DISABLE=1 \
	AWS_ACCESS_KEY_ID=AKIDSLSCHECKONLY AWS_SECRET_ACCESS_KEY=sls-check-only \
	AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true \
	WEMEMBER_SESSION_SECRET=sls-check-session-secret-0123456789 \
	WEMEMBER_DATA_KEY=sls-check-data-key-0123456789abcdef \
	WEMEMBER_MP_APPID=wxslscheck WEMEMBER_MP_SECRET=sls-check WEMEMBER_ADMIN_TOKEN=sls-check \
	timeout 300 node "$sls" package --stage dev --region ap-southeast-1 --package "$OUT"

test -s "$OUT/cloudformation-template-update-stack.json" || {
	echo "sls-check: no CloudFormation template in $OUT" >&2
	exit 1
}
node infra/check-template.js "$OUT"

echo "== Tencent SCF function configs"
node infra/tencent/check.js
