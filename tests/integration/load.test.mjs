// A short burst of concurrent traffic (not a benchmark): 200 requests at once, streaming and
// not, over two nodes and two I/O threads. Every answer is complete and belongs to its request;
// the in-flight gauges return to zero.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chatBody, cleanupAll, openStream, request, startCluster, waitFor } from './harness.mjs';

after(cleanupAll);

describe('concurrent burst', () => {
  test('200 concurrent requests all complete correctly', async () => {
    const { gw, up } = await startCluster({
      nodes: [
        { name: 'a', models: ['m1'] },
        { name: 'b', models: ['m1'] },
      ],
      server: { io_threads: 2 },
    });
    const jobs = Array.from({ length: 200 }, async (_, i) => {
      const id = `burst-${i}`;
      const n = 1 + (i % 7);
      const headers = { 'x-request-id': id, 'x-fake-chunks': String(n), 'x-fake-interval-ms': String(i % 3) };
      if (i % 2 === 0) {
        const s = await openStream(`${gw.url}/v1/chat/completions`, { json: chatBody('m1', { stream: true }), headers, timeoutMs: 20000 });
        assert.equal(s.status, 200, id);
        assert.equal(s.headers['x-request-id'], id);
        const end = await s.end(20000);
        assert.equal(end.ended, true, `${id}: ${end.error?.message}`);
        assert.equal(s.events.length, n + 1, `${id}: events`);
        assert.equal(s.events.at(-1).data, '[DONE]');
      } else {
        const r = await request(`${gw.url}/v1/chat/completions`, { json: chatBody('m1'), headers, timeoutMs: 20000 });
        assert.equal(r.status, 200, `${id}: ${r.text}`);
        assert.equal(r.headers['x-request-id'], id);
        assert.equal(r.json.usage.completion_tokens, n, `${id}: its own answer`);
      }
    });
    const results = await Promise.allSettled(jobs);
    const failed = results.filter((r) => r.status === 'rejected').map((r) => r.reason?.message);
    assert.deepEqual(failed.slice(0, 5), [], `${failed.length} of 200 failed`);
    const [a, b] = [await up.a.stats(), await up.b.stats()];
    const total = (a.requests_by_path['/v1/chat/completions'] ?? 0) + (b.requests_by_path['/v1/chat/completions'] ?? 0);
    assert.equal(total, 200, 'each request reached exactly one node once');
    assert.ok((a.requests_by_path['/v1/chat/completions'] ?? 0) >= 50, 'both nodes took a share');
    assert.ok((b.requests_by_path['/v1/chat/completions'] ?? 0) >= 50, 'both nodes took a share');
    await waitFor(
      async () =>
        (await gw.metric('laneway_in_flight_requests', { node: 'a' })) === 0 &&
        (await gw.metric('laneway_in_flight_requests', { node: 'b' })) === 0,
      3000,
      'in-flight back to 0',
    );
    const samples = await gw.samples('laneway_requests_total');
    const ok = samples.filter((s) => s.labels.route === 'chat_completions' && s.labels.code === '200').reduce((x, s) => x + s.value, 0);
    assert.equal(ok, 200, 'laneway_requests_total{route="chat_completions",code="200"}');
  });
});
