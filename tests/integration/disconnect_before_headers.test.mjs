// A client that leaves before the node has sent its response head (a non-streaming request
// still generating, or a long prefill) must also make the gateway drop the upstream request,
// so the node stops working on it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { chatBody, cleanupAll, request, startCluster, waitFor } from './harness.mjs';

after(cleanupAll);

describe('client disconnect before the response head', () => {
  let gw;
  let up;
  before(async () => {
    ({ gw, up } = await startCluster({ nodes: [{ name: 'a', models: ['m1'] }] }));
  });

  test('a client leaving while the node has not answered yet cancels the upstream request', async () => {
    await up.a.control({ reset_stats: true });
    const req = http.request(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-fake-behavior': 'hold-after-first' },
      agent: false,
    });
    req.on('error', () => {});
    req.end(JSON.stringify(chatBody('m1')));
    await up.a.waitHeld(1);
    req.destroy();
    await waitFor(async () => (await up.a.stats()).aborted_requests === 1, 3000, 'the node to see the request abandoned');
    assert.equal((await up.a.stats()).held, 0);
  });

  test('the disconnect is counted and the gateway keeps serving', async () => {
    await waitFor(async () => (await gw.metric('laneway_client_disconnects_total')) >= 1, 3000, 'laneway_client_disconnects_total >= 1');
    await waitFor(async () => (await gw.metric('laneway_in_flight_requests', { node: 'a' })) === 0, 3000, 'in-flight back to 0');
    const r = await request(`${gw.url}/v1/chat/completions`, { json: chatBody('m1') });
    assert.equal(r.status, 200, r.text);
  });
});
