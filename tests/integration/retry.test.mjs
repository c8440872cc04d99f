// Retries: a request is tried on another node only while nothing has reached the client
// (connect failure, reset before the response head, 5xx). Once bytes went out, a stream ends with
// an SSE `event: error` and a plain response is cut; no second node sees the request.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chatBody, cleanupAll, openStream, request, startCluster } from './harness.mjs';

after(cleanupAll);

const CHAT = '/v1/chat/completions';

function chatCount(stats) {
  return stats.requests_by_path[CHAT] ?? 0;
}

// Sends `n` requests with distinct ids; returns their access log lines (in order).
async function sendAndLog(gw, n, prefix, extra = {}) {
  const lines = [];
  for (let i = 0; i < n; i++) {
    const id = `${prefix}-${i}`;
    const r = await request(`${gw.url}${CHAT}`, { json: chatBody('m1'), headers: { 'x-request-id': id, ...extra } });
    assert.equal(r.status, 200, `${id}: ${r.status} ${r.text}`);
    assert.match(r.json.choices[0].message.content, /Hello from b/, 'answered by the good node');
    lines.push(await gw.waitForLog((l) => l.msg === 'request' && l.request_id === id, 5000));
  }
  return lines;
}

describe('retry before the first byte', () => {
  for (const behavior of ['reset-before-headers', 'status-500', 'status-503']) {
    test(`node a ${behavior}, node b fine: every request succeeds`, async () => {
      const { gw, up } = await startCluster({
        nodes: [
          { name: 'a', models: ['m1'], behavior },
          { name: 'b', models: ['m1'] },
        ],
        upstream: { retries: 1 },
        health: { circuit_failures: 1000 },
      });
      const retriesBefore = await gw.metric('laneway_upstream_retries_total');
      // Ties rotate between the nodes, so of four requests some start on a.
      const lines = await sendAndLog(gw, 4, `retry-${behavior}`);
      const retried = lines.filter((l) => l.attempts === 2);
      assert.ok(retried.length >= 1, `some request was retried: ${JSON.stringify(lines.map((l) => [l.node, l.attempts]))}`);
      for (const l of lines) {
        assert.equal(l.node, 'b', 'the log names the node that answered');
        assert.equal(l.status, 200);
      }
      const a = await up.a.stats();
      assert.equal(chatCount(a), retried.length, 'node a saw exactly the retried requests');
      assert.equal(chatCount(await up.b.stats()), 4);
      const retries = (await gw.metric('laneway_upstream_retries_total')) - retriesBefore;
      assert.equal(retries, retried.length, 'laneway_upstream_retries_total counts them');
    });
  }

  test('a node that went away (connection refused) is skipped', async () => {
    // Slow probes: the gateway learns that a is gone from traffic, not from a probe.
    const { gw, up } = await startCluster({
      nodes: [
        { name: 'a', models: ['m1'] },
        { name: 'b', models: ['m1'] },
      ],
      upstream: { retries: 1 },
      health: { interval: '1m', timeout: '1s', unhealthy_threshold: 1000, circuit_failures: 1000 },
    });
    await up.a.stop();
    const lines = await sendAndLog(gw, 4, 'refused');
    assert.ok(
      lines.some((l) => l.attempts === 2),
      `some request found a gone and went on to b: ${JSON.stringify(lines.map((l) => [l.node, l.attempts]))}`,
    );
  });

  test('both nodes fail: 502 after trying each once', async () => {
    const { gw, up } = await startCluster({
      nodes: [
        { name: 'a', models: ['m1'], behavior: 'reset-before-headers' },
        { name: 'b', models: ['m1'], behavior: 'reset-before-headers' },
      ],
      upstream: { retries: 1 },
      health: { circuit_failures: 1000 },
    });
    const r = await request(`${gw.url}${CHAT}`, { json: chatBody('m1'), headers: { 'x-request-id': 'both-fail' } });
    assert.equal(r.status, 502, r.text);
    assert.ok(r.json?.error, 'OpenAI-style error body');
    const line = await gw.waitForLog((l) => l.msg === 'request' && l.request_id === 'both-fail', 5000);
    assert.equal(line.attempts, 2);
    assert.equal(line.status, 502);
    assert.ok(line.error);
    assert.equal(chatCount(await up.a.stats()), 1);
    assert.equal(chatCount(await up.b.stats()), 1);
  });

  test('retries = 0 never tries a second node', async () => {
    const { gw, up } = await startCluster({
      nodes: [
        { name: 'a', models: ['m1'], behavior: 'reset-before-headers' },
        { name: 'b', models: ['m1'], behavior: 'reset-before-headers' },
      ],
      upstream: { retries: 0 },
      health: { circuit_failures: 1000 },
    });
    const r = await request(`${gw.url}${CHAT}`, { json: chatBody('m1') });
    assert.equal(r.status, 502, r.text);
    assert.equal(chatCount(await up.a.stats()) + chatCount(await up.b.stats()), 1);
  });
});
