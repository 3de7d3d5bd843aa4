#!/usr/bin/env bash
# Installs the Debian packages autarky builds and tests with. Idempotent: packages already
# present are skipped, so `make` targets can call this every time at almost no cost.
set -euo pipefail

# --aarch64: what the cross build (cmake --preset aarch64) and its emulated test run need instead:
# the cross compiler, qemu-user and the arm64 builds of the libraries, from Debian's multiarch.
aarch64=0
[[ "${1:-}" == "--aarch64" ]] && aarch64=1

packages=(
  build-essential cmake ninja-build pkg-config
  clang-14 libclang-rt-14-dev            # libFuzzer and the sanitizer runtimes
  libcli11-dev libfmt-dev libspdlog-dev nlohmann-json3-dev
  libssl-dev libpcre2-dev libsqlite3-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libcpp-httplib-dev                     # HTTP server of `autarky serve`
  wrk                                    # the server load test (bench/server_load.sh)
)

if (( aarch64 )); then
  packages=(g++-aarch64-linux-gnu qemu-user libfmt-dev:arm64 libspdlog-dev:arm64 libssl-dev:arm64
            libpcre2-dev:arm64 libsqlite3-dev:arm64 libgtest-dev:arm64 libcpp-httplib-dev:arm64)
fi

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
  if (( aarch64 )) && ! dpkg --print-foreign-architectures | grep -qx arm64; then
    "${sudo_cmd[@]}" dpkg --add-architecture arm64
    "${sudo_cmd[@]}" apt-get update
  fi
  # Package lists may be stale on a fresh machine: refresh once and retry if the first try fails.
  if ! "${sudo_cmd[@]}" apt-get install -y --no-install-recommends "${missing[@]}"; then
    "${sudo_cmd[@]}" apt-get update
    "${sudo_cmd[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
  fi
fi

(( aarch64 )) && exit 0

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
