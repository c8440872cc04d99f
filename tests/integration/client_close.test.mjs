// A client that closes its connection right after it has received a complete response (any
// one-shot client: curl, `Connection: close`) has not disconnected early: the request is a
// success, not a client disconnect, and the upstream connection stays reusable.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chatBody, cleanupAll, request, startCluster } from './harness.mjs';

after(cleanupAll);

describe('client closing after a complete response', () => {
  let gw;
  before(async () => {
    ({ gw } = await startCluster({ nodes: [{ name: 'a', models: ['m1'] }], server: { io_threads: 1 } }));
  });

  for (const [what, headers] of [
    ['node keeps its connection', {}],
    ['node closes its connection', { 'x-fake-behavior': 'close-after-response' }],
  ]) {
    test(`300 one-shot requests are not client disconnects (${what})`, async () => {
      const before = await gw.metric('laneway_client_disconnects_total');
      const ids = [];
      for (let i = 0; i < 300; i++) {
        const id = `oneshot-${what.replace(/\W+/g, '-')}-${i}`;
        ids.push(id);
        // request() uses a fresh connection with "Connection: close" and closes it as soon as
        // the body is complete.
        const r = await request(`${gw.url}/v1/chat/completions`, { json: chatBody('m1'), headers: { ...headers, 'x-request-id': id } });
        assert.equal(r.status, 200);
      }
      const after = await gw.metric('laneway_client_disconnects_total');
      const flagged = gw.accessLogs().filter((l) => ids.includes(l.request_id) && l.error);
      assert.deepEqual(
        flagged.map((l) => `${l.request_id}: ${l.error}`),
        [],
        'complete responses are not logged as errors',
      );
      assert.equal(after - before, 0, 'laneway_client_disconnects_total does not move');
    });
  }
});
