// The main job end to end: a gateway in front of two real `laneway worker` processes serving the
// bundled model. Requests through the gateway equal requests to a worker directly, the request
// id reaches the worker's log, and losing one worker leaves the other serving.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cleanupAll, gatewayConfig, openStream, request, startGateway, startWorker, waitFor } from './harness.mjs';

after(cleanupAll);

describe('gateway in front of two workers', () => {
  let gw;
  let workers;
  before(async () => {
    workers = await Promise.all([
      startWorker({ label: 'worker-a', args: ['--kv-memory', '16MiB'] }),
      startWorker({ label: 'worker-b', args: ['--kv-memory', '16MiB'] }),
    ]);
    gw = await startGateway({
      config: gatewayConfig({ nodes: workers.map((w, i) => ({ name: `w${i}`, url: w.url, kind: 'laneway' })) }),
    });
    await gw.waitHealthy(['w0', 'w1']);
    await waitFor(async () => (await request(`${gw.url}/v1/models`)).json?.data?.some((m) => m.id === 'stories260K'),
      10000, 'the gateway to list stories260K');
  });

  const body = { model: 'stories260K', messages: [{ role: 'user', content: 'Tell me a story' }], temperature: 0, max_tokens: 20 };

  test('a chat completion through the gateway equals one from a worker directly', async () => {
    const direct = await request(`${workers[0].url}/v1/chat/completions`, { json: body });
    const via = await request(`${gw.url}/v1/chat/completions`, { json: body, headers: { 'x-request-id': 'gw-w-1' } });
    assert.equal(via.status, 200, via.text);
    assert.equal(via.json.choices[0].message.content, direct.json.choices[0].message.content);
    assert.equal(via.headers['x-request-id'], 'gw-w-1');
    await waitFor(() => workers.some((w) => w.logs.some((l) => l.msg === 'request' && l.request_id === 'gw-w-1')), 5000,
      'the request id in a worker log line');
  });

  test('streams relay event by event through the gateway', async () => {
    const s = await openStream(`${gw.url}/v1/chat/completions`, { json: { ...body, stream: true } });
    assert.equal(s.status, 200);
    await s.end(20000);
    assert.equal(s.events.at(-1).data, '[DONE]');
    assert.ok(s.events.length >= 20, `one event per token (got ${s.events.length})`);
  });

  test('with one worker gone, the other keeps serving', async () => {
    await workers[1].stop('SIGKILL');
    await gw.waitHealthy(['w1'], 0);
    for (let i = 0; i < 4; i++) {
      const r = await request(`${gw.url}/v1/chat/completions`, { json: body });
      assert.equal(r.status, 200, r.text);
    }
  });
});
