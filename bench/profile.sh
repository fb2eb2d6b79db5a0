#!/usr/bin/env bash
# Profile one service of a running microshop (CPU only: samples that hold the GIL)
# while `microshop bench --url ... --data-dir ...` loads it. Writes a flame graph.
#
#   bench/profile.sh <data-dir> <service> [seconds] [output.svg]
#   bench/profile.sh /tmp/ms orders 15 orders.svg
#
# py-spy comes with `make install` (the dev extra); attaching needs root or
# ptrace permission (kernel.yama.ptrace_scope=0).
set -euo pipefail
data_dir=${1:?data dir of the running system}
service=${2:?service name: users, catalog, orders, ...}
seconds=${3:-15}
output=${4:-profile-$service.svg}
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
pid=$("$here/.venv/bin/python" -c \
    'import json, sys; print(json.load(open(sys.argv[1]))["processes"][sys.argv[2]]["pid"])' \
    "$data_dir/run/state.json" "$service")
exec "$here/.venv/bin/py-spy" record --gil --rate 200 --duration "$seconds" \
    --output "$output" --pid "$pid"
