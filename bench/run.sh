#!/usr/bin/env bash
# Whole-process benchmark of `wsclosesniffer analyze`, against tshark and tcpdump on the same file.
#
#   bench/run.sh            both 1 GiB captures (ours and ../shared/bench/make-big-pcap.py's): wsclosesniffer with
#                           --csv, with --json, with --no-inflate and from the `dotnet build` output, tcpdump, tshark,
#                           report checks
#   bench/run.sh --large    the same, plus 10 GB captures of both generators (peak RSS must stay flat)
#   bench/run.sh --split    4 files of 256 MiB as a directory vs the 1 GiB file (a directory uses every core)
#   options: --skip-tshark  --runs N (best of N wsclosesniffer runs, default 5: this machine's speed varies from minute to minute)
#   env:     SEED (default 42), TSHARK_PREFIX_MB (tshark reads only this prefix of the capture and is scaled),
#            WSCS_ENV (VAR=VALUE pairs for the wsclosesniffer runs, e.g. WSCS_ENV=DOTNET_TieredCompilation=0),
#            WSCS_ARGS (extra analyze options for every run, e.g. WSCS_ARGS=--max-inflaters=64)
#
# Captures are generated under bench/data/ (gitignored) when missing; the generator is deterministic
# from SEED, so deleting them is safe.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

LARGE=0; SPLIT=0; SKIP_TSHARK=0; RUNS=5
while [[ $# -gt 0 ]]; do
  case "$1" in
    --large) LARGE=1 ;;
    --split) SPLIT=1 ;;
    --skip-tshark) SKIP_TSHARK=1 ;;
    --runs) RUNS="$2"; shift ;;
    *) echo "unknown option $1" >&2; exit 1 ;;
  esac
  shift
done
SEED=${SEED:-42}
DATA="$ROOT/bench/data"
mkdir -p "$DATA"

if [[ ! -x /usr/bin/time ]] || ! command -v bc >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time bc >/dev/null
fi

WORK=$(mktemp -d /tmp/wscs-bench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

echo "== build (Release, once)"
# Published as users would install it: for this platform, ReadyToRun-precompiled (see the Cli project).
# WSCS_CLI=PATH measures another build instead, e.g. the .NET tool as installed (~/.dotnet/tools/wsclosesniffer).
RID=$(dotnet --info | sed -n 's/^ *RID: *//p' | head -n1)
if [[ -z "${WSCS_CLI:-}" ]]; then
  dotnet publish "$ROOT/src/WsCloseSniffer.Cli" -c Release -r "${RID:-linux-x64}" --self-contained false -o "$WORK/cli" --nologo -v quiet >/dev/null
fi
dotnet publish "$ROOT/bench/WsCloseSniffer.Bench.Generator" -c Release -o "$WORK/gen" --nologo -v quiet >/dev/null
CLI="${WSCS_CLI:-$WORK/cli/wsclosesniffer}"
# The README runs the tool with `dotnet run --project src/WsCloseSniffer.Cli` (the Debug build, not precompiled): its
# build output is measured too (the binary itself; `dotnet run` adds its own up-to-date check before it starts).
dotnet build "$ROOT/src/WsCloseSniffer.Cli" --nologo -v quiet -o "$WORK/build" >/dev/null
BUILD_CLI="$WORK/build/wsclosesniffer"
GEN="$WORK/gen/wscs-bench-generator"

echo "== load average before the run: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine slows the wall clock)"
echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(free -g | awk '/Mem:/{print $2}') GiB RAM, $(dotnet --version) SDK"

generate() { # FILE SIZE_MB SEED
  if [[ ! -s "$1" || ! -s "$1.expected.csv" || ! -s "$1.info" ]]; then
    echo "-- generating $1 ($2 MiB, seed $3)"
    "$GEN" --out "$1" --size-mb "$2" --seed "$3"
  fi
}

info() { sed -n "s/^$2=//p" "$1.info"; }

# measure LABEL CMD...: wall seconds (from the clock, ns resolution) and peak RSS (from /usr/bin/time -v).
measure() {
  local label=$1; shift
  local t0 t1
  t0=$(date +%s.%N)
  /usr/bin/time -v -o "$WORK/time.$label" "$@" >"$WORK/out.$label" 2>"$WORK/err.$label" || {
    echo "!! $label failed:"; tail -5 "$WORK/err.$label"; return 1; }
  t1=$(date +%s.%N)
  SECONDS_TAKEN=$(echo "$t1 - $t0" | bc -l)
  PEAK_KIB=$(awk -F: '/Maximum resident set size/{gsub(/ /,"",$2); print $2}' "$WORK/time.$label")
  # CPU seconds (user + system): on a machine shared with other work this moves less than the wall clock.
  CPU_S=$(awk -F: '/User time|System time/{s += $2} END {print s}' "$WORK/time.$label")
}

fmt() { printf "%.${2:-2}f" "$1"; }

# analyze_best LABEL PATH BYTES PACKETS CSV [OPTION...]: best of $RUNS runs; sets BEST_S, MEDIAN_S, BEST_RSS_KIB (peak of all runs).
analyze_best() {
  local label=$1 path=$2 bytes=$3 packets=$4 csv=$5
  shift 5
  BEST_S=""; BEST_RSS_KIB=0; local times=()
  for ((i = 1; i <= RUNS; i++)); do
    measure "$label" env ${WSCS_ENV:-} "$CLI" analyze "$path" --csv "$csv" --quiet ${WSCS_ARGS:-} "$@"
    printf "   run %d: %6.2f s  %8.1f MB/s  %6.2f Mpackets/s  peak RSS %6.1f MiB  (CPU %.2f s: %.0f MB per CPU-second)\n" "$i" "$SECONDS_TAKEN" \
      "$(echo "$bytes / $SECONDS_TAKEN / 1000000" | bc -l)" "$(echo "$packets / $SECONDS_TAKEN / 1000000" | bc -l)" \
      "$(echo "$PEAK_KIB / 1024" | bc -l)" "$CPU_S" "$(echo "$bytes / $CPU_S / 1000000" | bc -l)"
    if [[ -z "$BEST_S" ]] || (($(echo "$SECONDS_TAKEN < $BEST_S" | bc -l))); then BEST_S=$SECONDS_TAKEN; fi
    if ((PEAK_KIB > BEST_RSS_KIB)); then BEST_RSS_KIB=$PEAK_KIB; fi
    times+=("$SECONDS_TAKEN")
  done
  # The median says what a user gets on this machine; the best, what the code can do in a quiet moment.
  MEDIAN_S=$(printf '%s\n' "${times[@]}" | sort -g | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}')
}

# pcap_prefix IN OUT MiB: the whole records in the first MiB of IN.
pcap_prefix() {
  python3 - "$1" "$2" "$3" <<'PY'
import struct, sys
src, dst, limit = sys.argv[1], sys.argv[2], int(sys.argv[3]) << 20
with open(src, "rb") as f, open(dst, "wb") as o:
    o.write(f.read(24)); size = 24
    while True:
        h = f.read(16)
        if len(h) < 16: break
        n = struct.unpack("<I", h[8:12])[0]
        if size + 16 + n > limit: break
        o.write(h); o.write(f.read(n)); size += 16 + n
PY
}

bench_file() { # FILE SIZE_MB: the full comparison on one capture of our generator
  local file=$1 size_mb=$2
  generate "$file" "$size_mb" "$SEED"
  local want
  want=$(python3 -c "import csv,sys; print(2*sum(1 for r in csv.DictReader(open(sys.argv[1])) if r['close_code']))" "$file.expected.csv")
  compare_capture "$file" "$file.expected.csv" "$(info "$file" packets)" "$(info "$file" sessions)" "$want"
}

# compare_capture FILE EXPECTED_CSV PACKETS SESSIONS CLOSE_FRAMES: wsclosesniffer, tcpdump and tshark on one capture.
compare_capture() {
  local file=$1 expected=$2 packets=$3 sessions=$4 want=$5
  local bytes
  bytes=$(stat -L -c %s "$file")
  echo
  echo "== $(basename "$file"): $(fmt "$(echo "$bytes / 1048576" | bc -l)" 1) MiB, $packets packets, $sessions sessions"

  # Warm the page cache (and measure the read limit: cat to /dev/null).
  cat "$file" >/dev/null
  measure cat sh -c "cat \"\$1\" >/dev/null" sh "$file"
  local cat_mbs; cat_mbs=$(echo "$bytes / $SECONDS_TAKEN / 1000000" | bc -l)
  echo "-- cat (page cache read limit): $(fmt "$cat_mbs" 0) MB/s"

  # The variants run in turn, round after round, with tcpdump among them: this VM's speed changes from minute to
  # minute, and interleaving puts every variant into the same minutes (five runs of one, then five of the next,
  # measured slow and fast phases instead of the variants).
  local variants=(full no-inflate json build tcpdump)
  command -v tcpdump >/dev/null || variants=(full no-inflate json build)
  declare -A times=() best=() rss=() cpu=()
  echo "-- $RUNS rounds of: analyze FILE --csv OUT --quiet (full), the same --no-inflate, --json OUT instead of --csv," \
    "the \`dotnet build\` output as the README's dotnet run runs it (--csv), and tcpdump -r FILE -w /dev/null"
  for ((i = 1; i <= RUNS; i++)); do
    for v in "${variants[@]}"; do
      case $v in
        full) measure ws env ${WSCS_ENV:-} "$CLI" analyze "$file" --csv "$WORK/report.csv" --quiet ${WSCS_ARGS:-} ;;
        no-inflate) measure ws env ${WSCS_ENV:-} "$CLI" analyze "$file" --csv "$WORK/report-noinflate.csv" --quiet ${WSCS_ARGS:-} --no-inflate ;;
        json) measure ws env ${WSCS_ENV:-} "$CLI" analyze "$file" --json "$WORK/report.jsonl" --quiet ${WSCS_ARGS:-} ;;
        build) measure ws env ${WSCS_ENV:-} "$BUILD_CLI" analyze "$file" --csv "$WORK/report-build.csv" --quiet ${WSCS_ARGS:-} ;;
        tcpdump) measure tcpdump tcpdump -r "$file" -w /dev/null ;;
      esac
      times[$v]+="$SECONDS_TAKEN "; cpu[$v]+="$CPU_S "
      if [[ -z "${best[$v]:-}" ]] || (($(echo "$SECONDS_TAKEN < ${best[$v]}" | bc -l))); then best[$v]=$SECONDS_TAKEN; fi
      if ((PEAK_KIB > ${rss[$v]:-0})); then rss[$v]=$PEAK_KIB; fi
      printf "   round %d %-10s %6.2f s  %8.1f MB/s  peak RSS %6.1f MiB  CPU %.2f s\n" "$i" "$v" "$SECONDS_TAKEN" \
        "$(echo "$bytes / $SECONDS_TAKEN / 1000000" | bc -l)" "$(echo "$PEAK_KIB / 1024" | bc -l)" "$CPU_S"
    done
  done
  median() { printf '%s\n' $1 | sort -g | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
  # The spread of tcpdump's own runs says how noisy the machine was during this capture's rounds.
  local v
  for v in "${variants[@]}"; do
    local med; med=$(median "${times[$v]}")
    local lo hi; lo=$(printf '%s\n' ${times[$v]} | sort -g | head -1); hi=$(printf '%s\n' ${times[$v]} | sort -g | tail -1)
    printf -- "-- %-10s median %6.2f s, best %6.2f s (runs %.2f-%.2f s), median CPU %.2f s, peak RSS %6.1f MiB\n" "$v" "$med" "${best[$v]}" \
      "$lo" "$hi" "$(median "${cpu[$v]}")" "$(echo "${rss[$v]} / 1024" | bc -l)"
  done
  MEDIAN_S=$(median "${times[full]}"); BEST_S=${best[full]}
  WS_MBS=$(echo "$bytes / $BEST_S / 1000000" | bc -l)
  WS_RSS_MIB=$(echo "${rss[full]} / 1024" | bc -l)
  WS_RSS_KIB_MAX=0
  for v in full no-inflate json build; do if ((${rss[$v]} > WS_RSS_KIB_MAX)); then WS_RSS_KIB_MAX=${rss[$v]}; fi; done
  echo "-- report check"
  python3 "$ROOT/bench/compare.py" "$expected" "$WORK/report.csv" | tee "$WORK/compare.txt"
  grep -q '^PASS' "$WORK/compare.txt" || CHECK_FAILED=1
  cmp -s "$WORK/report.csv" "$WORK/report-build.csv" || { echo "!! the build output's report differs from the published tool's"; CHECK_FAILED=1; }

  # Inflation measured apart: what was inflated (the summary's count) over the median time it added.
  local inflated_bytes
  inflated_bytes=$("$CLI" analyze "$file" --quiet ${WSCS_ARGS:-} | sed -n 's/^[0-9]* compressed messages\{0,1\} inflated to \([0-9]*\) bytes\{0,1\}\.$/\1/p')
  inflated_bytes=${inflated_bytes:-0}
  local noinflate_median; noinflate_median=$(median "${times[no-inflate]}")
  echo "-- inflated $(fmt "$(echo "$inflated_bytes / 1000000" | bc -l)" 0) MB in each full run:" \
    "$(fmt "$(echo "$inflated_bytes / 1000000 / ($MEDIAN_S - $noinflate_median + 0.000001)" | bc -l)" 0) MB/s of inflated data by wall time (median difference)," \
    "$(fmt "$(echo "$inflated_bytes / 1000000 / ($(median "${cpu[full]}") - $(median "${cpu[no-inflate]}") + 0.000001)" | bc -l)" 0) MB per CPU-second"

  if [[ -n "${times[tcpdump]:-}" ]]; then
    local td_median td_best; td_median=$(median "${times[tcpdump]}"); td_best=${best[tcpdump]}
    for v in full no-inflate json build; do
      printf "   %-10s / tcpdump: median %.2fx, best %.2fx (target <= 1.0x)\n" "$v" \
        "$(echo "$(median "${times[$v]}") / $td_median" | bc -l)" "$(echo "${best[$v]} / $td_best" | bc -l)"
    done
    echo "   peak RSS of every wsclosesniffer run: $(fmt "$(echo "$WS_RSS_KIB_MAX / 1024" | bc -l)" 1) MiB (target <= 128 MiB)"
  fi
  NOINFLATE_BEST_S=${best[no-inflate]}

  if ((SKIP_TSHARK == 0)) && command -v tshark >/dev/null; then
    local target=$file prefix_mb=${TSHARK_PREFIX_MB:-}
    # Past 1 GiB tshark would need tens of GiB of RAM (it keeps per-packet state): measure a prefix.
    if [[ -z "$prefix_mb" && $bytes -gt $((1100 << 20)) ]]; then prefix_mb=1024; fi
    if [[ -n "$prefix_mb" ]]; then
      target="$WORK/prefix.pcap"; pcap_prefix "$file" "$target" "$prefix_mb"; cat "$target" >/dev/null
    fi
    local tbytes; tbytes=$(stat -L -c %s "$target")
    measure tshark tshark -r "$target" -Y 'websocket.opcode==8' -T fields -e frame.number -e ip.src -e ipv6.src \
      -e tcp.srcport -e websocket.payload.close.status_code -e websocket.payload.close.reason
    local ts_mbs; ts_mbs=$(echo "$tbytes / $SECONDS_TAKEN / 1000000" | bc -l)
    local closes; closes=$(wc -l <"$WORK/out.tshark")
    echo "-- tshark -Y websocket.opcode==8 -T fields ...: $(fmt "$SECONDS_TAKEN" 1) s, $(fmt "$ts_mbs" 1) MB/s, peak RSS $(fmt "$(echo "$PEAK_KIB / 1048576" | bc -l)" 2) GiB, $closes close frames"
    if [[ -n "$prefix_mb" ]]; then
      echo "   (tshark read only the first $(fmt "$(echo "$tbytes / 1048576" | bc -l)" 0) MiB of the capture; its rate is taken as the whole file's)"
    else
      echo "   close frames expected from the generator: $want ($([[ $want == "$closes" ]] && echo same || echo DIFFERENT))"
    fi
    echo "-- wsclosesniffer/tshark = $(fmt "$(echo "$WS_MBS / $ts_mbs" | bc -l)" 0)x (target >= 100x); with --no-inflate $(fmt "$(echo "$bytes / $NOINFLATE_BEST_S / 1000000 / $ts_mbs" | bc -l)" 0)x (best runs)"
  fi
}

# bench_independent FILE SIZE_MB: the full comparison on a capture of the team's independent generator
# (../shared/bench/make-big-pcap.py), generated beside its ground truth when missing.
bench_independent() {
  local file=$1 size_mb=$2
  if [[ ! -s "$file" || ! -s "$file.sessions.csv" || ! -s "$file.truth.json" ]]; then
    echo "-- generating $file with $INDEP_GEN (Python: about 30 s per GB here)"
    /usr/bin/python3 "$INDEP_GEN" --size-mb "$size_mb" --out "$file" >/dev/null
  fi
  truth() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$file.truth.json" "$1"; }
  compare_capture "$file" "$file.sessions.csv" "$(truth packets)" "$(truth sessions)" "$(truth close_frames)"
}

CHECK_FAILED=0
bench_file "$DATA/ws-1g-s$SEED.pcap" 1024
RSS_1G=$WS_RSS_MIB; S_1G=$BEST_S

# Figures are quoted on the independent generator's capture as well as on ours.
INDEP_GEN="$ROOT/../shared/bench/make-big-pcap.py"
if [[ -f "$INDEP_GEN" ]]; then
  bench_independent "$DATA/indep-1g.pcap" 1000
  RSS_INDEP_1G=$WS_RSS_MIB
else
  echo
  echo "== independent capture skipped: $INDEP_GEN is not beside the repository"
fi

if ((LARGE)); then
  avail_gb=$(df -BG --output=avail "$DATA" | tail -1 | tr -dc 0-9)
  if ((avail_gb < 25)); then
    echo "!! --large needs ~11 GiB for the capture plus headroom; only ${avail_gb} GiB free: skipped"
  else
    bench_file "$DATA/ws-10g-s$SEED.pcap" 10240
    echo "-- peak RSS 10 GiB / 1 GiB: $(fmt "$RSS_1G" 1) -> $(fmt "$WS_RSS_MIB" 1) MiB ($(fmt "$(echo "($WS_RSS_MIB / $RSS_1G - 1) * 100" | bc -l)" 1)%; target within 10%, both <= 128 MiB)"
    if [[ -f "$INDEP_GEN" ]]; then
      bench_independent "$DATA/indep-10g.pcap" 10000
      echo "-- peak RSS independent 10 GB / 1 GB: $(fmt "$RSS_INDEP_1G" 1) -> $(fmt "$WS_RSS_MIB" 1) MiB ($(fmt "$(echo "($WS_RSS_MIB / $RSS_INDEP_1G - 1) * 100" | bc -l)" 1)%; target within 10%, both <= 128 MiB)"
    fi
  fi
fi

if ((SPLIT)); then
  dir="$DATA/split4-s$SEED"; mkdir -p "$dir"
  for k in 1 2 3 4; do generate "$dir/part$k.pcap" 256 $((SEED * 10 + k)); done
  bytes=$(cat "$dir"/part*.pcap | wc -c); packets=0
  for k in 1 2 3 4; do packets=$((packets + $(info "$dir/part$k.pcap" packets))); done
  cat "$dir"/part*.pcap >/dev/null
  echo
  echo "== directory of 4 x 256 MiB ($packets packets) vs the 1 GiB file ($(fmt "$S_1G") s)"
  analyze_best split "$dir" "$bytes" "$packets" "$WORK/split.csv"
  echo "   best: $(fmt "$BEST_S") s vs $(fmt "$S_1G") s for 1 file: speed-up $(fmt "$(echo "$S_1G / $BEST_S" | bc -l)")x on $(nproc) cores, peak RSS $(fmt "$(echo "$BEST_RSS_KIB / 1024" | bc -l)" 1) MiB"
  python3 "$ROOT/bench/compare.py" "$dir"/part*.pcap.expected.csv "$WORK/split.csv" | tee "$WORK/compare.txt"
  grep -q '^PASS' "$WORK/compare.txt" || CHECK_FAILED=1
fi

echo
if ((CHECK_FAILED)); then echo "RESULT: FAIL (a report differs from the expected one)"; exit 1; fi
echo "RESULT: PASS (reports equal to the expected ones)"
