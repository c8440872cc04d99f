// X-Request-Id rules (a valid client id is kept, anything else replaced by a new UUID; forwarded
// upstream, echoed to the client, written in the access log), traceparent pass-through, and the
// shape of the access log line.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { chatBody, cleanupAll, openStream, request, startCluster } from './harness.mjs';

after(cleanupAll);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('request id and tracing', () => {
  let gw;
  let up;
  before(async () => {
    ({ gw, up } = await startCluster({ nodes: [{ name: 'a', models: ['m1'] }] }));
  });

  async function roundTrip(headers) {
    const r = await request(`${gw.url}/v1/chat/completions`, { json: chatBody('m1'), headers });
    assert.equal(r.status, 200, r.text);
    const s = await up.a.stats();
    return { res: r, echoed: r.headers['x-request-id'], upstream: s.last_headers['x-request-id'], upstreamHeaders: s.last_headers };
  }

  const valid = ['abc-123_XY.z:9', 'r'.repeat(128), '1', 'trace:span.42-a_b'];
  for (const id of valid) {
    test(`a valid id is kept: ${id.length > 20 ? `${id.length} chars` : id}`, async () => {
      const { echoed, upstream } = await roundTrip({ 'x-request-id': id });
      assert.equal(echoed, id, 'echoed to the client');
      assert.equal(upstream, id, 'forwarded to the node');
    });
  }

  const invalid = [
    ['129 chars', 'r'.repeat(129)],
    ['a slash', 'bad/slash'],
    ['a space', 'has space'],
    ['a semicolon', 'a;b'],
    ['empty', ''],
  ];
  for (const [what, id] of invalid) {
    test(`an invalid id is replaced by a UUID: ${what}`, async () => {
      const { echoed, upstream } = await roundTrip({ 'x-request-id': id });
      assert.match(String(echoed), UUID);
      assert.notEqual(echoed, id);
      assert.equal(upstream, echoed, 'the node gets the same new id');
    });
  }

  test('without an id each request gets its own UUID', async () => {
    const one = await roundTrip({});
    const two = await roundTrip({});
    assert.match(String(one.echoed), UUID);
    assert.match(String(two.echoed), UUID);
    assert.notEqual(one.echoed, two.echoed);
    assert.equal(one.upstream, one.echoed);
    assert.equal(two.upstream, two.echoed);
  });

  test('traceparent and tracestate pass through unchanged', async () => {
    const tp = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const { upstreamHeaders } = await roundTrip({ traceparent: tp, tracestate: 'vendor=abc' });
    assert.equal(upstreamHeaders.traceparent, tp);
    assert.equal(upstreamHeaders.tracestate, 'vendor=abc');
  });

  test('headers named in Connection are not forwarded; end-to-end ones are', async () => {
    const { upstreamHeaders } = await roundTrip({ 'x-custom-thing': 'kept', connection: 'x-drop-me', 'x-drop-me': 'dropped' });
    assert.equal(upstreamHeaders['x-custom-thing'], 'kept');
    assert.equal(upstreamHeaders['x-drop-me'], undefined, 'a header the Connection header names is hop-by-hop');
  });

  test('errors the gateway answers itself echo the client id', async () => {
    const r = await request(`${gw.url}/v1/nowhere`, { headers: { 'x-request-id': 'err-id-1' } });
    assert.equal(r.status, 404);
    assert.equal(r.headers['x-request-id'], 'err-id-1');
    const r2 = await request(`${gw.url}/v1/chat/completions`, { json: chatBody('unknown-model'), headers: { 'x-request-id': 'err-id-2' } });
    assert.equal(r2.status, 404);
    assert.equal(r2.headers['x-request-id'], 'err-id-2');
  });

  test('a streaming response carries the id too', async () => {
    const s = await openStream(`${gw.url}/v1/chat/completions`, {
      json: chatBody('m1', { stream: true }),
      headers: { 'x-request-id': 'stream-id-7' },
    });
    assert.equal(s.status, 200);
    assert.equal(s.headers['x-request-id'], 'stream-id-7');
    await s.end(5000);
    assert.equal((await up.a.stats()).last_headers['x-request-id'], 'stream-id-7');
  });
});

describe('access log', () => {
  let gw;
  before(async () => {
    ({ gw } = await startCluster({ nodes: [{ name: 'a', models: ['m1'] }] }));
  });

  test('one JSON line per proxied request with the documented fields', async () => {
    // A keep-alive client (see pool.test.mjs: a one-shot client closing right after the
    // response can be logged as a client disconnect).
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const r = await request(`${gw.url}/v1/chat/completions`, { json: chatBody('m1'), headers: { 'x-request-id': 'log-line-1' }, agent });
    assert.equal(r.status, 200);
    const line = await gw.waitForLog((l) => l.msg === 'request' && l.request_id === 'log-line-1', 5000);
    for (const k of [
      'ts', 'level', 'msg', 'hop', 'request_id', 'lane', 'method', 'path', 'node', 'model', 'status', 'bytes_in',
      'bytes_out', 'queue_wait_ms', 'upstream_connect_ms', 'ttfb_ms', 'total_ms', 'stream', 'chunks', 'reused',
      'attempts', 'error',
    ]) {
      assert.ok(k in line, `access log has "${k}": ${JSON.stringify(line)}`);
    }
    assert.equal(line.hop, 'gateway');
    assert.equal(line.method, 'POST');
    assert.equal(line.path, '/v1/chat/completions');
    assert.equal(line.node, 'a');
    assert.equal(line.model, 'm1');
    assert.equal(line.status, 200);
    assert.equal(line.stream, false);
    assert.equal(line.attempts, 1);
    assert.equal(typeof line.reused, 'boolean');
    assert.ok(line.bytes_in >= JSON.stringify(chatBody('m1')).length, `bytes_in ${line.bytes_in}`);
    assert.ok(line.bytes_out >= r.text.length, `bytes_out ${line.bytes_out} covers the body (${r.text.length})`);
    for (const k of ['queue_wait_ms', 'upstream_connect_ms', 'ttfb_ms', 'total_ms']) {
      assert.equal(typeof line[k], 'number', k);
      assert.ok(line[k] >= 0, k);
    }
    assert.ok(line.total_ms >= line.ttfb_ms, 'total_ms >= ttfb_ms');
    assert.ok(!line.error, `no error recorded: ${JSON.stringify(line.error)}`);
    assert.equal(gw.accessLogs().filter((l) => l.request_id === 'log-line-1').length, 1, 'exactly one line');
    agent.destroy(); // only now: closing it right after a response races the relay's end
  });

  test('a streamed request logs stream true and its chunk count', async () => {
    const s = await openStream(`${gw.url}/v1/chat/completions`, {
      json: chatBody('m1', { stream: true }),
      headers: { 'x-request-id': 'log-line-2', 'x-fake-chunks': '4' },
    });
    await s.end(5000);
    assert.equal(s.events.length, 5);
    const line = await gw.waitForLog((l) => l.msg === 'request' && l.request_id === 'log-line-2', 5000);
    assert.equal(line.stream, true);
    assert.equal(line.status, 200);
    assert.ok(line.chunks >= 1, `chunks ${line.chunks}`);
  });

  test('a request the gateway refuses is logged with its status and error', async () => {
    const r = await request(`${gw.url}/v1/chat/completions`, { json: chatBody('nope'), headers: { 'x-request-id': 'log-line-3' } });
    assert.equal(r.status, 404);
    const line = await gw.waitForLog((l) => l.msg === 'request' && l.request_id === 'log-line-3', 5000);
    assert.equal(line.status, 404);
    assert.ok(line.error, 'error is set');
  });
});
