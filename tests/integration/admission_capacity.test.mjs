// Capacity from what nodes report (fake laneway nodes: /load's max_seqs, kv_blocks_total and
// block_size): a lane's KV contract (context_budget against the node's KV capacity) keeps a
// second request off a full node until the first finishes; when the gateway is saturated (its
// in-flight count reaches the nodes' sequence slots) a sheddable lane gets 503 shed while a
// non-sheddable one waits in its queue.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chatBody, cleanupAll, errorOf, gatewayConfig, request, startGateway, startUpstream, waitFor } from './harness.mjs';

after(cleanupAll);

const LANES = `
[[lanes]]
name = "chat"
paths = ["/v1/chat/completions"]
priority = 10
max_queue = 4
queue_timeout = "5s"
context_budget = 100

[[lanes]]
name = "bulk"
paths = ["/v1/completions"]
sheddable = true
max_queue = 4
queue_timeout = "5s"

[[lanes]]
name = "default"
`;

describe('capacity from node reports', () => {
  let gw;
  let up;
  before(async () => {
    up = await startUpstream({ name: 'x', kind: 'laneway', models: ['m'] });
    // 10 blocks of 16 tokens = 160 tokens of KV: one chat request (budget 100) at a time.
    await up.control({ load: { max_seqs: 8, kv_blocks_total: 10, kv_blocks_free: 10 } });
    gw = await startGateway({
      config: gatewayConfig({ nodes: [{ name: 'x', url: up.url, kind: 'laneway' }], routing: { load_interval: '50ms' }, raw: LANES }),
    });
    await gw.waitHealthy(['x']);
    await waitFor(async () => (await gw.metric('laneway_node_load_reports_total', { node: 'x', result: 'ok' })) > 0, 5000, 'a report');
  });

  const chats = async () => (await up.stats()).requests_by_path['/v1/chat/completions'] ?? 0;
  const held = { 'x-fake-behavior': 'hold-after-first' };

  test('the KV contract holds a second request until the node has room', async () => {
    const first = request(`${gw.url}/v1/chat/completions`, { json: chatBody('m'), headers: held, timeoutMs: 20000 });
    await up.waitHeld(1);
    const second = request(`${gw.url}/v1/chat/completions`, { json: chatBody('m'), timeoutMs: 20000 });
    await waitFor(async () => (await gw.metric('laneway_lane_admissions_total', { lane: 'chat', result: 'kv_contract_wait' })) === 1,
      5000, 'the second request waiting for the KV contract');
    assert.equal(await chats(), 1, 'the node got only the request it can hold');
    await up.control({ release: true });
    assert.equal((await first).status, 200);
    const r = await second;
    assert.equal(r.status, 200, r.text);
    assert.equal(await chats(), 2);
  });

  test('saturated: the sheddable lane is shed (503), the other waits its turn', async () => {
    // The capacity gauge follows the node's reports (every 50 ms); wait for the current one.
    await waitFor(async () => (await gw.metric('laneway_admission_capacity')) === 8, 5000, 'capacity 8 from the reports');
    await up.control({ load: { max_seqs: 1 } });
    // The gateway's capacity is now the node's single sequence slot.
    await waitFor(async () => (await gw.metric('laneway_admission_capacity')) === 1, 5000, 'capacity 1');
    const first = request(`${gw.url}/v1/chat/completions`, { json: chatBody('m'), headers: held, timeoutMs: 20000 });
    await up.waitHeld(1);
    const bulk = await request(`${gw.url}/v1/completions`, { json: { model: 'm', prompt: 'hi' } });
    assert.equal(bulk.status, 503, bulk.text);
    assert.equal(errorOf(bulk).code, 'shed');
    assert.ok(Number(bulk.headers['retry-after']) >= 1);
    const chat = request(`${gw.url}/v1/chat/completions`, { json: chatBody('m'), timeoutMs: 20000 });
    await waitFor(async () => (await gw.metric('laneway_lane_admissions_total', { lane: 'chat', result: 'queued' })) === 1,
      5000, 'the chat request queued, not shed');
    await up.control({ release: true });
    assert.equal((await first).status, 200);
    assert.equal((await chat).status, 200);
  });
});
