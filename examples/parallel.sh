#!/usr/bin/env bash
# One wsclosesniffer task per capture file, each writing its own Parquet part; merge with DuckDB or Spark.
#   examples/parallel.sh CAPTURE_DIR REPORT_DIR [parallel options, e.g. -S host1,host2 --transferfile {}]
# Over ssh, every host needs wsclosesniffer on its PATH and the files (or --transferfile) to read.
set -euo pipefail
captures=${1:?capture directory}
reports=${2:?report directory}
shift 2
mkdir -p "$reports"
# A rotated set (tcpdump -C/-G, dumpcap ring buffer) must be one task, or its sessions are cut in halves: give such
# a set's directory to one task (wsclosesniffer analyze DIR joins it, see README) instead of its files.
# The part is named after the capture's path, so parts never overwrite each other; --halt keeps going and
# reports failures at the end (exit 2 from a damaged capture still leaves a valid part).
find "$captures" -type f \( -name '*.pcap' -o -name '*.pcapng' -o -name '*.cap' -o -name '*.gz' \) -print0 |
  parallel -0 --halt never "$@" \
    'wsclosesniffer analyze {} --parquet '"$reports"'/$(echo {} | tr / _).parquet --quiet > /dev/null'
echo "merge: duckdb -c \"SELECT classification, count(*) FROM '$reports/*.parquet' GROUP BY 1\""
