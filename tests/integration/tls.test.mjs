// The gateway's client-facing TLS listener: certificates made at test time with the openssl CLI
// (a CA, a server certificate for 127.0.0.1/localhost it signed, an expired one, a self-signed
// one). curl and Node's https get chat completions (streamed too) through TLS next to the plain
// listener; untrusted, wrong-host and expired certificates fail verification; TLS 1.1 is refused;
// a client that never handshakes is closed after server.header_timeout; bad files exit 2.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import {
  chatBody, cleanupAll, gatewayConfig, parseSse, request, runCommand, runLaneway,
  startUpstream, waitFor, withTimeout, writeTempFile,
} from './harness.mjs';
import { curl, httpsRequest, makeCertificates, openssl, startTlsGateway, tlsListener } from './tls_support.mjs';

after(cleanupAll);

// A gateway over `up` whose [tls] listener serves `cert`/`key`.
const startTlsGatewayWith = (up, cert, key, server = {}) =>
  startTlsGateway({ nodes: [up], server, tls: { cert_file: cert, key_file: key } });

describe('TLS listener', () => {
  let cert;
  let up;
  let gw;
  before(async () => {
    cert = await makeCertificates();
    up = await startUpstream({ name: 'a', models: ['m1'] });
    gw = await startTlsGatewayWith(up, cert('server.pem'), cert('server.key'), { header_timeout: '1s' });
    await gw.waitHealthy(['a']);
  });

  test('curl gets a chat completion over TLS, trusting the test CA', async () => {
    const r = await curl(['--cacert', cert('ca.pem'), '-H', 'content-type: application/json',
      '-d', JSON.stringify(chatBody('m1')), `https://127.0.0.1:${gw.tlsPort}/v1/chat/completions`]);
    assert.equal(r.code, 0, `curl succeeded: ${r.stderr}`);
    const body = JSON.parse(r.stdout);
    assert.equal(body.object, 'chat.completion');
    assert.ok(body.choices[0].message.content.length > 0);
    const line = await gw.waitForLog((l) => l.msg === 'request' && l.path === '/v1/chat/completions' && l.client_tls === true);
    assert.equal(line.status, 200);
  });

  test('Node https: a completion and a stream, ALPN http/1.1, TLS 1.3 preferred', async () => {
    const ca = fs.readFileSync(cert('ca.pem'));
    const plainRes = await httpsRequest(gw.tlsPort, { method: 'POST', path: '/v1/chat/completions', json: chatBody('m1'), ca });
    assert.equal(plainRes.status, 200);
    assert.equal(JSON.parse(plainRes.text).object, 'chat.completion');
    assert.equal(plainRes.alpn, 'http/1.1', 'ALPN selected http/1.1');
    assert.equal(plainRes.protocol, 'TLSv1.3');

    const s = await httpsRequest(gw.tlsPort, {
      method: 'POST', path: '/v1/chat/completions', json: chatBody('m1', { stream: true }), ca,
    });
    assert.equal(s.status, 200);
    assert.match(String(s.headers['content-type']), /^text\/event-stream/);
    const { events } = parseSse(s.text);
    assert.ok(events.length >= 2, `several events (got ${events.length})`);
    assert.equal(events.at(-1).data, '[DONE]');
    assert.equal(JSON.parse(events[0].data).object, 'chat.completion.chunk');
  });

  test('the plain listener keeps working next to the TLS one', async () => {
    const r = await request(`${gw.url}/v1/chat/completions`, { method: 'POST', json: chatBody('m1') });
    assert.equal(r.status, 200);
    const line = await gw.waitForLog((l) => l.msg === 'request' && l.path === '/v1/chat/completions' && l.client_tls === false);
    assert.equal(line.status, 200);
  });

  test('a client that does not trust the certificate fails the handshake (counted)', async () => {
    const before = await gw.metric('laneway_tls_handshake_failures_total', { reason: 'failed' });
    // curl (OpenSSL) verifies inside the handshake and sends an alert: the server counts it.
    const r = await curl([`https://127.0.0.1:${gw.tlsPort}/health`]);
    assert.equal(r.code, 60, `curl refuses an unknown issuer (exit 60): ${r.stderr}`);
    await waitFor(async () => (await gw.metric('laneway_tls_handshake_failures_total', { reason: 'failed' })) >= before + 1,
      5000, 'the failed handshake counted');
    // Node verifies after the handshake and drops the connection.
    await assert.rejects(httpsRequest(gw.tlsPort, { path: '/health' }), (e) => {
      assert.match(String(e.code), /UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_GET_ISSUER_CERT/);
      return true;
    });
  });

  test('a name the certificate does not cover fails verification', async () => {
    const r = await curl(['--cacert', cert('ca.pem'), '--resolve', `wrong.example:${gw.tlsPort}:127.0.0.1`,
      `https://wrong.example:${gw.tlsPort}/health`]);
    assert.equal(r.code, 60, `curl refuses the host name (exit 60): ${r.stderr}`);
    assert.match(r.stderr, /wrong\.example|subject|name/i);
    const ok = await curl(['--cacert', cert('ca.pem'), '--resolve', `localhost:${gw.tlsPort}:127.0.0.1`,
      `https://localhost:${gw.tlsPort}/health`]);
    assert.equal(ok.code, 0, `localhost is covered: ${ok.stderr}`);
  });

  test('TLS 1.1 is refused, TLS 1.2 accepted with an ECDHE cipher', async (t) => {
    const base = ['s_client', '-connect', `127.0.0.1:${gw.tlsPort}`, '-servername', 'localhost', '-CAfile', cert('ca.pem')];
    const v12 = await runCommand('openssl', [...base, '-tls1_2', '-alpn', 'http/1.1'], { timeoutMs: 15000 });
    assert.match(v12.stdout, /Protocol\s*:\s*TLSv1\.2/, `TLS 1.2 negotiated:\n${v12.stdout}\n${v12.stderr}`);
    assert.match(v12.stdout, /Cipher\s*:\s*ECDHE-/, 'an ECDHE suite for TLS 1.2');
    assert.match(v12.stdout, /ALPN protocol: http\/1\.1/);
    const v11 = await runCommand('openssl', [...base, '-tls1_1', '-cipher', 'DEFAULT@SECLEVEL=0'], { timeoutMs: 15000 });
    const out = `${v11.stdout}\n${v11.stderr}`;
    if (/no protocols available|unknown option|wrong version number/i.test(out) && !/alert protocol version/i.test(out)) {
      t.skip(`the local openssl cannot offer TLS 1.1: ${out.split('\n').find((l) => /error|unknown/i.test(l))}`);
      return;
    }
    assert.notEqual(v11.code, 0, 'the TLS 1.1 handshake fails');
    assert.match(v11.stdout, /Cipher is \(NONE\)/, 'no TLS 1.1 session was established');
    assert.match(out, /alert protocol version|unsupported protocol/i, `the server refused the version:\n${out}`);
  });

  test('a client that never finishes the handshake is closed after header_timeout', async () => {
    const before = await gw.metric('laneway_tls_handshake_failures_total', { reason: 'timeout' });
    const started = Date.now();
    const closed = await withTimeout(new Promise((resolve) => {
      const sock = net.connect(gw.tlsPort, '127.0.0.1');
      sock.on('error', () => resolve(Date.now() - started));
      sock.on('close', () => resolve(Date.now() - started));
      sock.resume();
    }), 8000, 'the server closes a silent TLS connection');
    assert.ok(closed >= 800, `closed after the 1s header_timeout, not at once (${closed} ms)`);
    await waitFor(async () => (await gw.metric('laneway_tls_handshake_failures_total', { reason: 'timeout' })) === before + 1,
      3000, 'the timeout counted');
  });
});

describe('TLS certificates that clients refuse, and bad files', () => {
  let cert;
  let up;
  before(async () => {
    cert = await makeCertificates();
    up = await startUpstream({ name: 'b', models: ['m1'] });
  });

  test('an expired certificate starts with a warning and clients refuse it', async () => {
    const gw = await startTlsGatewayWith(up, cert('expired.pem'), cert('expired.key'));
    assert.ok(gw.logs.some((l) => /expired/.test(l.msg ?? '')), 'the expired certificate is logged at start');
    await assert.rejects(httpsRequest(gw.tlsPort, { path: '/health', ca: fs.readFileSync(cert('ca.pem')) }),
      (e) => e.code === 'CERT_HAS_EXPIRED');
    const r = await curl(['--cacert', cert('ca.pem'), `https://127.0.0.1:${gw.tlsPort}/health`]);
    assert.equal(r.code, 60, `curl refuses an expired certificate: ${r.stderr}`);
    await gw.stop();
  });

  test('a self-signed certificate is refused unless the client trusts it', async () => {
    const gw = await startTlsGatewayWith(up, cert('self.pem'), cert('self.key'));
    await assert.rejects(httpsRequest(gw.tlsPort, { path: '/health', ca: fs.readFileSync(cert('ca.pem')) }),
      (e) => e.code === 'DEPTH_ZERO_SELF_SIGNED_CERT');
    const ok = await httpsRequest(gw.tlsPort, { path: '/health', ca: fs.readFileSync(cert('self.pem')) });
    assert.equal(ok.status, 200);
    await gw.stop();
  });

  test('bad TLS files exit 2 naming the key', async () => {
    const garbage = writeTempFile('garbage.pem', 'not a certificate\n');
    const encrypted = writeTempFile('encrypted.key', '');
    await openssl(['pkey', '-in', cert('server.key'), '-aes256', '-passout', 'pass:secret', '-out', encrypted]);
    const cases = [
      { cert: cert('missing.pem'), key: cert('server.key'), want: /tls\.cert_file: cannot read/ },
      { cert: cert('server.pem'), key: cert('missing.key'), want: /tls\.key_file: cannot read/ },
      { cert: garbage, key: cert('server.key'), want: /tls\.cert_file: .* is not a PEM certificate chain/ },
      { cert: cert('server.pem'), key: garbage, want: /tls\.key_file: .* is not an unencrypted PEM private key/ },
      { cert: cert('server.pem'), key: encrypted, want: /tls\.key_file: .* is not an unencrypted PEM private key/ },
      { cert: cert('server.pem'), key: cert('self.key'), want: /tls\.key_file: the key in .* does not match the certificate/ },
    ];
    for (const c of cases) {
      const file = writeTempFile('gateway.toml', gatewayConfig({ nodes: [up], raw: tlsListener({ cert_file: c.cert, key_file: c.key }) }));
      const r = await runLaneway(['gateway', '-c', file]);
      assert.equal(r.code, 2, `exit 2 for ${c.want}: ${r.stderr}`);
      assert.match(r.stderr, c.want);
    }
    const file = writeTempFile('gateway.toml', gatewayConfig({ nodes: [up], raw: '[tls]\nlisten = "127.0.0.1:0"\n' }));
    const r = await runLaneway(['gateway', '-c', file, '--check']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /tls\.cert_file: is required/);
  });
});
