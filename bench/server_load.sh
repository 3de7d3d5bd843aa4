#!/usr/bin/env bash
# Load test of `autarky serve` with a second process (wrk): for each number of concurrent
# connections, SECONDS of back-to-back completions of a fixed length (ignore_eos), then
# throughput (requests/s, generated tokens/s from the server's own /metrics) and wrk's latency
# percentiles. Appends a dated section (commit, CPU, settings) to bench/RESULTS-server.md.
#
#   bench/server_load.sh [MODEL] [SECONDS per level] [CONNECTIONS...]
#   e.g. bench/server_load.sh models/stories260K.gguf 10 1 4 8
#
# Environment: AUTARKY_BIN (default build/release/autarky), SLOTS (default 8), TOKENS (max_tokens
# per request, default 32), THREADS (-t, default: the server's default).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
model=${1:-$root/models/stories260K.gguf}
seconds=${2:-10}
shift $(( $# > 2 ? 2 : $# ))
levels=("$@")
[[ ${#levels[@]} -eq 0 ]] && levels=(1 4 8)
bin=${AUTARKY_BIN:-$root/build/release/autarky}
slots=${SLOTS:-8}
tokens=${TOKENS:-32}
results=$root/bench/RESULTS-server.md
command -v wrk > /dev/null || { echo "server_load: wrk not found (scripts/install-deps.sh installs it)" >&2; exit 1; }

log=$(mktemp)
thread_args=()
[[ -n "${THREADS:-}" ]] && thread_args=(-t "$THREADS")
"$bin" serve -m "$model" --port 0 --slots "$slots" --max-queue 64 "${thread_args[@]}" 2> "$log" &
server_pid=$!
trap 'kill $server_pid 2> /dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 1 300); do
  port=$(grep -o 'listening on http://[^:]*:[0-9]*' "$log" | grep -o '[0-9]*$' || true)
  [[ -n "$port" ]] && curl -sf "http://127.0.0.1:$port/health" > /dev/null && break
  sleep 0.1
done
[[ -n "${port:-}" ]] || { cat "$log" >&2; exit 1; }
url="http://127.0.0.1:$port"
model_id=$(basename "$model" .gguf)
export AUTARKY_LOAD_BODY="{\"model\":\"$model_id\",\"prompt\":\"Once upon a time\",\"max_tokens\":$tokens,\"temperature\":0.8,\"ignore_eos\":true}"

completion_tokens() { curl -s "$url/metrics" | awk '$1 == "autarky_completion_tokens_total" {print $2}'; }

commit=$(git -C "$root" rev-parse --short HEAD 2> /dev/null || echo unknown)
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
{
  echo
  echo "## $(date -u '+%Y-%m-%d %H:%M UTC'), commit $commit"
  echo
  echo "$(basename "$model"), $slots slots, $tokens tokens per request (ignore_eos), ${seconds} s per level, wrk with"
  echo "one thread per connection (at most 4); CPU: $cpu, $(nproc) cores; load average before: $(cut -d' ' -f1-3 /proc/loadavg)."
  echo
  echo "| connections | requests/s | generated tok/s | p50 | p75 | p90 | p99 | non-2xx |"
  echo "|---:|---:|---:|---:|---:|---:|---:|---:|"
} >> "$results"
for c in "${levels[@]}"; do
  threads=$(( c < 4 ? c : 4 ))
  before=$(completion_tokens)
  start=$(date +%s.%N)
  out=$(wrk -t "$threads" -c "$c" -d "${seconds}s" --timeout 60s --latency -s "$root/bench/server_load.lua" "$url/v1/completions")
  elapsed=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN {print b - a}')
  after=$(completion_tokens)
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  pct() { echo "$out" | awk -v p="$1" '$1 == p {print $2}'; }
  non2xx=$(echo "$out" | awk '/Non-2xx/ {print $NF}')
  tps=$(awk -v a="$before" -v b="$after" -v t="$elapsed" 'BEGIN {printf "%.0f", (b - a) / t}')
  echo "| $c | $rps | $tps | $(pct 50%) | $(pct 75%) | $(pct 90%) | $(pct 99%) | ${non2xx:-0} |" >> "$results"
  echo "server_load: $c connections: $rps req/s, $tps tok/s, p50 $(pct 50%), p99 $(pct 99%)"
done
echo "server_load: results appended to $results"
