// TLS on the gateway→node hop, with real laneway workers on the bundled model serving [tls]
// (certificates made at test time with the openssl CLI, tls_support.mjs). One gateway holds
// several https nodes that differ only in how they reach their worker: a good chain, a name the
// certificate does not cover, no trust anchor for the test CA (system store), a matching pin and
// a mismatched one, an expired and a self-signed worker certificate, and a worker that requires
// client certificates (reached with and without one). The good nodes serve curl and the openai
// npm client through gateway TLS → gateway → TLS → worker; the bad ones stay unhealthy and the
// log and metrics say why. Pooled TLS connections are reused; a worker reloads its certificate
// on SIGHUP.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  chatBody, cleanupAll, gatewayConfig, makeTempDir, parseSse, request, runCommand, runLaneway, startGateway,
  startGatewayOver, TEST_DIR, waitFor, writeTempFile,
} from './harness.mjs';
import {
  curl, fingerprint, hexOf, httpsRequest, makeCertificates, replaceableCertificate, sClient, startTlsGateway,
  startTlsWorker, tlsListener, tomlTable,
} from './tls_support.mjs';

after(cleanupAll);

const MODEL = 'stories260K';

function nodeTable(name, port, tls = {}) {
  return tomlTable('[[nodes]]', { name, url: `https://127.0.0.1:${port}`, kind: 'laneway', ...tls });
}

describe('gateway → TLS → laneway workers', () => {
  let cert;
  let good;
  let expired;
  let selfSigned;
  let mutual;
  let gw;
  let gwTlsPort;

  before(async () => {
    cert = await makeCertificates();
    [good, expired, selfSigned, mutual] = await Promise.all([
      startTlsWorker('worker:good', { cert_file: cert('server.pem'), key_file: cert('server.key') }),
      startTlsWorker('worker:expired', { cert_file: cert('expired.pem'), key_file: cert('expired.key') }),
      startTlsWorker('worker:self', { cert_file: cert('self.pem'), key_file: cert('self.key') }),
      startTlsWorker('worker:mtls', {
        cert_file: cert('server.pem'), key_file: cert('server.key'), client_ca_file: cert('ca.pem'), client_certs: 'required',
      }),
    ]);
    const ca = cert('ca.pem');
    const raw = [
      nodeTable('good', good.tlsPort, { tls_ca_file: ca }),
      nodeTable('pin_ok', good.tlsPort, { tls_pin_sha256: await fingerprint(cert('server.pem')) }),
      nodeTable('mtls_ok', mutual.tlsPort, { tls_ca_file: ca, tls_cert_file: cert('client.pem'), tls_key_file: cert('client.key') }),
      nodeTable('wrong_host', good.tlsPort, { tls_ca_file: ca, tls_server_name: 'wrong.example' }),
      nodeTable('untrusted', good.tlsPort, {}),
      nodeTable('pin_bad', good.tlsPort, { tls_pin_sha256: await fingerprint(cert('self.pem')) }),
      nodeTable('expired', expired.tlsPort, { tls_ca_file: ca }),
      nodeTable('self_signed', selfSigned.tlsPort, { tls_ca_file: ca }),
      nodeTable('mtls_missing', mutual.tlsPort, { tls_ca_file: ca }),
    ].join('\n');
    gw = await startTlsGateway({ tls: { cert_file: cert('server.pem'), key_file: cert('server.key') }, raw });
    gwTlsPort = gw.tlsPort;
    await gw.waitHealthy(['good', 'pin_ok', 'mtls_ok'], 1, 20000);
  });

  test('curl: a completion through both TLS hops; the log line says both hops were TLS', async () => {
    const r = await curl(['--cacert', cert('ca.pem'), '-H', 'content-type: application/json',
      '-d', JSON.stringify(chatBody(MODEL, { max_tokens: 8 })), `https://127.0.0.1:${gwTlsPort}/v1/chat/completions`]);
    assert.equal(r.code, 0, `curl succeeded: ${r.stderr}`);
    const body = JSON.parse(r.stdout);
    assert.equal(body.object, 'chat.completion');
    assert.equal(body.model, MODEL);
    const line = await gw.waitForLog((l) => l.msg === 'request' && l.path === '/v1/chat/completions' && l.client_tls === true);
    assert.equal(line.status, 200);
    assert.equal(line.upstream_tls, true, 'the node hop was TLS');
    assert.ok(['good', 'pin_ok', 'mtls_ok'].includes(line.node), `a good node answered (${line.node})`);
    const handshakes = await gw.metric('laneway_upstream_tls_handshake_seconds_count', { node: line.node });
    assert.ok(handshakes >= 1, 'the handshake time is in the per-node histogram');
  });

  test('a stream through both hops, and pooled TLS connections are reused', async () => {
    const ca = fs.readFileSync(cert('ca.pem'));
    const opened = async () => gw.metric('laneway_upstream_connections_opened_total');
    const reused = async () => gw.metric('laneway_upstream_connections_reused_total');
    const before = { opened: await opened(), reused: await reused() };
    const n = 6;
    for (let i = 0; i < n; i++) {
      const s = await httpsRequest(gwTlsPort, {
        method: 'POST', path: '/v1/chat/completions', json: chatBody(MODEL, { stream: true, max_tokens: 8 }), ca,
      });
      assert.equal(s.status, 200);
      const { events } = parseSse(s.text);
      assert.equal(events.at(-1).data, '[DONE]');
      assert.equal(JSON.parse(events[0].data).object, 'chat.completion.chunk');
    }
    const after = { opened: await opened(), reused: await reused() };
    // Three good nodes and two I/O threads: at most six pools to fill; the rest reuse.
    assert.ok(after.reused - before.reused >= 1, `requests reused pooled TLS connections (${JSON.stringify({ before, after })})`);
    assert.ok(after.opened - before.opened < n, `not one new connection (and handshake) per request (${JSON.stringify({ before, after })})`);
    const logs = gw.accessLogs().filter((l) => l.path === '/v1/chat/completions' && l.upstream_tls === true);
    assert.ok(logs.length >= n, 'every request logged with upstream_tls');
  });

  test('the openai npm client over TLS (trusting the test CA through NODE_EXTRA_CA_CERTS)', async () => {
    const script = writeTempFile('openai_tls.mjs', `
      import OpenAI from ${JSON.stringify(path.join(TEST_DIR, 'node_modules', 'openai', 'index.mjs'))};
      const client = new OpenAI({ baseURL: process.argv[2], apiKey: 'unused', maxRetries: 0, timeout: 15000 });
      const done = await client.chat.completions.create({ model: ${JSON.stringify(MODEL)}, max_tokens: 8,
        messages: [{ role: 'user', content: 'Once upon a time' }] });
      const stream = await client.chat.completions.create({ model: ${JSON.stringify(MODEL)}, max_tokens: 8, stream: true,
        messages: [{ role: 'user', content: 'Once upon a time' }] });
      let chunks = 0;
      for await (const chunk of stream) if (chunk.object === 'chat.completion.chunk') chunks++;
      const models = await client.models.list();
      console.log(JSON.stringify({ object: done.object, content: done.choices[0].message.content, chunks,
        models: models.data.map((m) => m.id) }));
    `);
    const r = await runCommand(process.execPath, [script, `https://localhost:${gwTlsPort}/v1`], {
      timeoutMs: 30000, env: { ...process.env, NODE_EXTRA_CA_CERTS: cert('ca.pem') },
    });
    assert.equal(r.code, 0, `the openai client succeeded: ${r.stderr}`);
    const out = JSON.parse(r.stdout.trim().split('\n').at(-1));
    assert.equal(out.object, 'chat.completion');
    assert.ok(out.content.length > 0);
    assert.ok(out.chunks >= 1, 'stream chunks arrived');
    assert.ok(out.models.includes(MODEL));
  });

  test('nodes whose TLS does not verify stay unhealthy, and the log says why', async () => {
    const why = {
      wrong_host: { reason: 'verify_failed', error: /hostname mismatch/ },
      untrusted: { reason: 'verify_failed', error: /unable to get local issuer certificate/ },
      pin_bad: { reason: 'pin_mismatch', error: /certificate has SHA-256 [0-9a-f]{64}, not the pinned [0-9a-f]{64}/ },
      expired: { reason: 'verify_failed', error: /certificate has expired/ },
      self_signed: { reason: 'verify_failed', error: /self[- ]signed certificate/ },
      // TLS 1.3: the client's handshake completes; the node's alert comes with the first read.
      mtls_missing: { reason: 'alert', error: /refused by the node: .*certificate required/ },
    };
    for (const [node, want] of Object.entries(why)) {
      const line = await gw.waitForLog((l) => l.msg === 'upstream TLS handshake failed' && l.node === node, 10000);
      assert.equal(line.reason, want.reason, `${node}: reason`);
      assert.match(line.error, want.error, `${node}: the error says why`);
      await waitFor(async () => (await gw.metric('laneway_upstream_tls_handshake_failures_total', { node, reason: want.reason })) >= 2,
        10000, `${node}: failures counted per probe`);
      assert.equal(await gw.metric('laneway_node_healthy', { node }), 0, `${node} is not routable`);
    }
    // Logged once per change of reason, not once per probe.
    const lines = gw.logs.filter((l) => l.msg === 'upstream TLS handshake failed' && l.node === 'wrong_host');
    assert.equal(lines.length, 1, 'one line while the reason stays the same');
    const samples = await gw.samples('laneway_upstream_tls_handshake_failures_total');
    assert.ok(!samples.some((s) => ['good', 'pin_ok', 'mtls_ok'].includes(s.labels.node)), 'no failures for the good nodes');
  });

  test('the worker that requires client certificates refuses a client without one', async () => {
    const ca = fs.readFileSync(cert('ca.pem'));
    await assert.rejects(httpsRequest(mutual.tlsPort, { path: '/health', ca }), (e) => {
      assert.match(`${e.code} ${e.message}`, /ECONNRESET|certificate required|alert|socket hang up|EPIPE/i);
      return true;
    });
    const ok = await httpsRequest(mutual.tlsPort, {
      path: '/health', ca, cert: fs.readFileSync(cert('client.pem')), key: fs.readFileSync(cert('client.key')),
    });
    assert.equal(ok.status, 200);
  });
});

describe('TLS session resumption on the node hop', () => {
  // No idle connections are kept (max_idle_per_node = 0), so every request opens a new
  // connection and makes a handshake: after the node's first ticket, each one should resume.
  let cert;
  let w;
  let gw;
  let pin;
  const handshakes = (node, result) => gw.metric('laneway_upstream_tls_handshakes_total', { node, result });
  const config = (nodes) => gatewayConfig({ upstream: { max_idle_per_node: 0 }, routing: { policy: 'round_robin' }, raw: nodes });
  const nodes = ({ caFile, pinValue }) => [
    nodeTable('ca', w.tlsPort, { tls_ca_file: caFile }),
    nodeTable('pin', w.tlsPort, { tls_pin_sha256: pinValue }),
  ].join('\n');

  before(async () => {
    cert = await makeCertificates();
    pin = await fingerprint(cert('server.pem'));
    w = await startTlsWorker('worker:resume', { cert_file: cert('server.pem'), key_file: cert('server.key') });
    const start = () => startGateway({ config: config(nodes({ caFile: cert('ca.pem'), pinValue: pin })) });
    gw = await startGatewayOver([{ name: 'ca' }, { name: 'pin' }], { model: MODEL, healthyTimeoutMs: 20000, start });
    await settled();
  });

  // Each node's probe, load poller and KV-event stream hold their own connections; once all three
  // are up, the only new connections are the requests'.
  async function settled() {
    for (const node of ['ca', 'pin']) {
      await waitFor(async () => (await gw.metric('laneway_node_load_reports_total', { node, result: 'ok' })) >= 1 &&
        (await gw.metric('laneway_kv_events_total', { node, event: 'snapshot' })) >= 1, 10000, `${node}: load and KV streams up`);
    }
  }

  async function completions(n) {
    for (let i = 0; i < n; i++) {
      const r = await request(`${gw.url}/v1/chat/completions`, { json: chatBody(MODEL, { max_tokens: 4 }), timeoutMs: 30000 });
      assert.equal(r.status, 200, r.text);
    }
  }

  test('the worker\'s listener issues session tickets and resumes them (TLS 1.3 and 1.2, s_client)', async () => {
    const sess = path.join(makeTempDir('laneway-sess-'), 'session.pem');
    const req = 'GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n';
    for (const v of ['3', '2']) {
      const args = ['-CAfile', cert('ca.pem'), `-tls1_${v}`];
      const first = await sClient(w.tlsPort, [...args, '-sess_out', sess], req);
      assert.match(first, new RegExp(`^New, TLSv1\\.${v}`, 'm'), `TLS 1.${v}: a new session first:\n${first}`);
      assert.match(first, /HTTP\/1\.1 200/);
      const again = await sClient(w.tlsPort, [...args, '-sess_in', sess], req);
      assert.match(again, new RegExp(`^Reused, TLSv1\\.${v}`, 'm'), `TLS 1.${v}: the ticket resumed the session:\n${again}`);
      assert.match(again, /HTTP\/1\.1 200/);
    }
  });

  test('new connections resume the node\'s session; a pinned node checks the pin on resumed sessions', async () => {
    const before = {};
    for (const node of ['ca', 'pin']) before[node] = { full: await handshakes(node, 'full'), resumed: await handshakes(node, 'resumed') };
    assert.ok(before.ca.full >= 1 && before.pin.full >= 1, `the first handshakes were full (${JSON.stringify(before)})`);
    const n = 6;
    const logged = gw.accessLogs().length;
    await completions(n);
    for (const node of ['ca', 'pin']) {
      const full = await handshakes(node, 'full');
      const resumed = await handshakes(node, 'resumed');
      // Round robin: about half of the requests each, on a new connection each.
      assert.ok(resumed > before[node].resumed, `${node}: new connections resumed (${before[node].resumed} → ${resumed})`);
      assert.equal(full, before[node].full, `${node}: no full handshake once a session is kept`);
      assert.equal(await gw.metric('laneway_upstream_tls_handshake_failures_total', { node }), 0, `${node}: no failures`);
    }
    const lines = gw.accessLogs().slice(logged).filter((l) => l.path === '/v1/chat/completions');
    assert.equal(lines.length, n);
    assert.ok(lines.every((l) => l.upstream_tls === true && l.upstream_tls_resumed === true && l.reused === false),
      `the access log says each hop resumed: ${JSON.stringify(lines.map((l) => [l.node, l.reused, l.upstream_tls_resumed]))}`);
    const resumedNow = (await handshakes('ca', 'resumed')) + (await handshakes('pin', 'resumed'));
    assert.ok(resumedNow - before.ca.resumed - before.pin.resumed >= n, 'every request\'s connection resumed');
    const timed = (await gw.metric('laneway_upstream_tls_handshake_seconds_count', { node: 'ca' })) +
      (await gw.metric('laneway_upstream_tls_handshake_seconds_count', { node: 'pin' }));
    assert.ok(timed >= before.ca.full + before.pin.full + n, 'resumed handshakes are timed in the same histogram');
  });

  test('a node whose CA or pin changed does not resume the old session', async () => {
    // Same CA under another path and a wrong pin: a reload rebuilds both nodes.
    const dir = makeTempDir('laneway-resume-');
    const caCopy = path.join(dir, 'ca-copy.pem');
    fs.copyFileSync(cert('ca.pem'), caCopy);
    const before = {
      caFull: await handshakes('ca', 'full'), caResumed: await handshakes('ca', 'resumed'),
      pinFailed: await handshakes('pin', 'failed'),
    };
    fs.writeFileSync(gw.configFile, config(nodes({ caFile: caCopy, pinValue: await fingerprint(cert('server2.pem')) })));
    gw.proc.kill('SIGHUP');
    const line = await gw.waitForLog((l) => l.msg === 'config reloaded', 5000);
    assert.deepEqual([...line.added].sort(), ['ca', 'pin'], 'both nodes were rebuilt');
    await waitFor(async () => (await gw.metric('laneway_upstream_tls_handshake_failures_total', { node: 'pin', reason: 'pin_mismatch' })) >= 1,
      10000, 'the new pin is checked');
    await gw.waitHealthy(['ca'], 1, 10000);
    await gw.waitHealthy(['pin'], 0, 10000);
    // The rebuilt node's first handshake was a full one: the old node's session was not offered.
    assert.ok((await handshakes('ca', 'full')) >= before.caFull + 1, 'a full handshake after the CA changed');
    assert.ok((await handshakes('pin', 'failed')) > before.pinFailed, 'the pin node\'s handshakes fail');
    // And the rebuilt node keeps its own session from then on.
    const caResumed = await handshakes('ca', 'resumed');
    await completions(2);
    assert.ok((await handshakes('ca', 'resumed')) >= caResumed + 2, 'the rebuilt node resumes its own session');
    assert.ok((await handshakes('ca', 'resumed')) > before.caResumed);
  });
});

describe('worker [tls] at start', () => {
  test('a bad file stops the worker before it serves, naming the key and the file', async () => {
    const cert = await makeCertificates();
    const garbage = writeTempFile('garbage.pem', 'not a certificate\n');
    const cases = [
      { tls: { cert_file: cert('missing.pem'), key_file: cert('server.key') }, want: /tls\.cert_file: cannot read .*missing\.pem/ },
      { tls: { cert_file: cert('server.pem'), key_file: garbage }, want: /tls\.key_file: .*garbage\.pem.* is not an unencrypted PEM private key/ },
      { tls: { cert_file: cert('server.pem'), key_file: cert('self.key') }, want: /tls\.key_file: the key in .* does not match/ },
      { tls: { cert_file: cert('server.pem'), key_file: cert('server.key'), client_ca_file: garbage },
        want: /tls\.client_ca_file: .*garbage\.pem.* holds no PEM CA certificate/ },
      { tls: { cert_file: cert('server.pem'), key_file: cert('server.key'), client_certs: 'sometimes' },
        want: /tls\.client_certs: must be one of off, optional, required/ },
    ];
    for (const c of cases) {
      const file = writeTempFile('worker.toml', tlsListener(c.tls));
      const r = await runLaneway(['worker', '-c', file, '--port', '0', '--threads', '1'], { timeoutMs: 20000 });
      assert.notEqual(r.code, 0, `the worker refuses to start: ${c.want}`);
      assert.match(r.stderr, c.want);
      assert.ok(!r.stderr.includes('"msg":"listening"'), 'it never listened');
    }
  });
});

describe('worker certificate reload on SIGHUP', () => {
  test('new handshakes get the new certificate; a bad file keeps the old one', async () => {
    const cert = await makeCertificates();
    const reloaded = replaceableCertificate(cert);
    const { cert_file: certFile, key_file: keyFile } = reloaded;
    const w = await startTlsWorker('worker:reload', { cert_file: certFile, key_file: keyFile });
    const ca = fs.readFileSync(cert('ca.pem'));
    const first = hexOf(await fingerprint(cert('server.pem')));
    const second = hexOf(await fingerprint(cert('server2.pem')));
    assert.equal(hexOf((await httpsRequest(w.tlsPort, { path: '/health', ca })).peerFingerprint), first);

    reloaded.use('server2');
    w.proc.kill('SIGHUP');
    const loaded = await w.proc.waitForLine((l) => l.includes('TLS certificate loaded') && l.includes(second), 10000);
    assert.ok(loaded.includes('"listener":"worker"'));
    assert.equal(hexOf((await httpsRequest(w.tlsPort, { path: '/health', ca })).peerFingerprint), second);

    fs.writeFileSync(keyFile, 'not a key\n');
    w.proc.kill('SIGHUP');
    const failed = await w.proc.waitForLine((l) => l.includes('TLS certificate reload failed'), 10000);
    assert.match(failed, /tls\.key_file/);
    assert.ok(failed.includes(keyFile), 'the error names the file');
    assert.equal(hexOf((await httpsRequest(w.tlsPort, { path: '/health', ca })).peerFingerprint), second,
      'the loaded certificate stays');
    assert.equal((await request(`${w.url}/health`)).status, 200, 'the plain listener is untouched');
  });
});
