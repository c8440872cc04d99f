// Client-side deadlines: a request whose header or body does not arrive in time gets 408
// request_timeout and the connection is closed; an idle keep-alive connection is closed after
// idle_timeout.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { cleanupAll, errorOf, parseRawResponse, rawRequest, startCluster } from './harness.mjs';

after(cleanupAll);

describe('client deadlines', () => {
  let gw;
  before(async () => {
    ({ gw } = await startCluster({
      nodes: [{ name: 'a', models: ['m1'] }],
      server: { header_timeout: '300ms', body_timeout: '300ms', idle_timeout: '500ms' },
    }));
  });

  test('408 when the request header does not arrive in time', async () => {
    const t0 = Date.now();
    const r = await rawRequest(gw.port, 'POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n', { timeoutMs: 4000 });
    assert.equal(r.status, 408, `got: ${JSON.stringify(r.text)}`);
    assert.equal(errorOf(parseRawResponse(r.text)).code, 'request_timeout');
    assert.equal(r.closed, true, 'the connection is closed');
    assert.ok(Date.now() - t0 < 3000);
  });

  test('408 when the body does not arrive in time', async () => {
    const r = await rawRequest(
      gw.port,
      'POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"model":',
      { timeoutMs: 4000 },
    );
    assert.equal(r.status, 408, `got: ${JSON.stringify(r.text)}`);
    assert.equal(errorOf(parseRawResponse(r.text)).code, 'request_timeout');
    assert.equal(r.closed, true);
  });

  test('an idle keep-alive connection is closed after idle_timeout', async () => {
    const t0 = Date.now();
    const closed = await new Promise((resolve) => {
      const s = net.connect({ port: gw.port, host: '127.0.0.1' });
      const timer = setTimeout(() => {
        s.destroy();
        resolve(false);
      }, 4000);
      s.on('error', () => {});
      s.on('close', () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
    assert.equal(closed, true, 'closed by the gateway');
    const took = Date.now() - t0;
    assert.ok(took >= 400 && took < 3000, `closed after ${took} ms (idle_timeout 500ms)`);
  });
});
