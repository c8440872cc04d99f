// A client that goes away makes the gateway close the upstream request at once, so the node
// stops generating; the gateway counts it and keeps serving.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chatBody, cleanupAll, openStream, request, startCluster, waitFor } from './harness.mjs';

after(cleanupAll);

describe('client disconnect', () => {
  let gw;
  let up;
  before(async () => {
    ({ gw, up } = await startCluster({ nodes: [{ name: 'a', models: ['m1'] }] }));
  });

  test('closing a held stream aborts the upstream stream', async () => {
    await up.a.control({ reset_stats: true });
    const before = await gw.metric('laneway_client_disconnects_total');
    const s = await openStream(`${gw.url}/v1/chat/completions`, {
      json: chatBody('m1', { stream: true }),
      headers: { 'x-fake-behavior': 'hold-after-first' },
    });
    assert.ok(await s.nextEvent(5000));
    await up.a.waitHeld(1);
    s.close();
    await waitFor(async () => (await up.a.stats()).aborted_streams === 1, 3000, 'the node to see its stream aborted');
    const st = await up.a.stats();
    assert.equal(st.held, 0);
    assert.equal(st.completed_streams, 0);
    await waitFor(
      async () => (await gw.metric('laneway_client_disconnects_total')) === before + 1,
      3000,
      'laneway_client_disconnects_total to rise by 1',
    );
    await waitFor(async () => (await gw.metric('laneway_in_flight_requests', { node: 'a' })) === 0, 3000, 'in-flight back to 0');
  });

  test('closing a stream while the node is still sending aborts it', async () => {
    await up.a.control({ reset_stats: true });
    const s = await openStream(`${gw.url}/v1/chat/completions`, {
      json: chatBody('m1', { stream: true }),
      headers: { 'x-fake-chunks': '200', 'x-fake-interval-ms': '20' },
    });
    await s.nextEvent(5000);
    await s.nextEvent(5000);
    s.close();
    await waitFor(async () => (await up.a.stats()).aborted_streams === 1, 3000, 'the node to see its stream aborted');
    assert.equal((await up.a.stats()).completed_streams, 0, 'the node did not get to finish');
  });

  test('the gateway keeps serving after disconnects', async () => {
    const r = await request(`${gw.url}/v1/chat/completions`, { json: chatBody('m1') });
    assert.equal(r.status, 200, r.text);
    const s = await openStream(`${gw.url}/v1/chat/completions`, { json: chatBody('m1', { stream: true }) });
    await s.end(5000);
    assert.equal(s.events.at(-1).data, '[DONE]');
  });
});
