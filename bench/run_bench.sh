#!/usr/bin/env bash
# Issue 5's benchmark: synthesizes the 1.1B `llama` model (autarky synth, preset llama-1.1b) in
# each weight type, runs `autarky bench --json` for pp512, tg128 and tg128 at depth 2048, and
# writes bench/RESULTS.md (with the raw JSON in bench/RESULTS.json). Not part of `make test`.
#
#   bench/run_bench.sh [-c CACHE_DIR] [-r REPS] [-t THREADS] [-T "Q8_0 Q4_0"] [-o OUT.md]
#                      [-P PRESET]   (another `autarky synth` preset, e.g. tiny to try the script)
#
# Models are reused from CACHE_DIR (default /work/models-cache, shared: files are written
# atomically by `autarky synth`, so a half-written model is never picked up). Once the models
# exist, a run takes ~10-15 minutes on a 2-core machine with the default 3 repetitions.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
AUTARKY=${AUTARKY:-$ROOT/build/release/autarky}
CACHE=${AUTARKY_MODELS_CACHE:-/work/models-cache}
REPS=3
THREADS=""
TYPES="Q8_0 Q4_K_M Q5_K_M Q3_K_M Q2_K Q4_0 F16 BF16"
OUT=$ROOT/bench/RESULTS.md
PRESET=llama-1.1b

usage() { sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
while getopts "c:r:t:T:o:P:h" opt; do
  case $opt in
    c) CACHE=$OPTARG ;;
    r) REPS=$OPTARG ;;
    t) THREADS=$OPTARG ;;
    T) TYPES=$OPTARG ;;
    o) OUT=$OPTARG ;;
    P) PRESET=$OPTARG ;;
    h) usage 0 ;;
    *) usage 1 ;;
  esac
done
[[ -x $AUTARKY ]] || { echo "error: $AUTARKY not built (cmake --build --preset release)" >&2; exit 1; }
mkdir -p "$CACHE" "$(dirname "$OUT")"
JSON_DIR=$(mktemp -d)
trap 'rm -rf "$JSON_DIR"' EXIT

thread_flags=()
[[ -n $THREADS ]] && thread_flags=(-t "$THREADS")

# Memory read bandwidth in the same run (bench/memory_bench.cpp), decode's ceiling: measured
# before and after the models, since other work on a shared host changes it.
MICRO=${AUTARKY_BENCH_MICRO:-$(dirname "$AUTARKY")/bench/autarky_bench_micro}
measure_memory() {
  if [[ -x $MICRO ]]; then
    echo "== memory read bandwidth ($1)" >&2
    "$MICRO" --benchmark_filter='^memory/' --benchmark_repetitions=5 --benchmark_report_aggregates_only=true \
      --benchmark_format=json > "$JSON_DIR/memory-$1.json"
  else
    echo "warning: $MICRO not built (Google Benchmark missing?): no read bandwidth column" >&2
  fi
}

start=$(date +%s)
measure_memory before
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
for type in $TYPES; do
  model=$CACHE/$PRESET-$type.gguf
  if [[ ! -f $model ]]; then
    echo "== synthesizing $model" >&2
    "$AUTARKY" synth --preset "$PRESET" --type "$type" --out "$model"
  fi
  # Read the file once so the first test does not pay for the disk (llama-bench's figures are
  # of a model in page cache too).
  cat "$model" > /dev/null
  echo "== $type: pp512, tg128" >&2
  "$AUTARKY" bench -m "$model" -p 512 -n 128 -r "$REPS" "${thread_flags[@]}" --json > "$JSON_DIR/$type-d0.json"
  echo "== $type: tg128@d2048" >&2
  "$AUTARKY" bench -m "$model" -p 0 -n 128 -d 2048 -r "$REPS" "${thread_flags[@]}" --json > "$JSON_DIR/$type-d2048.json"
done
measure_memory after
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
elapsed=$(( $(date +%s) - start ))

python3 - "$JSON_DIR" "$OUT" "$load_before" "$load_after" "$elapsed" "$TYPES" "$PRESET" <<'PY'
import json, os, sys
json_dir, out, load_before, load_after, elapsed, types, preset = sys.argv[1:8]
types = types.split()
# The issue's reference figures for this machine type (2 cores, 2 threads, same model files):
# llama.cpp (build of Feb 2025) and ik_llama.cpp (Aug 2026). Not measured by us: the llama.cpp
# sources are not available here.
REF = {  # type: (llama.cpp pp512, ik_llama.cpp pp512, llama.cpp tg128, ik_llama.cpp tg128)
    "Q8_0": (49.7, 133, 10.1, 10.5),
    "Q4_K_M": (37.4, 129, 17.2, 15.7),
    "Q4_0": (71.1, 116, 17.5, 14.7),
}
INT8_PEAK_TPS = 500.0  # issue 5: ~1.2 TOPS int8 (VNNI) for two cores at 2.3 GHz, ~500 tokens/s for 1.1B
if preset != "llama-1.1b":  # the figures are for the 1.1B model only
    REF, INT8_PEAK_TPS = {}, None

# Median read bandwidth per thread count, before and after the models: plain loads and with a
# software prefetch ahead. read_bw[threads][kind] = [before, after].
read_bw = {}
for when in ("before", "after"):
    mem_path = os.path.join(json_dir, f"memory-{when}.json")
    if not os.path.exists(mem_path):
        continue
    for b in json.load(open(mem_path))["benchmarks"]:
        if b.get("aggregate_name") != "median":
            continue
        kind, threads = b["run_name"].split("/")[1], int(b["run_name"].split("t:")[1].split("/")[0])
        read_bw.setdefault(threads, {}).setdefault(kind, []).append(b["bytes/s"])

rows, raw, first = [], [], None
for t in types:
    tests = {}
    for part in ("d0", "d2048"):
        path = os.path.join(json_dir, f"{t}-{part}.json")
        for obj in json.load(open(path)):
            tests[obj["test"]] = obj
            raw.append(obj)
            first = first or obj
    rows.append((t, tests))

def fmt_ts(obj):
    return f"{obj['tokens_per_second']:.2f} ± {obj['stddev']:.2f}" if obj else "-"

def ref(t, i):
    return f"{REF[t][i]:g}" if t in REF else "n/a"

def ratio(ours, t, i):
    return f"{ours['tokens_per_second'] / REF[t][i]:.2f}x" if ours and t in REF else "n/a"

lines = []
lines.append(f"# Benchmark results: `{preset}` preset (random weights), issue 5")
if preset != "llama-1.1b":
    lines.append("")
    lines.append("**Not the issue's model: the reference columns below do not apply.**")
lines.append("")
lines.append(f"- date: {first['date']}; commit: `{first['commit']}`")
lines.append(f"- machine: {first['cpu_info']}, {first['n_cores']} cores; ISA `{first['isa']}` "
             f"(cpu features: {first['cpu_features']}); threads: {first['n_threads']}")
lines.append(f"- load average (1/5/15 min) before: {load_before}; after: {load_after} "
             "(anything well above 0 means other work shared the cores: figures are lower bounds)")
lines.append(f"- `bench/run_bench.sh`, {first['repetitions']} repetitions after a warm-up; run time {elapsed} s")
bw = read_bw.get(first["n_threads"], {})
if bw:
    def gbs(kind):
        return " / ".join(f"{v / 1e9:.1f}" for v in bw.get(kind, []))
    lines.append(f"- memory read bandwidth, {first['n_threads']} threads, medians of 5 before / after the models "
                 f"(bench/memory_bench.cpp, same run): {gbs('read')} GB/s with plain loads, "
                 f"{gbs('read_prefetch')} GB/s with a software prefetch into L2 ahead, "
                 f"{gbs('read_tiles')} GB/s reading 4 pages side by side")
lines.append("")
lines.append("Columns marked * are **the issue's reference figures for this machine type, not measured by us** "
             "(llama.cpp build of Feb 2025, ik_llama.cpp of Aug 2026; their sources are not available here). "
             "Ours are mean ± stddev tokens/s.")
lines.append("")
lines.append("| weights | pp512 | llama.cpp pp512* | ik_llama.cpp pp512* | pp512 vs llama.cpp | "
             "% of int8 peak | tg128 | llama.cpp tg128* | ik_llama.cpp tg128* | tg128 vs llama.cpp | "
             "tg128 weight reads | % of read bandwidth | tg128@d2048 | peak RSS | model file | KV cache | start-up |")
lines.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for t, tests in rows:
    pp, tg, tgd = tests.get("pp512"), tests.get("tg128"), tests.get("tg128@d2048")
    peak = f"{100 * pp['tokens_per_second'] / INT8_PEAK_TPS:.1f}%" if pp and INT8_PEAK_TPS else "n/a"
    rss = max(o["peak_rss_bytes"] for o in tests.values()) / 2**30
    size = next(iter(tests.values()))["model_size"] / 2**30
    kv = max(o["kv_cache_bytes"] for o in tests.values()) / 2**20
    startup = pp["load_seconds"] if pp else next(iter(tests.values()))["load_seconds"]
    reads = tg["tokens_per_second"] * tg["decode_weight_bytes"] if tg else None
    best_bw = max(max(v) for v in bw.values()) if bw else None
    reads_col = f"{reads / 1e9:.1f} GB/s" if reads else "-"
    frac_col = f"{100 * reads / best_bw:.0f}%" if reads and best_bw else "n/a"
    lines.append(f"| {t} | {fmt_ts(pp)} | {ref(t, 0)} | {ref(t, 1)} | {ratio(pp, t, 0)} | {peak} | "
                 f"{fmt_ts(tg)} | {ref(t, 2)} | {ref(t, 3)} | {ratio(tg, t, 2)} | {reads_col} | {frac_col} | {fmt_ts(tgd)} | "
                 f"{rss:.2f} GiB | {size:.2f} GiB | {kv:.0f} MiB | {startup:.2f} s |")
lines.append("")
lines.append("Matmul kernels used, per weight type in each file:")
lines.append("")
for t, tests in rows:
    k = next(iter(tests.values()))["matmul_kernels"]
    lines.append(f"- {t}: " + ", ".join(f"{ty} `{name}`" for ty, name in sorted(k.items())))
lines.append("")
lines.append(f"% of int8 peak: pp512 tokens/s over the issue's ~500 tokens/s (1.2 TOPS VNNI, 2 cores "
             "at 2.3 GHz). Peak RSS is the process peak after the test (model pages mapped in + KV cache + "
             "activations; KV cache is that of the depth-2048 run); start-up is mmap + first token, with the file in page cache. "
             "tg128 weight reads: tokens/s times the weight bytes a decode step reads (every tensor but the token "
             "embedding, of which a step reads one row); % of read bandwidth: that over the highest of the read "
             "bandwidth figures above (KV cache and activation reads are not counted, so this is a lower bound; "
             "the host's bandwidth drifts with other work on it, so a figure near or above 100% means \"at the limit\").")
open(out, "w").write("\n".join(lines) + "\n")
json.dump(raw, open(os.path.splitext(out)[0] + ".json", "w"), indent=1)
print(f"wrote {out}", file=sys.stderr)
PY
