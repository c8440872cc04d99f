// Prefix affinity for nodes that publish no KV events (`openai` kind, fake upstreams): the
// gateway remembers the byte blocks of prompts it sent to each node (the approximate index), so
// requests sharing a long system prompt follow the first one, and unrelated ones spread.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cleanupAll, gatewayConfig, request, startGateway, startUpstream } from './harness.mjs';

after(cleanupAll);

const SYSTEM = 'You are a careful assistant for the harbour office. '.repeat(12);  // ~600 bytes: 9 blocks of 64

describe('approximate prefix index', () => {
  let gw;
  before(async () => {
    const ups = await Promise.all(['f0', 'f1', 'f2'].map((name) => startUpstream({ name, models: ['m'] })));
    gw = await startGateway({
      config: gatewayConfig({ nodes: ups.map((u) => ({ name: u.name, url: u.url })), routing: { policy: 'kv_aware' } }),
    });
    await gw.waitHealthy(['f0', 'f1', 'f2']);
  });

  const send = async (system, user, id) => {
    const body = { model: 'm', messages: [{ role: 'system', content: system }, { role: 'user', content: user }] };
    const r = await request(`${gw.url}/v1/chat/completions`, { json: body, headers: { 'x-request-id': id } });
    assert.equal(r.status, 200, r.text);
    return gw.waitForLog((l) => l.msg === 'request' && l.request_id === id, 5000);
  };

  test('a shared system prompt follows its first node; unrelated prompts spread', async () => {
    const first = await send(SYSTEM, 'first', 'ap-0');
    assert.equal(first.matched_blocks, 0);
    for (let i = 1; i <= 4; i++) {
      const log = await send(SYSTEM, `question ${i}`, `ap-${i}`);
      assert.equal(log.node, first.node, `request ${i} went to ${log.node}`);
      assert.equal(log.route_reason, 'prefix');
      assert.ok(log.matched_blocks >= 9, `matched_blocks ${log.matched_blocks}`);
    }
    assert.ok((await gw.metric('laneway_prefix_index_blocks', { node: first.node })) >= 9, 'the approximate blocks are counted');
    const used = new Set();
    for (let i = 0; i < 6; i++) used.add((await send(`Unrelated prompt number ${i}. `.repeat(20), 'x', `un-${i}`)).node);
    assert.ok(used.size >= 2, `unrelated prompts all went to ${[...used]}`);
  });
});
