#!/usr/bin/env bash
# The Autobahn fuzzingserver from the crossbario/autobahn-testsuite image,
# with the interface of ../shared/autobahn/serve.sh (which needs Debian
# bullseye packages from the machine's mirror): for the hosted Linux job of
# .github/workflows/tests.yml, through WEBSOCKET_AUTOBAHN_DIR.
# Usage: serve.sh SPEC.json [REPORT_DIR] [PORT]; prints "Listening on ..."
# once the port accepts connections; stops the container when it ends.
set -euo pipefail
SPEC=$(realpath "${1:?usage: serve.sh SPEC.json [REPORT_DIR] [PORT]}")
OUT=$(realpath -m "${2:-reports/clients}")
PORT=${3:-9001}
mkdir -p "$OUT"
WORK=$(mktemp -d)
python3 - "$SPEC" "$PORT" > "$WORK/spec.json" <<'PY'
import json, sys
spec = json.load(open(sys.argv[1]))
spec.update(url=f"ws://127.0.0.1:{sys.argv[2]}", outdir="/reports")
print(json.dumps(spec))
PY
NAME=autobahn-$$
trap 'docker kill "$NAME" >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT TERM INT
docker run --rm --name "$NAME" --network host -v "$OUT:/reports" -v "$WORK:/spec" \
    crossbario/autobahn-testsuite wstest -m fuzzingserver -s /spec/spec.json &
for _ in $(seq 600); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
        echo "Listening on ws://127.0.0.1:$PORT, reports to $OUT"
        break
    fi
    sleep 0.5
done
wait
