#!/usr/bin/env bash
# Command (1): sets up a fresh machine, builds laneway, and runs the main job: a gateway in front
# of two local OpenAI-compatible nodes, answering a real chat completion (plain and streamed).
# Until `laneway worker` lands, the nodes are tests/integration/fake_upstream.mjs, the scripted
# server the integration tests use. Keeps serving until Ctrl-C; `--once` stops after the demo.
# Environment: LANEWAY_LISTEN (default 127.0.0.1:8080).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
once=0
[[ "${1:-}" == "--once" ]] && once=1
listen=${LANEWAY_LISTEN:-127.0.0.1:8080}

"$root/deploy/setup.sh" --test   # node runs the local nodes for now
LANEWAY_TARGET=laneway "$root/deploy/build.sh" >/dev/null
laneway="${LANEWAY_BUILD_DIR:-$root/build}/tools/cli/laneway"
run_dir=$(mktemp -d "${TMPDIR:-/tmp}/laneway-run.XXXXXX")
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$run_dir"
}
trap cleanup EXIT INT TERM

# Waits (bounded) for a line matching $2 in file $1 and prints it.
wait_line() {
  for _ in $(seq 1 100); do
    if line=$(grep -m1 "$2" "$1" 2>/dev/null); then echo "$line"; return 0; fi
    sleep 0.1
  done
  echo "run: timed out waiting for '$2' in $1" >&2
  cat "$1" >&2
  return 1
}

config="$run_dir/gateway.toml"
printf '[server]\nlisten = "%s"\n[health]\ninterval = "1s"\ntimeout = "500ms"\n' "$listen" >"$config"
for name in node-a node-b; do
  node "$root/tests/integration/fake_upstream.mjs" --port 0 --name "$name" --models demo-model >"$run_dir/$name.log" 2>&1 &
  pids+=($!)
  port=$(wait_line "$run_dir/$name.log" '"listening"' | sed -E 's/.*"port":([0-9]+).*/\1/')
  printf '[[nodes]]\nname = "%s"\nurl = "http://127.0.0.1:%s"\n' "$name" "$port" >>"$config"
done

"$laneway" gateway -c "$config" 2> >(tee "$run_dir/gateway.log" >&2) &
pids+=($!)
address=$(wait_line "$run_dir/gateway.log" '"msg":"listening"' | sed -E 's/.*"address":"([^"]+)".*/\1/')
url="http://$address"
for _ in $(seq 1 100); do curl -fs "$url/ready" >/dev/null && break; sleep 0.1; done
curl -fs "$url/ready" >/dev/null || { echo "run: the gateway never became ready" >&2; exit 1; }

echo
echo "== laneway gateway on $url (config $config)"
echo "== POST $url/v1/chat/completions"
curl -fsS "$url/v1/chat/completions" -H 'Content-Type: application/json' \
  -d '{"model":"demo-model","messages":[{"role":"user","content":"Say hello"}]}'
echo
echo "== the same, streamed (stream: true)"
curl -fsSN "$url/v1/chat/completions" -H 'Content-Type: application/json' \
  -d '{"model":"demo-model","stream":true,"messages":[{"role":"user","content":"Say hello"}]}'
echo "== models: $(curl -fsS "$url/v1/models")"
if (( once )); then exit 0; fi
echo "== serving on $url until Ctrl-C (metrics: $url/metrics)"
wait "${pids[-1]}"
