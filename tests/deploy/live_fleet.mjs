// A small live fleet for the checks that compare files against what the code really exports: a
// `laneway worker` on the bundled model and a gateway with two lanes in front of it (kind
// laneway: /load polling, KV events), with real requests sent through it so every labelled
// family has samples. Used by tests/deploy (dashboard, promtool check metrics) and tests/docs
// (metric names in docs/metrics.md).
import {
  gatewayConfig, parsePrometheus, request, startGateway, startWorker, waitFor,
} from '../integration/harness.mjs';

const LANES = `
[[lanes]]
name = "chat"
paths = ["/v1/chat/completions"]
priority = 10
max_queue = 8
context_budget = 512

[[lanes]]
name = "default"
max_in_flight = 2
max_queue = 8
context_budget = 512
`;

// Sample names plus family names (a histogram `x` is listed as x, x_bucket, x_sum, x_count).
export function exposedNames(text) {
  const names = new Set(parsePrometheus(text).map((s) => s.name));
  for (const m of text.matchAll(/^# TYPE (\S+) /gm)) names.add(m[1]);
  return names;
}

export async function startFleet() {
  const args = ['--kv-memory', '16MiB', '--max-seqs', '4', '--step-tokens', '64'];
  const worker = await startWorker({ args });
  // node-b is stopped once the requests are done, so the ejection family has samples too.
  const second = await startWorker({ args, label: 'worker-b' });
  const gw = await startGateway({
    config: gatewayConfig({
      nodes: [{ name: 'node-a', url: worker.url, kind: 'laneway' }, { name: 'node-b', url: second.url, kind: 'laneway' }],
      routing: { policy: 'kv_aware', load_interval: '100ms' },
      raw: LANES,
    }),
  });
  await gw.waitHealthy(['node-a', 'node-b']);
  await waitFor(async () => (await request(`${gw.url}/v1/models`)).json?.data?.length > 0, 10000, 'the worker model listed');
  const body = (stream) => ({
    model: 'stories260K', max_tokens: 8, temperature: 0, stream,
    messages: [{ role: 'user', content: 'Once upon a time there was a little cat who liked to play in the sun.' }],
  });
  // Twice the same prompt: the second one hits the worker's prefix cache.
  for (let i = 0; i < 2; i++) {
    const r = await request(`${gw.url}/v1/chat/completions`, { json: body(false), timeoutMs: 30000 });
    if (r.status !== 200) throw new Error(`chat completion through the gateway: ${r.status} ${r.text}`);
  }
  const s = await request(`${gw.url}/v1/completions`, {
    json: { model: 'stories260K', prompt: 'Once upon a time', max_tokens: 4, temperature: 0 }, timeoutMs: 30000,
  });
  if (s.status !== 200) throw new Error(`completion through the gateway: ${s.status} ${s.text}`);
  await second.stop();
  await waitFor(async () => (await gw.metric('laneway_node_ejections_total', { node: 'node-b' })) > 0, 10000,
    'node-b ejected by its probes once stopped');
  // The load poller has read /load at least once after the requests.
  await waitFor(async () => (await gw.metric('laneway_node_load_reports_total', { node: 'node-a', result: 'ok' })) > 2,
    10000, 'load reports from node-a');
  return {
    gw,
    worker,
    async scrape() {
      const [g, w] = await Promise.all([gw.metrics(), worker.metrics()]);
      return { gateway: g, worker: w, names: new Set([...exposedNames(g), ...exposedNames(w)]) };
    },
  };
}
