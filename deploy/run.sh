#!/usr/bin/env bash
# Command (1): sets up a fresh machine, builds laneway, and runs the main job: a gateway in front
# of two local `laneway worker` nodes serving the bundled model (backends/worker/models/
# stories260K.gguf, or LANEWAY_MODEL), answering a real chat completion (plain and streamed).
# Keeps serving until Ctrl-C; `--once` stops after the demo.
# Environment: LANEWAY_LISTEN (default 127.0.0.1:8080), LANEWAY_MODEL (a GGUF file),
# LANEWAY_WORKER_THREADS (forward-pass threads per worker, default 1).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
once=0
[[ "${1:-}" == "--once" ]] && once=1
listen=${LANEWAY_LISTEN:-127.0.0.1:8080}
threads=${LANEWAY_WORKER_THREADS:-1}

"$root/deploy/setup.sh"
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

# Waits (bounded, 30 s) for a line matching $2 in file $1 and prints it.
wait_line() {
  for _ in $(seq 1 300); do
    if line=$(grep -m1 "$2" "$1" 2>/dev/null); then echo "$line"; return 0; fi
    sleep 0.1
  done
  echo "run: timed out waiting for '$2' in $1" >&2
  cat "$1" >&2
  return 1
}

model_args=()
[[ -n "${LANEWAY_MODEL:-}" ]] && model_args=(-m "$LANEWAY_MODEL")
config="$run_dir/gateway.toml"
printf '[server]\nlisten = "%s"\n[health]\ninterval = "1s"\ntimeout = "500ms"\n' "$listen" >"$config"
for name in node-a node-b; do
  "$laneway" worker "${model_args[@]}" --port 0 --threads "$threads" --kv-memory 256MiB >"$run_dir/$name.log" 2>&1 &
  pids+=($!)
  port=$(wait_line "$run_dir/$name.log" '"msg":"listening"' | sed -E 's/.*"address":"[^"]*:([0-9]+)".*/\1/')
  printf '[[nodes]]\nname = "%s"\nkind = "laneway"\nurl = "http://127.0.0.1:%s"\n' "$name" "$port" >>"$config"
  echo "== worker $name on 127.0.0.1:$port ($(grep -m1 '"msg":"kv cache"' "$run_dir/$name.log" | sed -E 's/.*"kv_pool":"([^"]+)".*"kv_tokens":([0-9]+).*/KV pool \1, \2 tokens/'))"
done

"$laneway" gateway -c "$config" 2> >(tee "$run_dir/gateway.log" >&2) &
pids+=($!)
address=$(wait_line "$run_dir/gateway.log" '"msg":"listening"' | sed -E 's/.*"address":"([^"]+)".*/\1/')
url="http://$address"
for _ in $(seq 1 300); do curl -fs "$url/ready" >/dev/null && break; sleep 0.1; done
curl -fs "$url/ready" >/dev/null || { echo "run: the gateway never became ready" >&2; exit 1; }
model=""
for _ in $(seq 1 100); do
  model=$(curl -fsS "$url/v1/models" | sed -nE 's/.*"id":"([^"]+)".*/\1/p')
  [[ -n "$model" ]] && break
  sleep 0.1
done
[[ -n "$model" ]] || { echo "run: the gateway lists no model" >&2; exit 1; }

echo
echo "== laneway gateway on $url (config $config), model $model"
echo "== POST $url/v1/chat/completions"
curl -fsS "$url/v1/chat/completions" -H 'Content-Type: application/json' \
  -d "{\"model\":\"$model\",\"max_tokens\":48,\"temperature\":0,\"messages\":[{\"role\":\"user\",\"content\":\"Tell me a story about a cat\"}]}"
echo
echo "== the same, streamed (stream: true)"
curl -fsSN "$url/v1/chat/completions" -H 'Content-Type: application/json' \
  -d "{\"model\":\"$model\",\"max_tokens\":16,\"temperature\":0,\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"Tell me a story about a cat\"}]}"
echo "== models: $(curl -fsS "$url/v1/models")"
if (( once )); then exit 0; fi
# A line to copy into another terminal while this one serves (single quotes: no shell escaping).
echo
echo "== serving on $url until Ctrl-C (metrics: $url/metrics; worker logs in $run_dir). Try it:"
echo "curl -s $url/v1/chat/completions -H 'Content-Type: application/json' -d '{\"model\":\"$model\",\"max_tokens\":48,\"messages\":[{\"role\":\"user\",\"content\":\"Tell me a story about a dog\"}]}'"
wait "${pids[-1]}"
