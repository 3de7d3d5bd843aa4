#!/usr/bin/env bash
# Runs every libFuzzer target (*_fuzz) found in BUILD_DIR for a share of SECONDS in total,
# seeded with the GGUF files we have (the golden models and vocabularies when shared/golden is
# around, always the bundled model), or with fuzz/seeds/NAME/ when a target NAME_fuzz has such a
# folder. tokenizer_fuzz gets its vocabularies (the golden ones and the bundled model's) through
# AUTARKY_FUZZ_VOCABS. Fails if any target finds a crash, leak or timeout.
#
#   scripts/run-fuzz.sh BUILD_DIR SECONDS
set -euo pipefail

if [[ $# -ne 2 ]]; then
  echo "usage: $0 BUILD_DIR SECONDS" >&2
  exit 2
fi
build_dir=$1
total_seconds=$2
root=$(cd "$(dirname "$0")/.." && pwd)

mapfile -t targets < <(find "$build_dir" -maxdepth 2 -type f -name '*_fuzz' -perm -u+x | sort)
if [[ ${#targets[@]} -eq 0 ]]; then
  echo "run-fuzz: no *_fuzz binaries in $build_dir (configure with the 'fuzz' preset)" >&2
  exit 1
fi
# Each target gets an equal share, but at least 10 s so that short budgets still fuzz.
per_target=$(( total_seconds / ${#targets[@]} ))
(( per_target < 10 )) && per_target=10

# Inputs are cut to this when loaded. Headers and tensor infos (what the parser reads) of the
# golden files fit; small complete files in fuzz/seeds take the "valid file, touch every
# tensor" path. Bigger inputs would only slow each run down.
max_len=65536

golden=${AUTARKY_GOLDEN_DIR:-}
for candidate in "$golden" "$root/../shared/golden" /work/shared/golden; do
  if [[ -n "$candidate" && -d "$candidate/models" ]]; then golden=$candidate; break; fi
  golden=
done

seeds="$build_dir/fuzz-seeds"
rm -rf "$seeds"
mkdir -p "$seeds"
cp "$root"/fuzz/seeds/*.gguf "$seeds/"
head -c "$max_len" "$root/models/stories260K.gguf" > "$seeds/head-stories260K.gguf"
if [[ -n "$golden" ]]; then
  for f in "$golden"/models/*.gguf "$golden"/vocab/*.gguf; do
    [[ -f "$f" ]] || continue
    head -c "$max_len" "$f" > "$seeds/head-$(basename "$f")"
  done
else
  echo "run-fuzz: shared/golden not found; seeding with the bundled model only" >&2
fi

vocabs="$root/models/stories260K.gguf"
if [[ -n "$golden" ]]; then
  for f in "$golden"/vocab/ggml-vocab-*.gguf; do
    [[ -f "$f" ]] && vocabs="$vocabs:$f"
  done
fi
export AUTARKY_FUZZ_VOCABS=$vocabs

status=0
for target in "${targets[@]}"; do
  name=$(basename "$target")
  corpus="$build_dir/fuzz-corpus/$name"
  artifacts="$build_dir/fuzz-artifacts/$name/"
  mkdir -p "$corpus" "$artifacts"
  target_seeds=$seeds
  [[ -d "$root/fuzz/seeds/${name%_fuzz}" ]] && target_seeds="$root/fuzz/seeds/${name%_fuzz}"
  echo "run-fuzz: $name for ${per_target}s ($(ls "$target_seeds" | wc -l) seeds)"
  start=$(date +%s)
  if ! "$target" "$corpus" "$target_seeds" -max_total_time="$per_target" -max_len="$max_len" -rss_limit_mb=2048 \
       -timeout=10 -print_final_stats=1 -artifact_prefix="$artifacts" > "$build_dir/$name.log" 2>&1; then
    echo "run-fuzz: $name FAILED; last lines of $build_dir/$name.log:" >&2
    tail -n 40 "$build_dir/$name.log" >&2
    echo "run-fuzz: reproducer(s) in $artifacts" >&2
    status=1
  else
    grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb' "$build_dir/$name.log" | tr '\n' ' ' || true
    echo "($(( $(date +%s) - start )) s)"
  fi
done
exit $status
