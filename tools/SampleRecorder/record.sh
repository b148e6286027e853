#!/usr/bin/env bash
# Records the loopback WebSocket samples and prints what tshark sees in each of them.
# Usage (as root, from the repository root): tools/SampleRecorder/record.sh [OUTPUT_DIRECTORY [FILE_NAME_PREFIX...]]
# The recorder itself also writes the derived samples (editcap -F pcapng, gzip -k -n -9, editcap -F modpcap);
# Samples 38, 42 and 43 need Debian's python3-websockets for /usr/bin/python3 (apt-get install python3-websockets).
# `--verify-only` skips recording and only prints the tshark summary of OUTPUT_DIRECTORY.
set -euo pipefail

verify_only=0
if [[ "${1:-}" == "--verify-only" ]]; then verify_only=1; shift; fi
out="${1:-samples/pcaps}"
here="$(cd "$(dirname "$0")" && pwd)"

if [[ $verify_only -eq 0 ]]; then
  dotnet build "$here" --nologo -v quiet
  # .NET appends the TLS secrets of the wss:// scenarios here (with the EnableSslKeyLogging switch in the project).
  if [[ -z "${2:-}" ]]; then rm -f "$out/wss.keylog"; fi
  SSLKEYLOGFILE="$(realpath -m "$out/wss.keylog")" dotnet run --no-build --project "$here" -- "$out" "${@:2}"
fi

# One line per WebSocket frame: direction (client = the side that sent the SYN), opcode, FIN, RSV bits,
# MASK, payload length, close code and reason; then how each side ended the TCP connection.
summarize() {
  local file="$1" port
  port=$(tshark -r "$file" -c 1 -T fields -e tcp.dstport 2>/dev/null)
  echo "== $file (server port $port)"
  tshark -r "$file" -d "tcp.port==$port,http" -T fields -E separator=$'\t' \
      -e tcp.srcport -e tcp.flags.fin -e tcp.flags.reset -e http.response.code \
      -e websocket.opcode -e websocket.fin -e websocket.rsv -e websocket.mask \
      -e websocket.payload_length -e websocket.payload.close.status_code -e websocket.payload.close.reason 2>/dev/null |
  awk -F'\t' -v port="$port" '
    { side = ($1 == port) ? "server" : "client" }
    $4 != "" { print side, "http", $4 }
    $5 != "" {
      n = split($5, op, ","); split($6, fin, ","); split($7, rsv, ","); split($8, mask, ","); split($9, len, ",")
      for (i = 1; i <= n; i++) {
        line = side " frame opcode=" op[i] " fin=" fin[i] " rsv=" rsv[i] " mask=" mask[i] " len=" len[i]
        if (op[i] == 8) line = line " close=" $10 " reason=\"" $11 "\""
        print line; frames[side]++
      }
    }
    $2 == "1" { print side, "tcp FIN" }
    $3 == "1" { print side, "tcp RST" }
    END { printf "frames: client=%d server=%d\n", frames["client"], frames["server"] }'
}

for f in "$out"/[0-9]*.pcap "$out"/*.pcapng "$out"/*.cap "$out"/*.gz; do
  [[ -e "$f" ]] && summarize "$f"
done
