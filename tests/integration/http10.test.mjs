// HTTP/1.0 clients (ApacheBench, proxies configured for 1.0): a response whose length is not
// known up front must not use chunked transfer coding (RFC 9112 §6.1: a server MUST NOT send it
// to a 1.0 client); the body is sent as is and the end of the connection ends it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chatBody, cleanupAll, parseRawResponse, parseSse, rawRequest, startCluster } from './harness.mjs';

after(cleanupAll);

function post10(port, body) {
  const text = JSON.stringify(body);
  return rawRequest(
    port,
    `POST /v1/chat/completions HTTP/1.0\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`,
    { timeoutMs: 5000 },
  );
}

describe('HTTP/1.0 clients', () => {
  let gw;
  before(async () => {
    ({ gw } = await startCluster({ nodes: [{ name: 'a', models: ['m1'] }] }));
  });

  test('a plain response has a Content-Length and the connection closes', async () => {
    const raw = await post10(gw.port, chatBody('m1'));
    assert.equal(raw.closed, true);
    const r = parseRawResponse(raw.text);
    assert.equal(r.status, 200);
    assert.ok(r.headers['content-length'], 'Content-Length');
    assert.equal(r.json.object, 'chat.completion');
  });

  test('a stream is sent without chunked coding and ends with the connection', async () => {
    const raw = await post10(gw.port, chatBody('m1', { stream: true }));
    assert.equal(raw.closed, true, 'the gateway closes the connection to end the body');
    const end = raw.text.indexOf('\r\n\r\n');
    const head = raw.text.slice(0, end).toLowerCase();
    assert.match(head, /^http\/1\.[01] 200/);
    assert.ok(!/transfer-encoding:\s*chunked/.test(head), `no chunked coding for a 1.0 client:\n${head}`);
    const { events } = parseSse(raw.text.slice(end + 4));
    assert.equal(events.length, 6, 'five events and [DONE], byte for byte');
    assert.equal(events.at(-1).data, '[DONE]');
  });
});
