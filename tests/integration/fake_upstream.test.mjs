// The fake upstream itself: every scripted behaviour does what the gateway tests rely on.
// Needs no laneway binary.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cleanupAll, openStream, rawRequest, request, startUpstream, waitFor, chatBody } from './harness.mjs';

describe('fake upstream', () => {
  let up;
  before(async () => {
    up = await startUpstream({ name: 'u1', models: ['m1', 'm2'] });
  });
  after(cleanupAll);

  test('health, models, stats and control', async () => {
    let r = await request(`${up.url}/health`);
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, { status: 'ok' });
    r = await request(`${up.url}/v1/models`);
    assert.equal(r.status, 200);
    assert.deepEqual(
      r.json.data.map((m) => m.id),
      ['m1', 'm2'],
    );
    assert.equal(r.json.object, 'list');
    await up.control({ health: 503 });
    r = await request(`${up.url}/health`);
    assert.equal(r.status, 503);
    await up.control({ health: 200, reset_stats: true });
    const s = await up.stats();
    assert.equal(s.requests, 0, '/_stats and /_control do not count');
    assert.equal(s.health_status, 200);
  });

  test('non-streaming chat, completion and embeddings', async () => {
    await up.control({ reset_stats: true });
    let r = await request(`${up.url}/v1/chat/completions`, { json: chatBody('m2'), headers: { 'x-fake-chunks': '3' } });
    assert.equal(r.status, 200);
    assert.equal(r.json.object, 'chat.completion');
    assert.equal(r.json.model, 'm2');
    assert.equal(r.json.choices[0].message.content, 'Hello from u1');
    assert.equal(r.json.choices[0].finish_reason, 'stop');
    assert.equal(r.json.usage.completion_tokens, 3);
    r = await request(`${up.url}/v1/completions`, { json: { model: 'm1', prompt: 'x' } });
    assert.equal(r.json.object, 'text_completion');
    assert.equal(typeof r.json.choices[0].text, 'string');
    r = await request(`${up.url}/v1/embeddings`, { json: { model: 'm1', input: ['a', 'b'] } });
    assert.equal(r.json.data.length, 2);
    assert.equal(r.json.data[1].embedding.length, 8);
    r = await request(`${up.url}/v1/chat/completions`, { body: '{not json', headers: { 'content-type': 'application/json' } });
    assert.equal(r.status, 400);
    const s = await up.stats();
    assert.equal(s.requests, 4);
    assert.equal(s.requests_by_path['/v1/chat/completions'], 2);
    assert.deepEqual(s.last_body, '{not json');
  });

  test('streaming: N events then [DONE], with the interval between them', async () => {
    const s = await openStream(`${up.url}/v1/chat/completions`, {
      json: chatBody('m1', { stream: true }),
      headers: { 'x-fake-chunks': '4', 'x-fake-interval-ms': '30' },
    });
    assert.equal(s.status, 200);
    assert.match(s.headers['content-type'], /^text\/event-stream/);
    const r = await s.end(5000);
    assert.equal(r.ended, true);
    assert.equal(s.events.length, 5);
    assert.equal(s.events.at(-1).data, '[DONE]');
    const deltas = s.events.slice(0, 4).map((e) => JSON.parse(e.data).choices[0].delta.content);
    assert.deepEqual(deltas, ['Hello', ' from', ' u1', ' Hello']);
    assert.ok(s.chunks.length >= 4, 'events arrive in separate chunks');
    assert.ok(s.chunks.at(-1).at - s.chunks[0].at >= 60, 'the interval is applied');
    const st = await up.stats();
    assert.ok(st.completed_streams >= 1);
  });

  test('hold-after-first holds until released', async () => {
    await up.control({ reset_stats: true });
    const s = await openStream(`${up.url}/v1/chat/completions`, {
      json: chatBody('m1', { stream: true }),
      headers: { 'x-fake-behavior': 'hold-after-first', 'x-fake-chunks': '3' },
    });
    const first = await s.nextEvent(3000);
    assert.equal(JSON.parse(first.data).choices[0].delta.content, 'Hello');
    await up.waitHeld(1);
    assert.equal(s.events.length, 1);
    assert.equal((await up.stats()).active_streams, 1);
    const c = await up.control({ release: true });
    assert.equal(c.released, 1);
    await s.end(3000);
    assert.equal(s.events.length, 4);
    const st = await up.stats();
    assert.equal(st.completed_streams, 1);
    assert.equal(st.active_streams, 0);
  });

  test('a client closing a held stream counts as aborted', async () => {
    await up.control({ reset_stats: true });
    const s = await openStream(`${up.url}/v1/chat/completions`, {
      json: chatBody('m1', { stream: true }),
      headers: { 'x-fake-behavior': 'hold-after-first' },
    });
    await s.nextEvent(3000);
    await up.waitHeld(1);
    s.close();
    await waitFor(async () => (await up.stats()).aborted_streams === 1, 3000, 'aborted_streams == 1');
    const st = await up.stats();
    assert.equal(st.held, 0);
    assert.equal(st.active_streams, 0);
  });

  test('reset-mid-stream sends one event then cuts the body', async () => {
    await up.control({ reset_stats: true });
    const s = await openStream(`${up.url}/v1/chat/completions`, {
      json: chatBody('m1', { stream: true }),
      headers: { 'x-fake-behavior': 'reset-mid-stream' },
    });
    const r = await s.end(3000);
    assert.equal(r.ended, false);
    assert.ok(r.error);
    assert.equal(s.events.length, 1);
    const st = await up.stats();
    assert.equal(st.reset_streams, 1);
    assert.equal(st.aborted_streams, 0, 'a cut by the upstream is not a client abort');
  });

  test('reset-before-headers, status-NNN, hang, slow headers', async () => {
    await assert.rejects(
      request(`${up.url}/v1/chat/completions`, { json: chatBody(), headers: { 'x-fake-behavior': 'reset-before-headers' } }),
    );
    let r = await request(`${up.url}/v1/chat/completions`, { json: chatBody(), headers: { 'x-fake-behavior': 'status-500' } });
    assert.equal(r.status, 500);
    assert.equal(typeof r.json.error.message, 'string');
    r = await request(`${up.url}/v1/chat/completions`, { json: chatBody(), headers: { 'x-fake-behavior': 'status-429' } });
    assert.equal(r.status, 429);
    await assert.rejects(
      request(`${up.url}/v1/chat/completions`, {
        json: chatBody(),
        headers: { 'x-fake-behavior': 'hang' },
        timeoutMs: 300,
      }),
      /timed out/,
    );
    const t0 = Date.now();
    r = await request(`${up.url}/v1/chat/completions`, { json: chatBody(), headers: { 'x-fake-behavior': 'slow-headers-ms:150' } });
    assert.equal(r.status, 200);
    assert.ok(Date.now() - t0 >= 140);
  });

  test('startup --behavior and control behavior set the default', async () => {
    const bad = await startUpstream({ name: 'u2', behavior: 'status-503' });
    let r = await request(`${bad.url}/v1/chat/completions`, { json: chatBody() });
    assert.equal(r.status, 503);
    await bad.control({ behavior: 'normal' });
    r = await request(`${bad.url}/v1/chat/completions`, { json: chatBody() });
    assert.equal(r.status, 200);
    const res = await bad.stop();
    assert.equal(res.code, 0, 'SIGTERM exits 0');
  });

  test('keep-alive: one connection serves sequential requests', async () => {
    await up.control({ reset_stats: true });
    const req = 'GET /v1/models HTTP/1.1\r\nHost: x\r\n\r\n';
    const r = await rawRequest(up.port, req + req + req, { timeoutMs: 300 });
    assert.equal(r.text.match(/HTTP\/1\.1 200/g).length, 3);
    const st = await up.stats();
    assert.equal(st.requests, 3);
    // the raw connection plus the /_control and /_stats connections
    assert.equal(st.connections, 2);
  });
});

describe('fake upstream: drop_idle', () => {
  after(cleanupAll);
  test('closes idle keep-alive connections only', async () => {
    const http = await import('node:http');
    const up = await startUpstream({ name: 'u3' });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    let r = await request(`${up.url}/v1/models`, { agent });
    assert.equal(r.status, 200);
    const held = await openStream(`${up.url}/v1/chat/completions`, {
      json: chatBody('m1', { stream: true }),
      headers: { 'x-fake-behavior': 'hold-after-first' },
    });
    await up.waitHeld(1);
    const c = await up.control({ drop_idle: true });
    assert.equal(c.dropped, 1, 'the idle keep-alive connection, not the busy stream');
    await up.control({ release: true });
    assert.equal((await held.end(3000)).ended, true);
    r = await request(`${up.url}/v1/models`, { agent });
    assert.equal(r.status, 200);
    agent.destroy();
  });
});
