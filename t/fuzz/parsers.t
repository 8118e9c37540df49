#!/bin/sh
# parsers.t: runs the libFuzzer target over the network-facing parsers for a bounded time
# (FUZZ_SECONDS, 30 by default) from the seed corpus; any crash or sanitizer report fails.
dir=$(dirname "$0")
bin=${PULSE_BUILDDIR:-.}/t/fuzz/fuzz-parsers
secs=${FUZZ_SECONDS:-30}
echo "1..1"
work=$(mktemp -d)
cp "$dir"/corpus/* "$work"/
if "$bin" -max_total_time="$secs" -max_len=4096 -print_final_stats=1 "$work" > "$work/log" 2>&1; then
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$work/log" | grep -o '[0-9]*$')
    echo "ok 1 - fuzzed the parsers for ${secs}s (${runs:-?} inputs), no crash"
    rm -rf "$work"
else
    echo "not ok 1 - the fuzzer found a crash"
    # On stderr as well, so that a non-verbose prove (CI) shows what was found.
    tail -n 40 "$work/log" | sed 's/^/# /' | tee /dev/stderr
    rm -rf "$work"
    exit 1
fi
