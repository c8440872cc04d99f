// No retry once bytes reached the client: a stream the node cuts ends with an SSE
// `event: error` (no [DONE]); a plain response the node cuts closes the client connection.
// In both cases only one node ever sees the request.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chatBody, cleanupAll, openStream, request, startCluster } from './harness.mjs';

after(cleanupAll);

const CHAT = '/v1/chat/completions';

function chatCount(stats) {
  return stats.requests_by_path[CHAT] ?? 0;
}

describe('no retry after the first byte', () => {
  test('a stream cut by the node ends with an SSE error event; one node saw it', async () => {
    const { gw, up } = await startCluster({
      nodes: [
        { name: 'a', models: ['m1'] },
        { name: 'b', models: ['m1'] },
      ],
      upstream: { retries: 1 },
      health: { circuit_failures: 1000 },
    });
    const s = await openStream(`${gw.url}${CHAT}`, {
      json: chatBody('m1', { stream: true }),
      headers: { 'x-fake-behavior': 'reset-mid-stream', 'x-request-id': 'mid-stream' },
    });
    assert.equal(s.status, 200);
    await s.end(5000);
    assert.ok(s.events.length >= 2, `got ${JSON.stringify(s.events)}`);
    assert.equal(JSON.parse(s.events[0].data).choices[0].delta.content, 'Hello', 'the first event went through');
    const last = s.events.at(-1);
    assert.equal(last.event, 'error', `the stream ends with an error event: ${s.text}`);
    const err = JSON.parse(last.data).error;
    assert.equal(typeof err.message, 'string');
    assert.ok('code' in err && 'type' in err);
    assert.ok(!s.events.some((e) => e.data === '[DONE]'), 'no [DONE] after a failure');
    const seen = chatCount(await up.a.stats()) + chatCount(await up.b.stats());
    assert.equal(seen, 1, 'only one node saw the request');
    const line = await gw.waitForLog((l) => l.msg === 'request' && l.request_id === 'mid-stream', 5000);
    assert.equal(line.attempts, 1);
    assert.ok(line.error, 'the access log records the failure');
  });

  test('a plain response cut by the node closes the client connection; one node saw it', async () => {
    const { gw, up } = await startCluster({
      nodes: [
        { name: 'a', models: ['m1'] },
        { name: 'b', models: ['m1'] },
      ],
      upstream: { retries: 1 },
      health: { circuit_failures: 1000 },
    });
    let outcome;
    try {
      const r = await request(`${gw.url}${CHAT}`, { json: chatBody('m1'), headers: { 'x-fake-behavior': 'reset-mid-stream' } });
      outcome = `status ${r.status}`;
      // A gateway that buffered the whole body before answering may answer 502 instead.
      assert.equal(r.status, 502, `a cut response is not passed off as complete: ${r.text}`);
    } catch (e) {
      outcome = `error ${e.message}`;
    }
    assert.ok(outcome, 'the request finished one way or another');
    const seen = chatCount(await up.a.stats()) + chatCount(await up.b.stats());
    assert.equal(seen, 1, `only one node saw the request (${outcome})`);
  });
});
