// Active health probes eject a failing node and bring it back; /ready follows; passive failures
// on real traffic open a circuit for a cool-down.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chatBody, cleanupAll, request, startCluster, waitFor } from './harness.mjs';

after(cleanupAll);

const CHAT = '/v1/chat/completions';
const chats = async (u) => (await u.stats()).requests_by_path[CHAT] ?? 0;

describe('health probes', () => {
  test('a node failing probes is ejected, then returns', async () => {
    const { gw, up } = await startCluster({
      nodes: [
        { name: 'a', models: ['m1'] },
        { name: 'b', models: ['m1'] },
      ],
      health: { interval: '200ms', timeout: '200ms', unhealthy_threshold: 2, healthy_threshold: 1 },
    });
    const ejectionsBefore = await gw.metric('laneway_node_ejections_total', { node: 'a' });

    await up.a.control({ health: 503 });
    await gw.waitHealthy('a', 0, 5000);
    assert.equal(await gw.metric('laneway_node_healthy', { node: 'b' }), 1);
    assert.ok((await gw.metric('laneway_node_ejections_total', { node: 'a' })) > ejectionsBefore, 'ejection counted');
    assert.equal(await gw.ready(), 200, 'still ready with b');

    const aBefore = await chats(up.a);
    for (let i = 0; i < 4; i++) {
      const r = await request(`${gw.url}${CHAT}`, { json: chatBody('m1') });
      assert.equal(r.status, 200, r.text);
      assert.match(r.json.choices[0].message.content, /from b/);
    }
    assert.equal(await chats(up.a), aBefore, 'no traffic to the ejected node');

    await up.a.control({ health: 200 });
    await gw.waitHealthy('a', 1, 5000);
    const aBack = await chats(up.a);
    for (let i = 0; i < 4; i++) {
      const r = await request(`${gw.url}${CHAT}`, { json: chatBody('m1') });
      assert.equal(r.status, 200);
    }
    assert.ok((await chats(up.a)) > aBack, 'the returned node takes traffic again');
  });

  test('all nodes failing: /ready 503 and requests 503 no_healthy_node; then recovery', async () => {
    const { gw, up } = await startCluster({
      nodes: [
        { name: 'a', models: ['m1'] },
        { name: 'b', models: ['m1'] },
      ],
      health: { interval: '200ms', timeout: '200ms', unhealthy_threshold: 2, healthy_threshold: 1 },
    });
    await Promise.all([up.a.control({ health: 503 }), up.b.control({ health: 500 })]);
    await gw.waitHealthy(['a', 'b'], 0, 5000);
    await waitFor(async () => (await gw.ready()) === 503, 3000, '/ready 503');
    const r = await request(`${gw.url}${CHAT}`, { json: chatBody('m1') });
    assert.equal(r.status, 503, r.text);
    assert.equal(r.json.error.code, 'no_healthy_node');
    assert.equal((await request(`${gw.url}/health`)).status, 200, '/health stays 200');

    await up.b.control({ health: 200 });
    await waitFor(async () => (await gw.ready()) === 200, 5000, '/ready 200 again');
    const r2 = await request(`${gw.url}${CHAT}`, { json: chatBody('m1') });
    assert.equal(r2.status, 200, r2.text);
  });

  test('a probe that times out counts as failed', async () => {
    const { gw, up } = await startCluster({
      nodes: [
        { name: 'a', models: ['m1'] },
        { name: 'b', models: ['m1'] },
      ],
      health: { interval: '200ms', timeout: '150ms', unhealthy_threshold: 2, healthy_threshold: 1 },
    });
    await up.a.control({ health: 'hang' });
    await gw.waitHealthy('a', 0, 5000);
    await up.a.control({ health: 200 });
    await gw.waitHealthy('a', 1, 5000);
  });

  test('a node whose process died is ejected', async () => {
    const { gw, up } = await startCluster({
      nodes: [
        { name: 'a', models: ['m1'] },
        { name: 'b', models: ['m1'] },
      ],
      health: { interval: '200ms', timeout: '200ms', unhealthy_threshold: 2, healthy_threshold: 1 },
    });
    await up.a.stop();
    await gw.waitHealthy('a', 0, 5000);
    for (let i = 0; i < 3; i++) {
      const r = await request(`${gw.url}${CHAT}`, { json: chatBody('m1') });
      assert.equal(r.status, 200, r.text);
    }
  });

  test('the node health_path is probed', async () => {
    const { gw, up } = await startCluster({
      nodes: [{ name: 'a', models: ['m1'], health_path: '/v1/models' }],
      health: { interval: '200ms', timeout: '200ms', unhealthy_threshold: 2 },
    });
    await up.a.control({ reset_stats: true });
    await waitFor(async () => ((await up.a.stats()).requests_by_path['/v1/models'] ?? 0) >= 2, 3000, 'probes on /v1/models');
    await up.a.control({ health: 503 }); // /health fails, but it is not the probed path
    await waitFor(async () => ((await up.a.stats()).requests_by_path['/v1/models'] ?? 0) >= 6, 3000, 'more probes');
    assert.equal(await gw.metric('laneway_node_healthy', { node: 'a' }), 1);
    assert.equal((await up.a.stats()).requests_by_path['/health'] ?? 0, 0, '/health is not probed');
  });
});

describe('circuit breaker', () => {
  test('consecutive 5xx on traffic open the circuit; the node returns after the cool-down', async () => {
    // retries = 0 so that a's failures reach the client and can be counted one by one.
    const { gw, up } = await startCluster({
      nodes: [
        { name: 'a', models: ['m1'] },
        { name: 'b', models: ['m1'] },
      ],
      upstream: { retries: 0 },
      health: { circuit_failures: 2, circuit_cooldown: '1500ms' },
    });
    await up.a.control({ behavior: 'status-500' });
    // Ties rotate between a and b: a sees two of the first four requests, which opens its circuit.
    const statuses = [];
    for (let i = 0; i < 4; i++) {
      const r = await request(`${gw.url}${CHAT}`, { json: chatBody('m1') });
      statuses.push(r.status);
    }
    assert.equal(await chats(up.a), 2, `a got two requests (statuses ${statuses})`);
    assert.deepEqual(statuses.filter((x) => x === 500).length, 2, `a's two 500s reach the client: ${statuses}`);
    assert.equal(await gw.metric('laneway_node_healthy', { node: 'a' }), 0, 'an open circuit takes a out of rotation');
    assert.equal(await gw.metric('laneway_node_ejections_total', { node: 'a', reason: 'circuit' }), 1, 'ejection counted');
    for (let i = 0; i < 4; i++) {
      const r = await request(`${gw.url}${CHAT}`, { json: chatBody('m1') });
      assert.equal(r.status, 200, r.text);
    }
    assert.equal(await chats(up.a), 2, 'no traffic to a while its circuit is open');

    await up.a.control({ behavior: 'normal' });
    // After the cool-down a trial request goes to a again and closes the circuit.
    await waitFor(
      async () => {
        const r = await request(`${gw.url}${CHAT}`, { json: chatBody('m1') });
        return r.status === 200 && /from a/.test(r.json.choices[0].message.content);
      },
      6000,
      'a to take traffic again after the cool-down',
      100,
    );
    await gw.waitHealthy('a', 1, 3000);
  });
});
