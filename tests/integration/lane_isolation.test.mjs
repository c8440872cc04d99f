// Lanes keep chat fast while a batch lane floods the nodes (two fake laneway nodes reporting
// 4 sequence slots each, so the gateway admits 8 at once): the batch lane may hold 6 of them and
// waits in its own queue for the rest; chat (higher priority) is admitted at once, and its p95
// latency under the flood stays within 1.5x of the unloaded one. Without the lanes, chat would
// wait behind 300 ms batch requests.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chatBody, cleanupAll, gatewayConfig, request, startGateway, startUpstream, waitFor } from './harness.mjs';

after(cleanupAll);

const LANES = `
[[lanes]]
name = "chat"
paths = ["/v1/chat/completions"]
priority = 10

[[lanes]]
name = "batch"
paths = ["/v1/completions"]
max_in_flight = 6
max_queue = 100
queue_timeout = "30s"

[[lanes]]
name = "default"
`;

function p95(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(0.95 * s.length) - 1)];
}

describe('lane isolation under a batch flood', () => {
  let gw;
  let ups;
  before(async () => {
    ups = await Promise.all(['n0', 'n1'].map((name) => startUpstream({ name, kind: 'laneway', models: ['m'] })));
    await Promise.all(ups.map((u) => u.control({ load: { max_seqs: 4 } })));
    gw = await startGateway({
      config: gatewayConfig({ nodes: ups.map((u) => ({ name: u.name, url: u.url, kind: 'laneway' })), routing: { load_interval: '50ms' }, raw: LANES }),
    });
    await gw.waitHealthy(['n0', 'n1']);
    await waitFor(async () => (await gw.metric('laneway_admission_capacity')) === 8, 5000, 'capacity 8');
  });

  const chatOnce = async () => {
    const t = Date.now();
    const r = await request(`${gw.url}/v1/chat/completions`, { json: chatBody('m'), headers: { 'x-fake-behavior': 'slow-headers-ms:40' } });
    assert.equal(r.status, 200, r.text);
    return Date.now() - t;
  };

  test('chat p95 with a flood on the batch lane is within 1.5x of unloaded', async () => {
    const unloaded = [];
    for (let i = 0; i < 12; i++) unloaded.push(await chatOnce());

    const flood = [];
    for (let i = 0; i < 40; i++) {
      flood.push(request(`${gw.url}/v1/completions`, {
        json: { model: 'm', prompt: `job ${i}` }, headers: { 'x-fake-behavior': 'slow-headers-ms:300' }, timeoutMs: 30000,
      }));
    }
    await waitFor(async () => (await gw.metric('laneway_lane_admissions_total', { lane: 'batch', result: 'queued' })) > 0, 5000,
      'the flood filling the batch lane');
    const loaded = [];
    for (let i = 0; i < 12; i++) loaded.push(await chatOnce());
    const batchQueuedDuringChat = await gw.metric('laneway_lane_admissions_total', { lane: 'batch', result: 'queued' });
    const results = await Promise.all(flood);
    assert.ok(results.every((r) => r.status === 200), 'every batch request was served in the end');

    const base = p95(unloaded);
    const under = p95(loaded);
    assert.ok(batchQueuedDuringChat >= 20, `the batch lane was saturated (${batchQueuedDuringChat} queued)`);
    assert.equal(await gw.metric('laneway_lane_admissions_total', { lane: 'chat', result: 'queued' }), 0, 'chat never queued');
    assert.ok(under <= 1.5 * base, `chat p95 ${under} ms under the flood vs ${base} ms unloaded`);
  });
});
