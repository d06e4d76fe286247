#!/usr/bin/env bash
# Raises the open-file limit (10,000 idle connections = 10,000 sockets in the
# server and as many in the client workers), then runs the benchmark.
# Usage: bench/collab/run.sh   (after `npm ci` in bench/collab)
set -euo pipefail
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
echo "# ulimit -n $(ulimit -n)" >&2
exec node "$(dirname "$0")/run.mjs" "$@"
