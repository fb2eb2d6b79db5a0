#!/usr/bin/env bash
# `make test-cluster`: microshop on three hosts, one of them cut off under load.
#
# Three network namespaces on a bridge are the hosts (10.231.1.11-13), each with a
# NATS JetStream server of one cluster (streams and the registry on all three).
#   h1  the gateway (`microshop gateway serve`), users, payments, shipping
#   h2  orders, catalog
#   h3  users, orders, catalog, notifications, order_history
# users, orders and catalog keep their data in the machine's PostgreSQL (shared by
# their two instances; the hosts reach it through a forwarder on the bridge address),
# the others in SQLite on their host. tests/cluster/test_host_loss.py then puts
# orders through the gateway while it cuts h2 off and partitions h3, and prints
# what it measured. Everything made here (namespaces, links, the bridge, the safety
# route, nft tables, processes, databases) is removed on any exit.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"

if [ "$(id -u)" != 0 ]; then
    echo "make test-cluster needs root: it makes network namespaces, a bridge and" >&2
    echo "nftables rules to stand in for three hosts. Run it as root (CI does)." >&2
    exit 1
fi
net=10.231.1
bridge=msclbr0
safety_route="unreachable 10.231.0.0/16 metric 4000"
if ! command -v nft >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nftables >/dev/null
fi

# Another run's hosts (or what a killed run left): touch nothing of theirs.
if ip link show "$bridge" >/dev/null 2>&1 || ip netns list | grep -q '^mscl-h'; then
    echo "the bridge $bridge or a namespace mscl-h* exists: another make test-cluster runs," >&2
    echo "or one was killed before it could clean up (ip netns del mscl-h1 ...; ip link del $bridge)" >&2
    exit 1
fi
work=$(mktemp -d /tmp/microshop-cluster.XXXXXX)
mkdir -p "$work/logs"
venv="$root/.venv/bin"
pids=()
made_route=0
databases="microshop_cluster_users microshop_cluster_orders microshop_cluster_catalog"
started=$(date +%s)
say() { echo "==> [$(($(date +%s) - started)) s] $*"; }
ns() { echo "mscl-h$1"; }

cleanup() {
    local status=$?
    set +e
    trap - EXIT INT TERM
    if [ -n "${MICROSHOP_CLUSTER_KEEP_LOGS:-}" ]; then
        mkdir -p "$MICROSHOP_CLUSTER_KEEP_LOGS" && cp "$work"/logs/*.log "$MICROSHOP_CLUSTER_KEEP_LOGS"/
    fi
    if [ "$status" != 0 ]; then
        for log in "$work"/logs/*.log; do
            echo "--- last lines of $(basename "$log")"
            tail -n 15 "$log"
        done
    fi
    # Stop what was started, newest first, by pid.
    for ((i = ${#pids[@]} - 1; i >= 0; i--)); do kill -TERM "${pids[i]}" 2>/dev/null; done
    for pid in "${pids[@]}"; do
        for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
        kill -KILL "$pid" 2>/dev/null
    done
    for n in 1 2 3; do
        ip netns exec "$(ns $n)" nft delete table inet microshop_partition 2>/dev/null
        ip netns del "$(ns $n)" 2>/dev/null  # takes its end of the link along
        ip link del "$(ns $n)-v" 2>/dev/null
        rm -rf "/etc/netns/$(ns $n)"
    done
    ip link del "$bridge" 2>/dev/null
    [ "$made_route" = 1 ] && ip route del $safety_route 2>/dev/null
    for db in $databases; do
        psql -h 127.0.0.1 -U postgres -d postgres -qAtc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1
    done
    rm -rf "$work"
    echo "==> test-cluster: processes, namespaces, bridge, route, tables and databases removed"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start() {  # start <name> <host number> <command...>: in that host's namespace
    local name=$1 host=$2
    shift 2
    ip netns exec "$(ns "$host")" "$@" >"$work/logs/$name.log" 2>&1 &
    pids+=($!)
}
wait_http() {  # wait_http <url> <seconds>
    local deadline=$(($(date +%s) + $2))
    until curl -sf -o /dev/null --max-time 2 "$1"; do
        [ "$(date +%s)" -lt "$deadline" ] || { echo "no answer from $1 in $2 s" >&2; return 1; }
        sleep 0.5
    done
}

say "three hosts on a bridge (safety route first: a cut host is unreachable, never routed away)"
if ! ip route show | grep -q "^unreachable 10.231.0.0/16"; then
    ip route add $safety_route
    made_route=1
fi
ip link add "$bridge" type bridge
ip addr add "$net.1/24" dev "$bridge"
ip link set "$bridge" up
for n in 1 2 3; do
    host=$(ns $n)
    ip netns add "$host"
    ip link add "$host-v" type veth peer name eth0 netns "$host"
    ip link set "$host-v" master "$bridge" up
    ip netns exec "$host" ip addr add "$net.1$n/24" dev eth0
    ip netns exec "$host" ip link set eth0 up
    ip netns exec "$host" ip link set lo up
    ip netns exec "$host" ip route add default via "$net.1"
    mkdir -p "/etc/netns/$host" "$work/h$n"
    printf '127.0.0.1 localhost\n%s h%s\n' "$net.1$n" "$n" >"/etc/netns/$host/hosts"
done

say "PostgreSQL for the hosts: databases $databases, reached at $net.1:5432"
for db in $databases; do
    psql -h 127.0.0.1 -U postgres -d postgres -qAtc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null
    psql -h 127.0.0.1 -U postgres -d postgres -qAtc "CREATE DATABASE $db" >/dev/null
done
"$venv/python" -m tests.cluster.pg_proxy "$net.1" 5432 127.0.0.1 5432 >"$work/logs/pg-proxy.log" 2>&1 &
pids+=($!)

say "a NATS JetStream cluster of three, one server per host"
routes="nats://$net.11:6222,nats://$net.12:6222,nats://$net.13:6222"
for n in 1 2 3; do
    start "nats-$n" "$n" "$venv/nats-server" -a "$net.1$n" -p 4222 -m 8222 -js \
        -sd "$work/h$n/nats" -n "nats-$n" --cluster_name microshop \
        --cluster "nats://$net.1$n:6222" --routes "$routes"
done
for n in 1 2 3; do wait_http "http://$net.1$n:8222/healthz" 60; done

export MICROSHOP_BROKER_URL="nats://$net.11:4222,nats://$net.12:4222,nats://$net.13:4222"
export MICROSHOP_STREAM_REPLICAS=3 MICROSHOP_OPEN=true MICROSHOP_RATE_LIMIT=off
# With replicas to move to, a breaker open for the chapter's minute would turn a
# host's few seconds of trouble into a minute of refusals (docs/deploy.md).
export MICROSHOP_BREAKER_RESET_SECONDS=10
# Six instances share the machine's PostgreSQL with everything else on it.
export MICROSHOP_DATABASE_POOL_SIZE=5
MICROSHOP_SERVICE_KEY=$(python3 -c 'import secrets; print(secrets.token_hex(32))')
export MICROSHOP_SERVICE_KEY
# Both users instances sign with one key (the first to start makes it).
export MICROSHOP_USERS_SIGNING_KEY_FILE="$work/keys/jwt-signing-key.pem"
export MICROSHOP_USERS_DATABASE_URL="postgresql+asyncpg://postgres@$net.1:5432/microshop_cluster_users"
export MICROSHOP_ORDERS_DATABASE_URL="postgresql+asyncpg://postgres@$net.1:5432/microshop_cluster_orders"
export MICROSHOP_CATALOG_DATABASE_URL="postgresql+asyncpg://postgres@$net.1:5432/microshop_cluster_catalog"
declare -A port=([users]=8001 [catalog]=8002 [orders]=8003 [notifications]=8004
    [payments]=8005 [shipping]=8006 [order_history]=8007)
placement=("1 users" "1 payments" "1 shipping" "2 orders" "2 catalog"
    "3 users" "3 orders" "3 catalog" "3 notifications" "3 order_history")

# Where each service's instances are meant to run: what discovery falls back to
# for a service the registry lists none of (a registry that has not answered yet,
# or lost its quorum); the client passes over the unreachable ones.
peers=$("$venv/python" - "${placement[@]}" <<'PY'
import json, sys
port = {"users": 8001, "catalog": 8002, "orders": 8003, "notifications": 8004,
        "payments": 8005, "shipping": 8006, "order_history": 8007}
peers = {}
for entry in sys.argv[1:]:
    host, service = entry.split()
    peers.setdefault(service, []).append(f"http://10.231.1.1{host}:{port[service]}")
print(json.dumps(peers))
PY
)
export MICROSHOP_PEERS="$peers"

say "the services, spread over the hosts"
for entry in "${placement[@]}"; do
    read -r n service <<<"$entry"
    MICROSHOP_DATA_DIR="$work/h$n" MICROSHOP_INSTANCE_ID="$service-h$n" \
        start "$service-h$n" "$n" "$venv/microshop" serve "$service" \
        --host "$net.1$n" --port "${port[$service]}"
done
for entry in "${placement[@]}"; do
    read -r n service <<<"$entry"
    wait_http "http://$net.1$n:${port[$service]}/health/ready" 120
done

say "the gateway on h1, following the registry"
start gateway 1 "$venv/microshop" gateway serve --registry "$MICROSHOP_BROKER_URL" \
    --host "$net.11" --port 8080 --admin-port 9901 --run-dir "$work/h1/edge" --open --replicas 3
wait_http "http://$net.11:8080/health" 60
wait_http "http://$net.11:8080/api/orders/health" 60

say "system up; orders under load while hosts fail"
export MICROSHOP_CLUSTER_URL="http://$net.11:8080"
export MICROSHOP_CLUSTER_REGISTRY="nats://$net.11:4222"
export MICROSHOP_CLUSTER_CUT_LINK="$(ns 2)-v" MICROSHOP_CLUSTER_CUT_ADDRESS="$net.12"
export MICROSHOP_CLUSTER_PARTITION_NS="$(ns 3)" MICROSHOP_CLUSTER_PARTITION_ADDRESS="$net.13"
export MICROSHOP_CLUSTER_SUBNET="$net.0/24" MICROSHOP_CLUSTER_DATA="$work"
"$venv/pytest" -p no:cacheprovider tests/cluster -s "$@"
say "test-cluster passed"
