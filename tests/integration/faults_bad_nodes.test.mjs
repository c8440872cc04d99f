// Nodes that misbehave at the byte level (faults_node.mjs, a raw TCP server) and a node that goes
// silent (accepts, never answers): the client always gets a clear answer in bounded time — 502 or
// 504 with an OpenAI error body, or an SSE error event once a stream has started — the node is
// marked (upstream error counters, ejection), and the gateway and the other nodes keep serving.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  chatBody, cleanupAll, errorOf, FAULTS_NODE, openStream, request, startGatewayOver, startUpstream,
} from './harness.mjs';

after(cleanupAll);

const CHAT = '/v1/chat/completions';

const startFaultsNode = ({ name, models = ['m1'], fault = 'ok' }) =>
  startUpstream({ script: FAULTS_NODE, label: `faults:${name}`, name, models, args: ['--fault', fault] });

// A gateway over the given nodes ({name, url, models}); waits until all are healthy.
const gatewayOver = (nodes, sections = {}) =>
  startGatewayOver(nodes.map((n) => ({ name: n.name, url: n.url, models: n.models })), { model: 'm1', ...sections });

async function stillServing(gw, headers = {}) {
  assert.equal((await request(`${gw.url}/health`)).status, 200);
  const r = await request(`${gw.url}${CHAT}`, { json: chatBody('m1'), headers });
  assert.equal(r.status, 200, `the gateway still serves: ${r.text}`);
  return r;
}

describe('a node that sends garbage', () => {
  test('non-HTTP bytes, a broken chunked body, invalid JSON in a 200: 502 with a JSON body naming the node', async () => {
    const g = await startFaultsNode({ name: 'g' });
    const gw = await gatewayOver([{ ...g, models: ['m1'] }], { upstream: { retries: 0 }, health: { circuit_failures: 1000 } });
    for (const fault of ['garbage', 'bad-chunked', 'invalid-json']) {
      const t0 = Date.now();
      const r = await request(`${gw.url}${CHAT}`, { json: chatBody('m1'), headers: { 'x-fault': fault, 'x-request-id': `bad-${fault}` } });
      assert.equal(r.status, 502, `${fault}: ${r.status} ${r.text}`);
      const err = errorOf(r);
      assert.match(err.code, /^upstream_/, fault);
      assert.match(err.message, /node g/, `${fault}: the message names the node: ${err.message}`);
      assert.ok(Date.now() - t0 < 5000, `${fault}: answered in ${Date.now() - t0} ms`);
      const line = await gw.waitForLog((l) => l.msg === 'request' && l.request_id === `bad-${fault}`);
      assert.equal(line.status, 502, `${fault}: the access log has the status the client saw`);
    }
    assert.equal((await g.stats()).requests, 3, 'no retries: the node saw each request once');
    assert.ok((await gw.metric('laneway_upstream_errors_total', { node: 'g' })) >= 3, 'counted against the node');
    await stillServing(gw, { 'x-fault': 'ok' });
  });

  test('a broken stream after its first event: the event arrives, then an SSE error event, then a clean end', async () => {
    const g = await startFaultsNode({ name: 'g' });
    const gw = await gatewayOver([{ ...g, models: ['m1'] }], { upstream: { retries: 0 }, health: { circuit_failures: 1000 } });
    for (const fault of ['sse-bad-chunked', 'sse-cut-mid-event']) {
      const s = await openStream(`${gw.url}${CHAT}`, { json: chatBody('m1', { stream: true }), headers: { 'x-fault': fault } });
      assert.equal(s.status, 200, fault);
      const end = await s.end(5000);
      assert.equal(end.ended, true, `${fault}: the chunked body ends properly (error: ${end.error?.message})`);
      assert.equal(JSON.parse(s.events[0].data).choices[0].delta.content, 'Hello', `${fault}: the good event went through`);
      const last = s.events.at(-1);
      assert.equal(last.event, 'error', `${fault}: ends with an error event: ${s.text}`);
      assert.match(JSON.parse(last.data).error.code, /^upstream_/, fault);
      // Every event the client sees is whole: a half event from the node is never relayed.
      for (const e of s.events) assert.doesNotThrow(() => JSON.parse(e.data), `${fault}: event data is JSON: ${e.raw}`);
      assert.equal(s.events.length, 2, `${fault}: the good event and the error event: ${s.text}`);
    }
    await stillServing(gw, { 'x-fault': 'ok' });
  });

  test('a node whose 200s keep breaking opens its circuit; its traffic moves to the other node', async () => {
    const g = await startFaultsNode({ name: 'g', fault: 'invalid-json' });
    const b = await startUpstream({ name: 'b', models: ['m1'] });
    const gw = await gatewayOver([{ ...g, models: ['m1'] }, { ...b, models: ['m1'] }], {
      health: { circuit_failures: 3, circuit_cooldown: '60s' },
    });
    const statuses = [];
    for (let i = 0; i < 12; i++) statuses.push((await request(`${gw.url}${CHAT}`, { json: chatBody('m1') })).status);
    assert.equal(statuses.filter((x) => x === 502).length, 3, `three broken answers, then the circuit opened: ${statuses}`);
    assert.deepEqual(statuses.slice(-4), [200, 200, 200, 200], 'then every request goes to b');
    assert.equal(await gw.metric('laneway_node_ejections_total', { node: 'g', reason: 'circuit' }), 1);
    await gw.waitHealthy(['g'], 0);
  });

  test('garbage before the response head is retried on another node', async () => {
    const g = await startFaultsNode({ name: 'g', fault: 'garbage' });
    const b = await startUpstream({ name: 'b', models: ['m1'] });
    const gw = await gatewayOver([{ ...g, models: ['m1'] }, { ...b, models: ['m1'] }], {
      upstream: { retries: 1 },
      health: { circuit_failures: 1000 },
    });
    for (let i = 0; i < 4; i++) {
      const r = await request(`${gw.url}${CHAT}`, { json: chatBody('m1') });
      assert.equal(r.status, 200, r.text);
      assert.match(r.json.choices[0].message.content, /from b/);
    }
    assert.ok((await g.stats()).requests >= 1, 'some request went to g first');
  });
});

describe('a node that accepts and never answers', () => {
  test('504 in bounded time, the node is ejected, the other node keeps serving', async () => {
    const s = await startFaultsNode({ name: 's', models: ['m1', 'm2'] });
    const b = await startUpstream({ name: 'b', models: ['m1'] });
    const gw = await gatewayOver([{ ...s, models: ['m1', 'm2'] }, { ...b, models: ['m1'] }], {
      upstream: { response_timeout: '1s', retries: 1 },
      health: { circuit_failures: 1000 },
    });
    await s.control({ silent: true });
    // m2 is served by s alone: the client waits response_timeout, not forever.
    const t0 = Date.now();
    const r = await request(`${gw.url}${CHAT}`, { json: chatBody('m2'), timeoutMs: 10000 });
    const took = Date.now() - t0;
    assert.equal(r.status, 504, r.text);
    assert.equal(errorOf(r).code, 'upstream_timeout');
    assert.ok(took >= 900 && took < 4000, `answered after response_timeout (${took} ms)`);
    // Its probes time out too: it is ejected and shown as such.
    await gw.waitHealthy(['s'], 0);
    assert.ok((await gw.metric('laneway_node_ejections_total', { node: 's' })) >= 1);
    // m1 goes to b; m2 has no routable node left and says so at once.
    for (let i = 0; i < 4; i++) await stillServing(gw);
    const none = await request(`${gw.url}${CHAT}`, { json: chatBody('m2') });
    assert.equal(none.status, 503, none.text);
    assert.equal(errorOf(none).code, 'no_healthy_node');
    assert.equal(await gw.ready(), 200, 'the gateway is still ready: b is healthy');
  });
});
