// Every route the gateway serves, and every error status it answers by itself, with the
// OpenAI-style error body {"error":{"message","type","param","code"}}.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  chatBody,
  cleanupAll,
  errorOf,
  gatewayConfig,
  parsePrometheus,
  parseRawResponse,
  rawRequest,
  request,
  startCluster,
  startGateway,
  waitFor,
} from './harness.mjs';

after(cleanupAll);

function assertOpenAIError(res, status, code) {
  assert.equal(res.status, status, `status (body: ${res.text})`);
  assert.match(String(res.headers['content-type']), /^application\/json/);
  const e = errorOf(res);
  assert.equal(typeof e.message, 'string');
  assert.ok(e.message.length > 0, 'error.message is not empty');
  assert.equal(typeof e.type, 'string');
  assert.ok('param' in e, 'error.param is present (null when none)');
  assert.ok('code' in e, 'error.code is present');
  if (code !== undefined) assert.equal(e.code, code, `error.code (body: ${res.text})`);
  assert.ok(res.headers['x-request-id'], 'errors carry X-Request-Id too');
  return e;
}

describe('routes and errors (one healthy node)', () => {
  let gw;
  let up;
  before(async () => {
    ({ gw, up } = await startCluster({
      nodes: [{ name: 'a', models: ['m1', 'm2'] }],
      server: { max_header_bytes: 4096, max_body_bytes: 2048 },
      upstream: { response_timeout: '400ms', retries: 1 },
      health: { circuit_failures: 1000 },
    }));
  });

  test('GET /health is 200', async () => {
    const r = await request(`${gw.url}/health`);
    assert.equal(r.status, 200);
  });

  test('GET /ready is 200 with a healthy node', async () => {
    assert.equal(await gw.ready(), 200);
  });

  test('GET /metrics is Prometheus text', async () => {
    const r = await request(`${gw.url}/metrics`);
    assert.equal(r.status, 200);
    assert.match(String(r.headers['content-type']), /^text\/plain/);
    assert.match(r.text, /^# TYPE laneway_requests_total counter$/m);
    const healthy = parsePrometheus(r.text).find((x) => x.name === 'laneway_node_healthy' && x.labels.node === 'a');
    assert.equal(healthy?.value, 1, 'laneway_node_healthy{node="a"} is 1');
  });

  test('POST /v1/chat/completions is proxied', async () => {
    const r = await request(`${gw.url}/v1/chat/completions`, { json: chatBody('m1'), headers: { 'x-fake-chunks': '3' } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.object, 'chat.completion');
    assert.equal(r.json.model, 'm1');
    assert.equal(r.json.choices[0].message.content, 'Hello from a');
    assert.equal(r.headers['x-fake-upstream'], 'a', 'end-to-end response headers are relayed');
    assert.equal(r.headers['keep-alive'], undefined, "the node's hop-by-hop Keep-Alive header is not");
    const s = await up.a.stats();
    assert.equal(s.last_body.model, 'm1', 'the body reaches the node');
    assert.deepEqual(s.last_body.messages, chatBody().messages);
  });

  test('POST /v1/completions is proxied', async () => {
    const r = await request(`${gw.url}/v1/completions`, { json: { model: 'm2', prompt: 'Once' } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.object, 'text_completion');
    assert.equal(r.json.model, 'm2');
  });

  test('POST /v1/embeddings is proxied', async () => {
    const r = await request(`${gw.url}/v1/embeddings`, { json: { model: 'm1', input: ['x', 'y', 'z'] } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.object, 'list');
    assert.equal(r.json.data.length, 3);
  });

  test('GET /v1/models lists the node models', async () => {
    const r = await request(`${gw.url}/v1/models`);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.object, 'list');
    assert.deepEqual(r.json.data.map((m) => m.id).sort(), ['m1', 'm2']);
  });

  test('GET /v1/models/{id} answers one model, or 404 model_not_found', async () => {
    const r = await request(`${gw.url}/v1/models/m2`);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.id, 'm2');
    assert.equal(r.json.object, 'model');
    assertOpenAIError(await request(`${gw.url}/v1/models/absent`), 404, 'model_not_found');
  });

  test('requests are counted by route and code', async () => {
    const samples = await gw.samples('laneway_requests_total');
    const get = (route, code) => samples.find((s) => s.labels.route === route && s.labels.code === code)?.value ?? 0;
    assert.ok(get('chat_completions', '200') >= 1, 'chat_completions 200');
    assert.ok(get('completions', '200') >= 1, 'completions 200');
    assert.ok(get('embeddings', '200') >= 1, 'embeddings 200');
    assert.ok(get('models', '200') >= 1, 'models 200');
    assert.ok(get('health', '200') >= 1, 'health 200');
    assert.ok(get('ready', '200') >= 1, 'ready 200');
  });

  // Raw sockets: the gateway answers and closes while the client may still be sending, and a
  // client library may report the reset instead of the answer.
  test('431 when the request header is too large', async () => {
    const body = JSON.stringify(chatBody('m1'));
    const raw = await rawRequest(
      gw.port,
      `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nX-Padding: ${'p'.repeat(6000)}\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
    );
    assertOpenAIError(parseRawResponse(raw.text), 431);
  });

  test('413 when the body is too large (content-length)', async () => {
    const body = JSON.stringify(chatBody('m1', { messages: [{ role: 'user', content: 'x'.repeat(4096) }] }));
    const raw = await rawRequest(
      gw.port,
      `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
    );
    assertOpenAIError(parseRawResponse(raw.text), 413);
  });

  test('413 when a chunked body grows too large', async () => {
    const body = JSON.stringify(chatBody('m1', { messages: [{ role: 'user', content: 'y'.repeat(4096) }] }));
    const chunks = [body.slice(0, 1000), body.slice(1000, 3000), body.slice(3000)]
      .map((c) => `${Buffer.byteLength(c).toString(16)}\r\n${c}\r\n`)
      .join('');
    const raw = await rawRequest(
      gw.port,
      `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n${chunks}0\r\n\r\n`,
    );
    assertOpenAIError(parseRawResponse(raw.text), 413);
  });

  test('a small chunked body is accepted', async () => {
    const body = JSON.stringify(chatBody('m1'));
    const raw = await rawRequest(
      gw.port,
      `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n` +
        `${Buffer.byteLength(body.slice(0, 10)).toString(16)}\r\n${body.slice(0, 10)}\r\n` +
        `${Buffer.byteLength(body.slice(10)).toString(16)}\r\n${body.slice(10)}\r\n0\r\n\r\n`,
    );
    const r = parseRawResponse(raw.text);
    assert.equal(r.status, 200, raw.text);
    assert.equal(r.json.object, 'chat.completion');
  });

  test('404 not_found for an unknown route', async () => {
    assertOpenAIError(await request(`${gw.url}/v1/nothing-here`), 404, 'not_found');
    assertOpenAIError(await request(`${gw.url}/v2/chat/completions`, { json: chatBody('m1') }), 404, 'not_found');
  });

  test('405 for a wrong method', async () => {
    assertOpenAIError(await request(`${gw.url}/v1/chat/completions`), 405);
    assertOpenAIError(await request(`${gw.url}/v1/models`, { method: 'POST', json: {} }), 405);
  });

  test('400 invalid_request for malformed JSON', async () => {
    const r = await request(`${gw.url}/v1/chat/completions`, {
      body: '{"model": "m1", "messages": [',
      headers: { 'content-type': 'application/json' },
    });
    assertOpenAIError(r, 400, 'invalid_request');
    const r2 = await request(`${gw.url}/v1/chat/completions`, { body: '[1, 2, 3]', headers: { 'content-type': 'application/json' } });
    assertOpenAIError(r2, 400, 'invalid_request');
    const r3 = await request(`${gw.url}/v1/chat/completions`, { json: { model: 42, messages: [] } });
    assertOpenAIError(r3, 400, 'invalid_request');
  });

  test('404 model_not_found for a model no node serves', async () => {
    const e = assertOpenAIError(
      await request(`${gw.url}/v1/chat/completions`, { json: chatBody('no-such-model') }),
      404,
      'model_not_found',
    );
    assert.match(e.message, /no-such-model/);
  });

  test('an upstream 4xx is relayed as is', async () => {
    const r = await request(`${gw.url}/v1/chat/completions`, { json: chatBody('m1'), headers: { 'x-fake-behavior': 'status-429' } });
    assert.equal(r.status, 429, r.text);
    assert.equal(r.json.error.code, 'fake_429');
  });

  test('504 upstream_timeout when the node sends no response head in time', async () => {
    await up.a.control({ reset_stats: true });
    const t0 = Date.now();
    const r = await request(`${gw.url}/v1/chat/completions`, { json: chatBody('m1'), headers: { 'x-fake-behavior': 'hang' } });
    assertOpenAIError(r, 504, 'upstream_timeout');
    assert.ok(Date.now() - t0 < 5000, 'answered within the response timeout, not much later');
    // The gateway gives up on the upstream request: the node sees its connection closed.
    await waitFor(async () => (await up.a.stats()).aborted_requests === 1, 3000, 'the node to see the hung request abandoned');
  });

  test('502 when the node fails before the response head and no other node is left', async () => {
    const r = await request(`${gw.url}/v1/chat/completions`, {
      json: chatBody('m1'),
      headers: { 'x-fake-behavior': 'reset-before-headers' },
    });
    assertOpenAIError(r, 502);
  });

  test('a node slower than usual but within response_timeout is fine', async () => {
    const r = await request(`${gw.url}/v1/chat/completions`, { json: chatBody('m1'), headers: { 'x-fake-behavior': 'slow-headers-ms:150' } });
    assert.equal(r.status, 200, r.text);
  });

  test('a query string does not change the route', async () => {
    const r = await request(`${gw.url}/v1/chat/completions?api-version=1`, { json: chatBody('m1') });
    assert.equal(r.status, 200, r.text);
    const m = await request(`${gw.url}/v1/models?limit=5`);
    assert.equal(m.status, 200);
  });

  test('pipelined requests on one connection are answered in order', async () => {
    const body = (model) => JSON.stringify(chatBody(model));
    const one = (model, id, close) =>
      `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nX-Request-Id: ${id}\r\nContent-Type: application/json\r\n` +
      `${close ? 'Connection: close\r\n' : ''}Content-Length: ${Buffer.byteLength(body(model))}\r\n\r\n${body(model)}`;
    const raw = await rawRequest(gw.port, one('m1', 'pipe-1', false) + one('m2', 'pipe-2', false) + one('m1', 'pipe-3', true), {
      timeoutMs: 5000,
    });
    const statuses = [...raw.text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((x) => Number(x[1]));
    assert.deepEqual(statuses, [200, 200, 200], raw.text.slice(0, 500));
    const ids = [...raw.text.matchAll(/^x-request-id: (\S+)/gim)].map((x) => x[1]);
    assert.deepEqual(ids, ['pipe-1', 'pipe-2', 'pipe-3']);
    const models = [...raw.text.matchAll(/"model":"(m\d)"/g)].map((x) => x[1]);
    assert.deepEqual(models, ['m1', 'm2', 'm1']);
  });

  test('Expect: 100-continue gets 100 Continue, then the answer', async () => {
    const net = await import('node:net');
    const body = JSON.stringify(chatBody('m1'));
    const text = await new Promise((resolve, reject) => {
      const sock = net.connect({ port: gw.port, host: '127.0.0.1' });
      let data = '';
      let sentBody = false;
      const timer = setTimeout(() => {
        sock.destroy();
        resolve(data);
      }, 5000);
      sock.on('connect', () =>
        sock.write(
          `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nConnection: close\r\nExpect: 100-continue\r\n` +
            `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`,
        ),
      );
      sock.on('data', (d) => {
        data += d;
        if (!sentBody && /^HTTP\/1\.1 100/.test(data)) {
          sentBody = true;
          sock.write(body);
        }
      });
      sock.on('close', () => {
        clearTimeout(timer);
        resolve(data);
      });
      sock.on('error', reject);
    });
    assert.match(text, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200/, text.slice(0, 300));
  });

  test('a malformed request line gets 400 and the connection is closed', async () => {
    const r = await rawRequest(gw.port, 'THIS IS NOT HTTP\r\n\r\n', { timeoutMs: 3000 });
    assert.equal(r.status, 400, r.text);
    assert.equal(r.closed, true);
  });

  test('the gateway still serves after all the errors', async () => {
    const r = await request(`${gw.url}/v1/chat/completions`, { json: chatBody('m1') });
    assert.equal(r.status, 200, r.text);
  });
});

describe('no healthy node', () => {
  let gw;
  before(async () => {
    // Port 9 (discard) on loopback: nothing listens there, so every probe fails to connect.
    gw = await startGateway({
      config: gatewayConfig({ nodes: [{ name: 'down', url: 'http://127.0.0.1:9', models: ['m1'] }] }),
      waitReady: false,
    });
  });

  test('/health is 200 but /ready is 503', async () => {
    assert.equal((await request(`${gw.url}/health`)).status, 200);
    const r = await request(`${gw.url}/ready`);
    assert.equal(r.status, 503);
  });

  test('a request gets 503 no_healthy_node', async () => {
    const r = await request(`${gw.url}/v1/chat/completions`, { json: chatBody('m1') });
    assertOpenAIError(r, 503, 'no_healthy_node');
    assert.equal(await gw.metric('laneway_node_healthy', { node: 'down' }), 0);
  });
});

describe('connection cap', () => {
  let gw;
  before(async () => {
    ({ gw } = await startCluster({
      nodes: [{ name: 'a', models: ['m1'] }],
      server: { max_connections: 3, idle_timeout: '5s' },
    }));
  });

  test('503 too_many_connections past max_connections; served again once they close', async () => {
    const net = await import('node:net');
    const idle = [];
    try {
      for (let i = 0; i < 3; i++) {
        const s = net.connect({ port: gw.port, host: '127.0.0.1' });
        s.on('error', () => {});
        await new Promise((res, rej) => {
          s.once('connect', res);
          s.once('error', rej);
        });
        idle.push(s);
      }
      await waitFor(
        async () => {
          const r = await rawRequest(gw.port, 'GET /health HTTP/1.1\r\nHost: x\r\n\r\n', { timeoutMs: 2000 });
          return r.status === 503 && /too_many_connections/.test(r.text) ? r : null;
        },
        3000,
        'a connection past the cap to be refused with 503',
        50,
      );
    } finally {
      for (const s of idle) s.destroy();
    }
    await waitFor(async () => (await request(`${gw.url}/health`, { timeoutMs: 2000 })).status === 200, 3000, 'served again');
  });
});
