// What the gateway learns from each node kind, against fake_upstream.mjs --kind K answering the
// real servers' load endpoints in their formats: llama.cpp /metrics + /slots, vLLM /metrics,
// Ollama /api/ps, a laneway worker's /load and /v1/kv/events (snapshot, batches, reconnect and
// resync), and nothing at all from a generic `openai` node.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cleanupAll, gatewayConfig, startGateway, startUpstream, waitFor } from './harness.mjs';

after(cleanupAll);

describe('node kinds', () => {
  let gw;
  const up = {};
  before(async () => {
    const kinds = ['llamacpp', 'vllm', 'ollama', 'laneway', 'openai'];
    await Promise.all(kinds.map(async (kind) => {
      up[kind] = await startUpstream({ name: kind, kind, models: [`m-${kind}`] });
    }));
    await up.llamacpp.control({ load: { running: 3, waiting: 2, slots: 6, prefill_tokens_per_s: 812.5 } });
    await up.vllm.control({ load: { running: 4, waiting: 6, kv_usage: 0.42 } });
    await up.laneway.control({ load: { running: 1, kv_blocks_total: 100, kv_blocks_free: 40, kv_hashes: ['00000000000000a1', '00000000000000a2'] } });
    gw = await startGateway({
      config: gatewayConfig({
        nodes: kinds.map((kind) => ({ name: kind, url: up[kind].url, kind })),
        routing: { load_interval: '100ms', kv_events_backoff_max: '200ms' },
      }),
    });
    await gw.waitHealthy(kinds);
  });

  test('llama.cpp: llamacpp:requests_processing / requests_deferred and /slots', async () => {
    await waitFor(async () => (await gw.metric('laneway_node_reported_running', { node: 'llamacpp' })) === 3, 5000, 'running 3');
    assert.equal(await gw.metric('laneway_node_reported_waiting', { node: 'llamacpp' }), 2);
    const stats = await up.llamacpp.stats();
    assert.ok(stats.requests_by_path['/slots'] > 0, 'the gateway reads /slots');
  });

  test('vLLM: vllm:num_requests_running / waiting and kv_cache_usage_perc', async () => {
    await waitFor(async () => (await gw.metric('laneway_node_reported_running', { node: 'vllm' })) === 4, 5000, 'running 4');
    assert.equal(await gw.metric('laneway_node_reported_waiting', { node: 'vllm' }), 6);
    assert.equal(await gw.metric('laneway_node_kv_usage', { node: 'vllm' }), 0.42);
  });

  test('Ollama: /api/ps is read', async () => {
    await waitFor(async () => (await gw.metric('laneway_node_load_reports_total', { node: 'ollama', result: 'ok' })) > 0, 5000,
      'an Ollama load report');
    assert.ok((await up.ollama.stats()).requests_by_path['/api/ps'] > 0);
    assert.equal(await gw.metric('laneway_node_load_reports_total', { node: 'ollama', result: 'error' }), 0);
  });

  test('openai: nothing is polled beyond health and models', async () => {
    await waitFor(async () => (await gw.metric('laneway_node_load_reports_total', { node: 'llamacpp' })) >= 3, 5000, 'a few polls');
    const paths = Object.keys((await up.openai.stats()).requests_by_path);
    assert.deepEqual(paths.filter((p) => p !== '/health' && p !== '/v1/models'), [], `polled paths: ${paths}`);
    assert.equal(await gw.metric('laneway_node_load_reports_total', { node: 'openai' }), 0);
  });

  test('laneway: /load, then the KV event stream: snapshot, batches, resync after a disconnect', async () => {
    await waitFor(async () => (await gw.metric('laneway_node_kv_usage', { node: 'laneway' })) === 0.6, 5000, 'kv usage 0.6 from /load');
    await waitFor(async () => (await gw.metric('laneway_prefix_index_blocks', { node: 'laneway' })) === 2, 5000,
      'the snapshot indexed');
    await up.laneway.control({ kv: { stored: ['00000000000000b1', '00000000000000b2'], removed: ['00000000000000a1'] } });
    await waitFor(async () => (await gw.metric('laneway_prefix_index_blocks', { node: 'laneway' })) === 3, 5000,
      'the batch applied');
    assert.equal(await gw.metric('laneway_kv_events_total', { node: 'laneway', event: 'batch' }), 1);

    await up.laneway.control({ kv_disconnect: true });
    await gw.waitForLog((l) => l.msg === 'kv events stream lost; index entries dropped' && l.node === 'laneway', 5000);
    await waitFor(async () => (await gw.metric('laneway_kv_events_total', { node: 'laneway', event: 'snapshot' })) >= 2, 5000,
      'a second snapshot after the reconnect');
    await waitFor(async () => (await gw.metric('laneway_prefix_index_blocks', { node: 'laneway' })) === 3, 5000,
      'the index resynced from the new snapshot');
  });
});
