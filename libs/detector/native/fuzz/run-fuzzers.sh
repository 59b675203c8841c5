#!/bin/sh
# Runs each libFuzzer harness (built by `make -C native CXX=clang++ fuzz`) for SECONDS (default 180),
# seeding the cfg fuzzer with the test fixtures and the paper's models. Corpora and crashes land in
# native/build/fuzz/. Prints libFuzzer's final stats line per harness.
set -eu
cd "$(dirname "$0")/.."
SECONDS_PER_FUZZER="${1:-180}"
OUT=build/fuzz
mkdir -p "$OUT/corpus-cfg" "$OUT/corpus-weights" "$OUT/corpus-frame" "$OUT/crashes"
cp ../test/fixtures/*.cfg ../../darknet/models/*.cfg "$OUT/corpus-cfg/" 2>/dev/null || true
for name in cfg weights frame; do
  dict=""
  [ "$name" = cfg ] && dict="-dict=fuzz/cfg.dict"
  echo "== fuzz_$name for ${SECONDS_PER_FUZZER}s"
  nice "$OUT/fuzz_$name" $dict -max_total_time="$SECONDS_PER_FUZZER" -max_len=65536 -rss_limit_mb=2048 \
    -artifact_prefix="$OUT/crashes/$name-" -print_final_stats=1 "$OUT/corpus-$name" 2>&1 \
    | grep -E 'stat::number_of_executed_units|stat::average_exec_per_sec|stat::new_units_added|stat::peak_rss_mb|ERROR|SUMMARY|Done' \
    || true
done
ls "$OUT/crashes"
