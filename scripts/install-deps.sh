#!/usr/bin/env bash
# Installs the Debian packages autarky builds and tests with. Idempotent: packages already
# present are skipped, so `make` targets can call this every time at almost no cost.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  clang-14 libclang-rt-14-dev            # libFuzzer and the sanitizer runtimes
  libcli11-dev libfmt-dev libspdlog-dev nlohmann-json3-dev
  libssl-dev libpcre2-dev libsqlite3-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libcpp-httplib-dev                     # HTTP server of `autarky serve`
  wrk                                    # the server load test (bench/server_load.sh)
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  # Package lists may be stale on a fresh machine: refresh once and retry if the first try fails.
  if ! "${sudo_cmd[@]}" apt-get install -y --no-install-recommends "${missing[@]}"; then
    "${sudo_cmd[@]}" apt-get update
    "${sudo_cmd[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
  fi
fi

# The server's integration tests use the official OpenAI Node.js SDK (tests/node), pinned by its
# package-lock.json. Node 20 and npm come with the machine; `npm ci` runs only when the lock file
# changed since the last install.
node_dir="$(cd "$(dirname "$0")/.." && pwd)/tests/node"
if ! command -v npm > /dev/null; then
  echo "install-deps: npm not found; the OpenAI SDK tests (tests/node) will fail" >&2
elif [ ! -f "$node_dir/node_modules/.package-lock.json" ] ||
     [ "$node_dir/package-lock.json" -nt "$node_dir/node_modules/.package-lock.json" ]; then
  echo "install-deps: npm ci in tests/node"
  (cd "$node_dir" && npm ci --no-audit --no-fund --loglevel=error)
fi
