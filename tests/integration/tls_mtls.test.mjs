// Client certificates on the gateway's TLS listener (certificates made at test time with the
// openssl CLI, tls_support.mjs): required (no certificate or one from another CA: handshake
// refused) and optional (no certificate and no key: 401 JSON); a verified certificate maps to a
// [[keys]] identity by fingerprint or subject CN, visible as the access log's tenant and lane; an
// API key still decides when sent. Session tickets really resume (openssl s_client -sess_out /
// -sess_in prints Reused) and keep the identity. SIGHUP replaces the certificate while a stream
// is open; a bad file keeps the loaded one. conf/tls-gateway.toml and conf/tls-worker.toml load.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import {
  chatBody, cleanupAll, gatewayConfig, makeTempDir, parseSse, request, runLaneway, SOURCE_DIR, startGateway,
  startUpstream, startWorker, waitFor, withTimeout,
} from './harness.mjs';
import {
  curl, fingerprint, hexOf, httpsRequest, makeCertificates, replaceableCertificate, sClient, startTlsGateway, tlsPortOf,
} from './tls_support.mjs';

after(cleanupAll);

const API_KEY = 'sk-mtls-test-key';
const sha256 = (s) => crypto.createHash('sha256').update(s).digest('hex');

async function keysToml(cert) {
  return `
[[lanes]]
name = "interactive"

[[lanes]]
name = "batch"

[[keys]]
name = "cert-client"
cert_sha256 = "${await fingerprint(cert('client.pem'))}"
tenant = "team-cert"
lane = "batch"

[[keys]]
name = "cert-agent"
cert_cn = "agent-7"
tenant = "agents"

[[keys]]
name = "key-user"
sha256 = "${sha256(API_KEY)}"
tenant = "keyed"
`;
}

async function startMtlsGateway(up, cert, mode, certFile = cert('server.pem'), keyFile = cert('server.key')) {
  const gw = await startTlsGateway({
    nodes: [up], raw: await keysToml(cert),
    tls: { cert_file: certFile, key_file: keyFile, client_ca_file: cert('ca.pem'), client_certs: mode },
  });
  await gw.waitHealthy([up.name]);
  return gw;
}

function withCert(cert, name) {
  return ['--cacert', cert('ca.pem'), '--cert', cert(`${name}.pem`), '--key', cert(`${name}.key`)];
}

const chatArgs = (port) => ['-H', 'content-type: application/json', '-d', JSON.stringify(chatBody('m1')),
  `https://127.0.0.1:${port}/v1/chat/completions`];

describe('client certificates required', () => {
  let cert;
  let up;
  let gw;
  before(async () => {
    cert = await makeCertificates();
    up = await startUpstream({ name: 'a', models: ['m1'] });
    gw = await startMtlsGateway(up, cert, 'required');
  });

  test('a certificate mapped by fingerprint: its tenant and lane in the access log', async () => {
    const r = await curl([...withCert(cert, 'client'), ...chatArgs(gw.tlsPort)]);
    assert.equal(r.code, 0, `curl with a client certificate: ${r.stderr}`);
    assert.equal(JSON.parse(r.stdout).object, 'chat.completion');
    const line = await gw.waitForLog((l) => l.msg === 'request' && l.path === '/v1/chat/completions' && l.tenant === 'team-cert');
    assert.equal(line.status, 200);
    assert.equal(line.lane, 'batch', "the entry's lane");
    assert.equal(line.client_tls, true);
  });

  test('a certificate mapped by subject CN', async () => {
    const r = await curl([...withCert(cert, 'agent'), ...chatArgs(gw.tlsPort)]);
    assert.equal(r.code, 0, r.stderr);
    const line = await gw.waitForLog((l) => l.msg === 'request' && l.tenant === 'agents');
    assert.equal(line.status, 200);
  });

  test('no certificate, or one from another CA: the handshake is refused (counted)', async () => {
    const before = await gw.metric('laneway_tls_handshake_failures_total', { reason: 'failed' });
    const none = await curl(['--cacert', cert('ca.pem'), ...chatArgs(gw.tlsPort)]);
    assert.notEqual(none.code, 0, 'curl without a certificate fails');
    assert.match(none.stderr, /certificate required|alert|handshake|SSL|reset/i);
    const rogue = await curl([...withCert(cert, 'rogue'), ...chatArgs(gw.tlsPort)]);
    assert.notEqual(rogue.code, 0, 'a certificate the client CA did not sign fails');
    await waitFor(async () => (await gw.metric('laneway_tls_handshake_failures_total', { reason: 'failed' })) >= before + 2,
      5000, 'both refusals counted');
  });

  test('an API key, when sent, decides over the certificate', async () => {
    const ok = await curl([...withCert(cert, 'client'), '-H', `authorization: Bearer ${API_KEY}`, ...chatArgs(gw.tlsPort)]);
    assert.equal(ok.code, 0, ok.stderr);
    await gw.waitForLog((l) => l.msg === 'request' && l.tenant === 'keyed' && l.status === 200);
    const bad = await curl([...withCert(cert, 'client'), '-H', 'authorization: Bearer sk-wrong', '-w', '\n%{http_code}',
      ...chatArgs(gw.tlsPort)]);
    assert.equal(bad.stdout.trim().split('\n').at(-1), '401');
  });

  test('session tickets resume (s_client Reused) and keep the identity', async () => {
    const dir = makeTempDir('laneway-sess-');
    const sess = path.join(dir, 'session.pem');
    const req = 'GET /v1/models HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n';
    const auth = ['-CAfile', cert('ca.pem'), '-cert', cert('client.pem'), '-key', cert('client.key')];
    const first = await sClient(gw.tlsPort, [...auth, '-sess_out', sess], req);
    assert.match(first, /^New, TLSv1\.3/m, `a new session first:\n${first}`);
    assert.match(first, /HTTP\/1\.1 200/);
    assert.ok(fs.existsSync(sess) && fs.statSync(sess).size > 0, 'the session was saved');
    const second = await sClient(gw.tlsPort, [...auth, '-sess_in', sess], req);
    assert.match(second, /^Reused, TLSv1\.3/m, `the ticket resumed the session:\n${second}`);
    assert.match(second, /HTTP\/1\.1 200/, 'the resumed session still carries the verified certificate');
    const v12 = await sClient(gw.tlsPort, [...auth, '-tls1_2', '-sess_out', sess], req);
    assert.match(v12, /^New, TLSv1\.2/m);
    const v12again = await sClient(gw.tlsPort, [...auth, '-tls1_2', '-sess_in', sess], req);
    assert.match(v12again, /^Reused, TLSv1\.2/m, `TLS 1.2 resumes too:\n${v12again}`);
  });

  test('certificates are never logged', async () => {
    const pem = fs.readFileSync(cert('client.pem'), 'utf8').split('\n')[1];
    const text = [...gw.proc.stderrLines, ...gw.proc.stdoutLines].join('\n');
    assert.ok(!text.includes('BEGIN CERTIFICATE'), 'no PEM in the log');
    assert.ok(!text.includes(pem), 'no certificate body in the log');
  });
});

describe('client certificates optional', () => {
  let cert;
  let up;
  let gw;
  before(async () => {
    cert = await makeCertificates();
    up = await startUpstream({ name: 'b', models: ['m1'] });
    gw = await startMtlsGateway(up, cert, 'optional');
  });

  test('no certificate and no key: 401 with an OpenAI-style body', async () => {
    const r = await httpsRequest(gw.tlsPort, { method: 'POST', path: '/v1/chat/completions', json: chatBody('m1'),
      ca: fs.readFileSync(cert('ca.pem')) });
    assert.equal(r.status, 401);
    const body = JSON.parse(r.text);
    assert.equal(body.error.code, 'invalid_api_key');
    assert.match(body.error.message, /API key/);
  });

  test('a verified certificate without an identity: 401 naming its fingerprint', async () => {
    // The server certificate is signed by the same CA but mapped to no [[keys]] entry.
    const r = await httpsRequest(gw.tlsPort, { path: '/v1/models', ca: fs.readFileSync(cert('ca.pem')),
      cert: fs.readFileSync(cert('server.pem')), key: fs.readFileSync(cert('server.key')) });
    assert.equal(r.status, 401);
    const msg = JSON.parse(r.text).error.message;
    assert.ok(msg.includes(hexOf(await fingerprint(cert('server.pem')))), `the message names the fingerprint: ${msg}`);
  });

  test('a mapped certificate or an API key both get in; a foreign certificate does not', async () => {
    const ca = fs.readFileSync(cert('ca.pem'));
    const viaCert = await httpsRequest(gw.tlsPort, { method: 'POST', path: '/v1/chat/completions', json: chatBody('m1'), ca,
      cert: fs.readFileSync(cert('client.pem')), key: fs.readFileSync(cert('client.key')) });
    assert.equal(viaCert.status, 200);
    const viaKey = await httpsRequest(gw.tlsPort, { method: 'POST', path: '/v1/chat/completions', json: chatBody('m1'), ca,
      headers: { authorization: `Bearer ${API_KEY}` } });
    assert.equal(viaKey.status, 200);
    await gw.waitForLog((l) => l.msg === 'request' && l.tenant === 'team-cert' && l.status === 200);
    await gw.waitForLog((l) => l.msg === 'request' && l.tenant === 'keyed' && l.status === 200);
    await assert.rejects(httpsRequest(gw.tlsPort, { path: '/v1/models', ca,
      cert: fs.readFileSync(cert('rogue.pem')), key: fs.readFileSync(cert('rogue.key')) }));
  });
});

describe('certificate reload on SIGHUP', () => {
  test('a stream open across the reload finishes; new handshakes get the new certificate; a bad file keeps it', async () => {
    const cert = await makeCertificates();
    const reloaded = replaceableCertificate(cert);
    const { cert_file: certFile, key_file: keyFile } = reloaded;
    const up = await startUpstream({ name: 'r', models: ['m1'] });
    const gw = await startMtlsGateway(up, cert, 'optional', certFile, keyFile);
    const ca = fs.readFileSync(cert('ca.pem'));
    const first = hexOf(await fingerprint(cert('server.pem')));
    const second = hexOf(await fingerprint(cert('server2.pem')));
    assert.equal(await gw.metric('laneway_tls_certificate_info', { sha256: first }), 1);

    // A stream held after its first event, on a TLS connection made with the first certificate.
    let text = '';
    let peer;
    const ended = withTimeout(new Promise((resolve, reject) => {
      const body = JSON.stringify(chatBody('m1', { stream: true }));
      const req = https.request({
        host: '127.0.0.1', port: gw.tlsPort, method: 'POST', path: '/v1/chat/completions', ca, agent: false,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body),
          authorization: `Bearer ${API_KEY}`, 'x-fake-behavior': 'hold-after-first' },
      }, (res) => {
        peer = res.socket.getPeerCertificate().fingerprint256;
        res.setEncoding('utf8');
        res.on('data', (c) => { text += c; });
        res.on('end', () => resolve(res.statusCode));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    }), 20000, 'the held stream');
    await up.waitHeld(1);
    await waitFor(() => text.includes('data:'), 5000, 'the first event');
    assert.equal(hexOf(peer), first);

    reloaded.use('server2');
    gw.proc.kill('SIGHUP');
    const loaded = await gw.waitForLog((l) => l.msg === 'TLS certificate loaded' && l.sha256 === second, 10000);
    assert.equal(loaded.cert_file, certFile);
    assert.ok(loaded.not_after > Date.now() / 1000, 'not-after is logged');
    const fresh = await httpsRequest(gw.tlsPort, { path: '/health', ca });
    assert.equal(hexOf(fresh.peerFingerprint), second, 'a new handshake gets the new certificate');
    assert.equal(await gw.metric('laneway_tls_certificate_info', { sha256: second }), 1);
    assert.equal(await gw.metric('laneway_tls_certificate_info', { sha256: first }), 0, 'the old one is gone from /metrics');

    await up.control({ release: true });
    assert.equal(await ended, 200);
    const { events } = parseSse(text);
    assert.equal(events.at(-1).data, '[DONE]', 'the stream opened before the reload finished');

    fs.writeFileSync(certFile, 'not a certificate\n');
    const rejectedBefore = await gw.metric('laneway_config_reloads_total', { result: 'rejected' });
    gw.proc.kill('SIGHUP');
    const rejected = await gw.waitForLog((l) => l.msg === 'config reload rejected; the running config is kept', 10000);
    assert.match(rejected.error, /tls\.cert_file/);
    assert.ok(rejected.error.includes(certFile), 'the error names the file');
    assert.equal(await gw.metric('laneway_config_reloads_total', { result: 'rejected' }), rejectedBefore + 1);
    const still = await httpsRequest(gw.tlsPort, { path: '/health', ca });
    assert.equal(hexOf(still.peerFingerprint), second, 'the loaded certificate stays');
    assert.equal((await request(`${gw.url}/health`)).status, 200);
  });
});

describe('conf/tls-gateway.toml and conf/tls-worker.toml', () => {
  // The examples name certs/... next to them: the test puts certificates made now there.
  async function examples() {
    const cert = await makeCertificates();
    const dir = makeTempDir('laneway-conf-tls-');
    fs.mkdirSync(path.join(dir, 'certs'));
    const files = {
      'gateway.pem': 'server.pem', 'gateway.key': 'server.key', 'clients-ca.pem': 'ca.pem', 'nodes-ca.pem': 'ca.pem',
      'gateway-client.pem': 'client.pem', 'gateway-client.key': 'client.key', 'worker.pem': 'server.pem',
      'worker.key': 'server.key', 'gateway-ca.pem': 'ca.pem',
    };
    for (const [to, from] of Object.entries(files)) fs.copyFileSync(cert(from), path.join(dir, 'certs', to));
    for (const f of ['tls-gateway.toml', 'tls-worker.toml']) fs.copyFileSync(path.join(SOURCE_DIR, 'conf', f), path.join(dir, f));
    return { cert, dir };
  }

  test('the gateway example passes --check; the worker example serves the gateway over mTLS', async () => {
    const { cert, dir } = await examples();
    const r = await runLaneway(['gateway', '-c', path.join(dir, 'tls-gateway.toml'), '--check']);
    assert.equal(r.code, 0, `conf/tls-gateway.toml --check: ${r.stderr}`);
    assert.match(r.stdout, /configuration ok: 2 node/);

    // The worker example as shipped, on a free port instead of 8444.
    const workerFile = path.join(dir, 'tls-worker.toml');
    fs.writeFileSync(workerFile, fs.readFileSync(workerFile, 'utf8').replace('"0.0.0.0:8444"', '"127.0.0.1:0"'));
    const w = await startWorker({ label: 'worker:conf', args: ['-c', workerFile] });
    const tlsPort = tlsPortOf(w);
    const raw = `[[nodes]]\nname = "w"\nurl = "https://localhost:${tlsPort}"\nkind = "laneway"\n` +
      `tls_ca_file = ${JSON.stringify(cert('ca.pem'))}\ntls_cert_file = ${JSON.stringify(cert('client.pem'))}\n` +
      `tls_key_file = ${JSON.stringify(cert('client.key'))}\n`;
    const gw = await startGateway({ config: gatewayConfig({ raw }) });
    await gw.waitHealthy(['w'], 1, 20000);
    const res = await request(`${gw.url}/v1/chat/completions`, { method: 'POST', json: chatBody('stories260K', { max_tokens: 4 }),
      timeoutMs: 20000 });
    assert.equal(res.status, 200, res.text);
    const line = await gw.waitForLog((l) => l.msg === 'request' && l.node === 'w');
    assert.equal(line.upstream_tls, true);
    assert.equal(line.client_tls, false);
  });
});
