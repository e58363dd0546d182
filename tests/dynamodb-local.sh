#!/usr/bin/env bash
# dynamodb-local.sh starts and stops DynamoDB Local (the AWS build, 1.25.x) for
# the store conformance and end-to-end tests.
#
#   tests/dynamodb-local.sh start   # fetch if needed, start, print the endpoint
#   tests/dynamodb-local.sh stop    # stop the instance started by `start`
#
# DynamoDB Local ships inside the npm package amplify-dynamodb-simulator
# (folder emulator/); it is fetched with `npm pack` (no install scripts run)
# into .cache/dynamodb-local/ on first use. The instance runs in memory on a
# free port, with telemetry disabled. The endpoint is written to
# .cache/dynamodb-local/endpoint and the pid to .cache/dynamodb-local/pid.
#
# DynamoDB Local has no flag to choose its listen address: it listens on every
# interface. Tests only ever talk to it through 127.0.0.1, it holds throwaway
# in-memory tables with dummy credentials, and `stop` ends it.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
dir="$root/.cache/dynamodb-local"
pkg="amplify-dynamodb-simulator@2.9.30"
jar="$dir/emulator/DynamoDBLocal.jar"

die() { echo "dynamodb-local: $*" >&2; exit 1; }

fetch() {
	[ -f "$jar" ] && return 0
	command -v npm >/dev/null || die "npm is needed to fetch $pkg"
	mkdir -p "$dir"
	local tmp
	tmp=$(mktemp -d "$dir/fetch.XXXXXX")
	(cd "$tmp" && npm pack --ignore-scripts --silent "$pkg" >/dev/null) || die "npm pack $pkg failed"
	tar xzf "$tmp"/amplify-dynamodb-simulator-*.tgz -C "$tmp" package/emulator
	rm -rf "$dir/emulator"
	mv "$tmp/package/emulator" "$dir/emulator"
	rm -rf "$tmp"
	[ -f "$jar" ] && [ -d "$dir/emulator/DynamoDBLocal_lib" ] || die "unexpected package layout"
}

free_port() {
	if command -v python3 >/dev/null; then
		python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
		return
	fi
	local p
	for _ in $(seq 1 50); do
		p=$((20000 + RANDOM % 40000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return
		fi
	done
	die "no free port found"
}

running() {
	[ -f "$dir/pid" ] && kill -0 "$(cat "$dir/pid")" 2>/dev/null
}

start() {
	command -v java >/dev/null || die "java (17+) is needed"
	if running; then
		echo "DynamoDB Local already running on $(cat "$dir/endpoint")"
		return 0
	fi
	fetch
	local port endpoint pid version
	port=$(free_port)
	endpoint="http://127.0.0.1:$port"
	version=$(grep -o -m1 '(1\.[0-9]*\.[0-9]*)' "$dir/emulator/README.txt" | tr -d '()' || true)
	(
		cd "$dir/emulator"
		exec java -Djava.library.path=DynamoDBLocal_lib -jar DynamoDBLocal.jar \
			-inMemory -disableTelemetry -port "$port" >"$dir/log" 2>&1
	) &
	pid=$!
	echo "$pid" >"$dir/pid"
	# Any HTTP answer (DynamoDB Local replies 400 to a bare GET) means it is up.
	local i
	for i in $(seq 1 60); do
		if curl -s -o /dev/null -m 1 "$endpoint"; then
			echo "$endpoint" >"$dir/endpoint"
			echo "DynamoDB Local ${version:-1.25.x} on $endpoint"
			return 0
		fi
		kill -0 "$pid" 2>/dev/null || { cat "$dir/log" >&2; die "DynamoDB Local exited"; }
		sleep 0.5
	done
	kill "$pid" 2>/dev/null || true
	rm -f "$dir/pid"
	die "DynamoDB Local did not answer on $endpoint within 30 s"
}

stop() {
	if running; then
		local pid
		pid=$(cat "$dir/pid")
		kill "$pid"
		for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
		kill -9 "$pid" 2>/dev/null || true
	fi
	rm -f "$dir/pid" "$dir/endpoint"
}

case "${1:-}" in
start) start ;;
stop) stop ;;
*) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
