// SSE relay: events reach the client one by one as the node sends them (no buffering), the
// content is relayed unchanged, and the in-flight gauge follows the stream.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chatBody, cleanupAll, openStream, request, startCluster, waitFor } from './harness.mjs';

after(cleanupAll);

describe('streaming relay', () => {
  let gw;
  let up;
  before(async () => {
    ({ gw, up } = await startCluster({ nodes: [{ name: 'a', models: ['m1'] }] }));
  });

  test('the first event arrives while the node still holds the rest', async () => {
    await up.a.control({ reset_stats: true });
    const s = await openStream(`${gw.url}/v1/chat/completions`, {
      json: chatBody('m1', { stream: true }),
      headers: { 'x-fake-behavior': 'hold-after-first', 'x-fake-chunks': '4' },
    });
    assert.equal(s.status, 200);
    assert.match(String(s.headers['content-type']), /^text\/event-stream/);
    assert.equal(s.headers['x-fake-upstream'], 'a', 'the node response headers are relayed');
    const first = await s.nextEvent(5000);
    assert.ok(first, 'first event relayed before the node finished');
    const chunk = JSON.parse(first.data);
    assert.equal(chunk.object, 'chat.completion.chunk');
    assert.deepEqual(chunk.choices[0].delta, { role: 'assistant', content: 'Hello' });
    // The node is still holding the remaining events: nothing else may have arrived.
    await up.a.waitHeld(1);
    assert.equal(s.events.length, 1, 'only the first event so far');
    assert.equal(s.ended, false);
    assert.equal(await gw.metric('laneway_in_flight_requests', { node: 'a' }), 1, 'one request in flight on a');

    const rel = await up.a.control({ release: true });
    assert.equal(rel.released, 1);
    const end = await s.end(5000);
    assert.equal(end.ended, true, `stream ended cleanly (error: ${end.error?.message})`);
    assert.equal(s.events.length, 5, 'four content events and [DONE]');
    assert.deepEqual(
      s.events.slice(0, 4).map((e) => JSON.parse(e.data).choices[0].delta.content),
      ['Hello', ' from', ' a', ' Hello'],
    );
    assert.equal(s.events[3].event, 'message');
    assert.equal(JSON.parse(s.events[3].data).choices[0].finish_reason, 'stop');
    assert.equal(s.events[4].data, '[DONE]');
    await waitFor(async () => (await gw.metric('laneway_in_flight_requests', { node: 'a' })) === 0, 3000, 'in-flight back to 0');
    const st = await up.a.stats();
    assert.equal(st.completed_streams, 1);
    assert.equal(st.aborted_streams, 0);
  });

  test('events spaced out by the node arrive spaced out', async () => {
    const s = await openStream(`${gw.url}/v1/chat/completions`, {
      json: chatBody('m1', { stream: true }),
      headers: { 'x-fake-chunks': '5', 'x-fake-interval-ms': '120' },
    });
    await s.end(10000);
    assert.equal(s.events.length, 6);
    // Buffering the whole response would deliver everything at once, in one burst.
    const spread = s.chunks.at(-1).at - s.chunks[0].at;
    assert.ok(spread >= 350, `events spread over ${spread} ms (node sent them over ~480 ms)`);
    assert.ok(s.chunks.length >= 4, `received in ${s.chunks.length} reads`);
  });

  test('completions stream too', async () => {
    const s = await openStream(`${gw.url}/v1/completions`, {
      json: { model: 'm1', prompt: 'Once upon', stream: true },
      headers: { 'x-fake-chunks': '3' },
    });
    assert.equal(s.status, 200);
    await s.end(5000);
    assert.equal(s.events.length, 4);
    assert.equal(s.events.slice(0, 3).map((e) => JSON.parse(e.data).choices[0].text).join(''), 'Hello from a');
    assert.equal(s.events[3].data, '[DONE]');
  });

  test('a long stream is relayed completely', async () => {
    const s = await openStream(`${gw.url}/v1/chat/completions`, {
      json: chatBody('m1', { stream: true, stream_options: { include_usage: true } }),
      headers: { 'x-fake-chunks': '500' },
    });
    const end = await s.end(10000);
    assert.equal(end.ended, true);
    assert.equal(s.events.length, 502, '500 content events, the usage event and [DONE]');
    assert.equal(JSON.parse(s.events[500].data).usage.completion_tokens, 500);
  });

  test('concurrent streams are kept apart', async () => {
    const streams = await Promise.all(
      [2, 3, 4, 5, 6, 7].map((n) =>
        openStream(`${gw.url}/v1/chat/completions`, {
          json: chatBody('m1', { stream: true }),
          headers: { 'x-fake-chunks': String(n), 'x-fake-interval-ms': '10', 'x-request-id': `conc-${n}` },
        }),
      ),
    );
    await Promise.all(streams.map((s) => s.end(10000)));
    streams.forEach((s, i) => {
      const n = i + 2;
      assert.equal(s.headers['x-request-id'], `conc-${n}`);
      assert.equal(s.events.length, n + 1, `stream ${n}: ${n} events and [DONE]`);
      assert.equal(s.events.at(-1).data, '[DONE]');
      const ids = new Set(s.events.slice(0, -1).map((e) => JSON.parse(e.data).id));
      assert.equal(ids.size, 1, 'every event of a stream belongs to one completion');
    });
    await waitFor(async () => (await gw.metric('laneway_in_flight_requests', { node: 'a' })) === 0, 3000, 'in-flight back to 0');
  });
});

describe('relay of large bodies and silent streams', () => {
  let gw;
  let up;
  before(async () => {
    ({ gw, up } = await startCluster({
      nodes: [{ name: 'a', models: ['m1'] }],
      upstream: { stream_idle_timeout: '400ms' },
    }));
  });

  test('a 1 MiB request body reaches the node intact', async () => {
    const content = 'abcdefghij'.repeat(104858);
    const r = await request(`${gw.url}/v1/chat/completions`, { json: chatBody('m1', { messages: [{ role: 'user', content }] }) });
    assert.equal(r.status, 200, r.text.slice(0, 300));
    const st = await up.a.stats();
    assert.equal(st.last_body.messages[0].content.length, content.length);
    assert.equal(st.last_body.messages[0].content, content);
  });

  test('a large non-streaming response is relayed intact', async () => {
    const r = await request(`${gw.url}/v1/chat/completions`, { json: chatBody('m1'), headers: { 'x-fake-chunks': '30000' } });
    assert.equal(r.status, 200);
    assert.equal(r.json.usage.completion_tokens, 30000);
    assert.equal(r.json.choices[0].message.content.split(' ').length, 30000);
    assert.equal(Number(r.headers['content-length']), Buffer.byteLength(r.text));
  });

  test('a stream the node stops feeding ends after stream_idle_timeout with an error event', async () => {
    await up.a.control({ reset_stats: true });
    const s = await openStream(`${gw.url}/v1/chat/completions`, {
      json: chatBody('m1', { stream: true }),
      headers: { 'x-fake-behavior': 'hold-after-first' },
    });
    assert.ok(await s.nextEvent(5000));
    const t0 = Date.now();
    await s.end(5000);
    const took = Date.now() - t0;
    assert.ok(took >= 300 && took < 3000, `ended after ${took} ms (stream_idle_timeout 400ms)`);
    const last = s.events.at(-1);
    assert.equal(last.event, 'error', s.text);
    assert.equal(JSON.parse(last.data).error.code, 'upstream_timeout');
    await waitFor(async () => (await up.a.stats()).aborted_streams === 1, 3000, 'the node to see its stream closed');
  });
});
