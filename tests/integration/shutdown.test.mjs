// SIGTERM: the gateway stops accepting, lets streams in progress finish (up to shutdown_grace)
// and exits 0.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { chatBody, cleanupAll, openStream, request, startCluster, waitFor, withTimeout } from './harness.mjs';

after(cleanupAll);

// Resolves true when a TCP connection to the port is refused or closed without an answer to a
// /health request, false when the gateway still answers it.
function refusesNewWork(port) {
  return new Promise((resolve) => {
    const sock = net.connect({ port, host: '127.0.0.1' });
    let data = '';
    const done = (v) => {
      clearTimeout(timer);
      sock.destroy();
      resolve(v);
    };
    const timer = setTimeout(() => done(false), 1000);
    sock.on('connect', () => sock.write('GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
    sock.on('data', (d) => (data += d));
    sock.on('error', () => done(true));
    sock.on('close', () => done(!/^HTTP\/1\.1 200/.test(data)));
  });
}

describe('graceful shutdown', () => {
  test('a held stream finishes after SIGTERM; new connections are refused; exit 0', async () => {
    const { gw, up } = await startCluster({ nodes: [{ name: 'a', models: ['m1'] }], server: { shutdown_grace: '10s' } });
    const s = await openStream(`${gw.url}/v1/chat/completions`, {
      json: chatBody('m1', { stream: true }),
      headers: { 'x-fake-behavior': 'hold-after-first', 'x-fake-chunks': '3' },
    });
    assert.ok(await s.nextEvent(5000));
    await up.a.waitHeld(1);

    gw.proc.kill('SIGTERM');
    await waitFor(() => refusesNewWork(gw.port), 3000, 'the gateway to stop taking new requests', 50);
    assert.equal(gw.proc.exited, false, 'still running while a stream is in progress');
    assert.equal(s.ended, false);
    assert.equal(s.error, null);

    await up.a.control({ release: true });
    const end = await s.end(5000);
    assert.equal(end.ended, true, `the stream finished cleanly (error: ${end.error?.message})`);
    assert.equal(s.events.at(-1).data, '[DONE]');
    assert.equal(s.events.length, 4);

    const { code, signal } = await gw.proc.waitExit(5000);
    assert.equal(signal, null);
    assert.equal(code, 0);
  });

  test('a plain request in progress at SIGTERM is answered with Connection: close; idle client connections are closed', async () => {
    const { gw, up } = await startCluster({ nodes: [{ name: 'a', models: ['m1'] }], server: { shutdown_grace: '10s' } });
    // An idle keep-alive client connection, open before the signal.
    const idle = net.connect({ port: gw.port, host: '127.0.0.1' });
    idle.on('error', () => {});
    const idleClosed = new Promise((resolve) => idle.on('close', resolve));
    await new Promise((resolve) => idle.once('connect', resolve));

    const pending = request(`${gw.url}/v1/chat/completions`, {
      json: chatBody('m1'),
      headers: { 'x-fake-behavior': 'hold-after-first', connection: 'keep-alive' },
    });
    await up.a.waitHeld(1);
    gw.proc.kill('SIGTERM');
    await withTimeout(idleClosed, 3000, 'the idle client connection to be closed');
    await up.a.control({ release: true });
    const r = await pending;
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.object, 'chat.completion');
    assert.equal(String(r.headers.connection).toLowerCase(), 'close');
    const { code } = await gw.proc.waitExit(5000);
    assert.equal(code, 0);
  });

  test('streams still open when shutdown_grace runs out are cut; exit 0', async () => {
    const { gw, up } = await startCluster({ nodes: [{ name: 'a', models: ['m1'] }], server: { shutdown_grace: '500ms' } });
    const s = await openStream(`${gw.url}/v1/chat/completions`, {
      json: chatBody('m1', { stream: true }),
      headers: { 'x-fake-behavior': 'hold-after-first' },
    });
    assert.ok(await s.nextEvent(5000));
    await up.a.waitHeld(1);
    const t0 = Date.now();
    gw.proc.kill('SIGTERM');
    const { code } = await gw.proc.waitExit(5000);
    const took = Date.now() - t0;
    assert.equal(code, 0);
    assert.ok(took >= 400, `waited for the grace period (${took} ms)`);
    await s.end(3000);
    assert.ok(!s.events.some((e) => e.data === '[DONE]'), 'the held stream did not complete');
    await waitFor(async () => (await up.a.stats()).aborted_streams === 1, 3000, 'the node to see its stream closed');
  });

  test('an idle gateway exits promptly on SIGTERM and on SIGINT', async () => {
    for (const sig of ['SIGTERM', 'SIGINT']) {
      const { gw } = await startCluster({ nodes: [{ name: 'a', models: ['m1'] }], server: { shutdown_grace: '30s' } });
      const t0 = Date.now();
      gw.proc.kill(sig);
      const { code } = await gw.proc.waitExit(5000);
      assert.equal(code, 0, sig);
      assert.ok(Date.now() - t0 < 3000, `${sig}: exited in ${Date.now() - t0} ms`);
    }
  });
});
