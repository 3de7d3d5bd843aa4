#!/usr/bin/env bash
# autarky and llama.cpp on the same model files, on this machine, in one run: for each model,
# ROUNDS rounds that each run `autarky bench` and then llama_cpp_bench.mjs (alternating, so that
# both see the same drift of a shared host), pp N_PROMPT and tg N_GEN with 2 threads, and tg at
# DEPTH tokens of context. Writes a markdown table of medians (and every round) to OUT.
#
# usage: bench/llama_cpp/side_by_side.sh OUT MODEL...
# environment: AUTARKY (default build/release/autarky), ROUNDS (2), REPS (2: timed runs per
# round and test), N_PROMPT (512), N_GEN (128), DEPTH (2048; 0 = none), THREADS (2).
# Needs `npm ci` in bench/llama_cpp once (node-llama-cpp with llama.cpp's prebuilt CPU backend).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$1; shift
autarky=${AUTARKY:-build/release/autarky}
rounds=${ROUNDS:-2}; reps=${REPS:-2}; np=${N_PROMPT:-512}; ng=${N_GEN:-128}; depth=${DEPTH:-2048}; threads=${THREADS:-2}
[ -d "$here/node_modules/node-llama-cpp" ] || (cd "$here" && npm ci --no-audit --no-fund)
raw=$(mktemp)
for model in "$@"; do
  for round in $(seq "$rounds"); do
    echo "$(basename "$model") round $round" >&2
    ours=$("$autarky" bench -m "$model" -p "$np" -n "$ng" -t "$threads" -r "$reps" --json 2>/dev/null | tr -d "\n")
    theirs=$(THREADS=$threads node "$here/llama_cpp_bench.mjs" "$model" "$np" "$ng" "$reps" 0 2>/dev/null | tail -1)
    echo "$model|$round|ours|0|$ours" >> "$raw"
    echo "$model|$round|theirs|0|$theirs" >> "$raw"
    if [ "$depth" -gt 0 ]; then
      ours=$("$autarky" bench -m "$model" -p 0 -n "$ng" -d "$depth" -t "$threads" -r "$reps" --json 2>/dev/null | tr -d "\n")
      theirs=$(THREADS=$threads node "$here/llama_cpp_bench.mjs" "$model" 0 "$ng" "$reps" "$depth" 2>/dev/null | tail -1)
      echo "$model|$round|ours|$depth|$ours" >> "$raw"
      echo "$model|$round|theirs|$depth|$theirs" >> "$raw"
    fi
  done
done
python3 - "$raw" "$out" "$np" "$ng" "$depth" "$threads" "$rounds" "$reps" <<'PY'
import json, statistics, sys, collections, datetime, os, subprocess
raw, out, np, ng, depth, threads, rounds, reps = sys.argv[1:]
runs = collections.defaultdict(list)  # (model, who, test) -> [tokens/s per round]
for line in open(raw):
    model, rnd, who, d, payload = line.rstrip("\n").split("|", 4)
    data = json.loads(payload)
    name = os.path.basename(model).removesuffix(".gguf")
    if who == "ours":
        for o in data:
            runs[(name, who, o["test"])].append(o["tokens_per_second"])  # "pp512", "tg128@d2048"
    else:
        if data.get("pp") is not None: runs[(name, who, f"pp{np}")].append(data["pp"])
        if data.get("tg") is not None: runs[(name, who, f"tg{ng}" + (f"@d{d}" if d != "0" else ""))].append(data["tg"])
models = list(dict.fromkeys(k[0] for k in runs))
tests = [f"pp{np}", f"tg{ng}"] + ([f"tg{ng}@d{depth}"] if depth != "0" else [])
med = lambda v: statistics.median(v) if v else float("nan")
lines = [f"# autarky and llama.cpp side by side, {threads} threads",
         "",
         f"- date: {datetime.datetime.utcnow().isoformat(timespec='seconds')}Z; load average before the table was written: {open('/proc/loadavg').read().split()[:3]}",
         f"- `bench/llama_cpp/side_by_side.sh`: per model {rounds} rounds, each running `autarky bench` then llama.cpp ({reps} timed runs each after a warm-up), medians over the rounds' means; llama.cpp is node-llama-cpp 3.22.1's prebuilt CPU backend (see llama_cpp_bench.mjs for its settings)",
         "",
         "| model | test | autarky t/s | llama.cpp t/s | ratio | autarky rounds | llama.cpp rounds |",
         "|---|---|---:|---:|---:|---|---|"]
for m in models:
    for t in tests:
        a, b = runs.get((m, "ours", t), []), runs.get((m, "theirs", t), [])
        if not a and not b: continue
        ratio = med(a) / med(b) if a and b else float("nan")
        lines.append(f"| {m} | {t} | {med(a):.1f} | {med(b):.1f} | {ratio:.2f}x | {' '.join(f'{x:.1f}' for x in a)} | {' '.join(f'{x:.1f}' for x in b)} |")
open(out, "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
PY
rm -f "$raw"
