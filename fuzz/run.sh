#!/usr/bin/env bash
# Builds the SharpFuzz harness, instruments WsCloseSniffer.Core.dll, and runs AFL++ on one target.
#   fuzz/run.sh TARGET SECONDS      TARGET: capture | decoder | http | frames | pipeline
# Findings (queue, crashes, hangs) go to fuzz/findings/TARGET; a second run on the same target resumes.
# Each run appends "date target seconds execs_done crashes hangs" to fuzz/findings/runs.log.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
target="${1:?usage: fuzz/run.sh TARGET SECONDS}"
seconds="${2:?usage: fuzz/run.sh TARGET SECONDS}"
case "$target" in capture|decoder|http|frames|pipeline) ;; *) echo "unknown target: $target" >&2; exit 1 ;; esac

# AFL++ from Debian; the SharpFuzz instrumenter is a dotnet tool (same version as the SharpFuzz package).
if ! command -v afl-fuzz >/dev/null; then
  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y afl++
fi
tools="$here/out/tools"
if [ ! -x "$tools/sharpfuzz" ]; then
  dotnet tool install --tool-path "$tools" SharpFuzz.CommandLine --version 2.3.0
fi

export WSCS_ARTIFACTS="$here/out/artifacts"
dotnet build "$here/WsCloseSniffer.Fuzz/WsCloseSniffer.Fuzz.csproj" -c Release -nologo -v quiet
built="$WSCS_ARTIFACTS/bin/WsCloseSniffer.Fuzz/release"
bin="$here/out/bin"
rm -rf "$bin" && cp -r "$built" "$bin"
# Only our parsing code is instrumented: coverage of the BCL and CsvHelper would only add noise.
"$tools/sharpfuzz" "$bin/WsCloseSniffer.Core.dll"

findings="$here/findings"
mkdir -p "$findings"
# dotnet is not an AFL-instrumented binary (SharpFuzz speaks the fork-server protocol itself); no core
# dumps to wait for; no CPU pinning on a shared machine; resume when findings already exist.
export AFL_SKIP_BIN_CHECK=1 AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_NO_AFFINITY=1 AFL_AUTORESUME=1
export AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1
export DOTNET_TieredPGO=0 DOTNET_TieredCompilation=0
# 5 s per input: generous for the pipeline target on a gzip bomb; anything slower is a hang worth a test.
afl-fuzz -i "$here/corpus/$target" -o "$findings/$target" -t 5000 -m none -V "$seconds" \
  -- dotnet "$bin/WsCloseSniffer.Fuzz.dll" "$target" > "$findings/$target.afl.log" 2>&1 || {
    echo "afl-fuzz failed; see $findings/$target.afl.log" >&2; tail -20 "$findings/$target.afl.log" >&2; exit 1; }

stats="$findings/$target/default/fuzzer_stats"
get() { awk -F' *: *' -v k="$1" '$1 == k { print $2 }' "$stats"; }
line="$(date -u +%FT%TZ) $target ${seconds}s execs_done=$(get execs_done) execs_per_sec=$(get execs_per_sec) crashes=$(get saved_crashes) hangs=$(get saved_hangs)"
echo "$line" | tee -a "$findings/runs.log"
ls "$findings/$target/default/crashes" "$findings/$target/default/hangs" 2>/dev/null | grep -v README || true
