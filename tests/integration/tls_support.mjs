// Shared by the TLS tests (tls*, ladder_report). Certificates made at test time with the openssl
// CLI (EC P-256, valid two days): a CA, server certificates it signed for localhost/127.0.0.1
// (server, and server2 with another key for reload tests), an expired one (January 2020), a
// self-signed one, client certificates it signed (client: CN laneway-client; agent: CN agent-7),
// and a client certificate from another CA (rogue). Also the SHA-256 fingerprint of a
// certificate, as the config's pins and cert_sha256 take it; gateways and workers started with a
// [tls] listener; and HTTPS clients: Node's https (one request), curl.
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import {
  gatewayConfig, makeTempDir, Proc, runCommand, startGateway, startWorker, withTimeout, writeTempFile,
} from './harness.mjs';

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
export const SAN = 'subjectAltName=DNS:localhost,IP:127.0.0.1';

export async function openssl(args, cwd) {
  const r = await runCommand('openssl', args, { cwd, timeoutMs: 20000 });
  if (r.code !== 0) throw new Error(`openssl ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r;
}

// name.pem/name.key signed by caName, with the extensions in `ext` (an openssl extfile text).
async function signed(dir, name, cn, ext, caName = 'ca') {
  await openssl(['req', ...EC, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`], dir);
  fs.writeFileSync(path.join(dir, `${name}.ext`), `${ext}\n`);
  await openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', `${caName}.pem`, '-CAkey', `${caName}.key`,
    '-CAcreateserial', '-out', `${name}.pem`, '-days', '2', '-extfile', `${name}.ext`], dir);
}

export const ALL_CERTIFICATES = ['server', 'server2', 'client', 'agent', 'rogue', 'expired', 'self'];

// Returns cert(name) → the file's path in a fresh folder. The CA (ca.pem, ca.key) is always made;
// `certs` picks the rest (name.pem + name.key each; rogue comes with rogue-ca.pem).
export async function makeCertificates({ certs = ALL_CERTIFICATES } = {}) {
  const unknown = certs.filter((c) => !ALL_CERTIFICATES.includes(c));
  if (unknown.length) throw new Error(`makeCertificates: unknown ${unknown.join(', ')} (known: ${ALL_CERTIFICATES.join(', ')})`);
  const want = new Set(certs);
  const dir = makeTempDir('laneway-tls-');
  for (const ca of want.has('rogue') ? ['ca', 'rogue-ca'] : ['ca']) {
    await openssl(['req', '-x509', ...EC, '-keyout', `${ca}.key`, '-out', `${ca}.pem`, '-days', '2',
      '-subj', `/CN=laneway-test-${ca}`], dir);
  }
  const client = 'extendedKeyUsage=clientAuth';
  if (want.has('server')) await signed(dir, 'server', 'localhost', SAN);
  if (want.has('server2')) await signed(dir, 'server2', 'localhost', SAN);
  if (want.has('client')) await signed(dir, 'client', 'laneway-client', client);
  if (want.has('agent')) await signed(dir, 'agent', 'agent-7', client);
  if (want.has('rogue')) await signed(dir, 'rogue', 'laneway-client', client, 'rogue-ca');
  if (want.has('expired')) await expired(dir);
  if (want.has('self')) {
    await openssl(['req', '-x509', ...EC, '-keyout', 'self.key', '-out', 'self.pem', '-days', '2', '-subj', '/CN=localhost',
      '-addext', SAN], dir);
  }
  return (name) => path.join(dir, name);
}

// expired.pem/expired.key, signed by the CA for January 2020 (`openssl ca` takes explicit dates).
async function expired(dir) {
  fs.writeFileSync(path.join(dir, 'index.txt'), '');
  fs.writeFileSync(path.join(dir, 'serial'), '01\n');
  fs.writeFileSync(path.join(dir, 'ca.cnf'), [
    '[ca]', 'default_ca = tca', '[tca]', 'database = index.txt', 'new_certs_dir = .', 'serial = serial',
    'default_md = sha256', 'policy = anything', 'copy_extensions = copy', 'unique_subject = no',
    '[anything]', 'commonName = supplied', ''].join('\n'));
  await openssl(['req', ...EC, '-keyout', 'expired.key', '-out', 'expired.csr', '-subj', '/CN=localhost', '-addext', SAN], dir);
  await openssl(['ca', '-batch', '-config', 'ca.cnf', '-cert', 'ca.pem', '-keyfile', 'ca.key', '-in', 'expired.csr',
    '-out', 'expired.pem', '-startdate', '20200101000000Z', '-enddate', '20200102000000Z', '-notext'], dir);
}

// A certificate and key at paths of their own for reload tests, first a copy of `name`'s
// (name.pem, name.key); use(other) copies another pair over them.
export function replaceableCertificate(cert, name = 'server') {
  const dir = makeTempDir('laneway-reload-tls-');
  const files = { cert_file: path.join(dir, 'reloaded.pem'), key_file: path.join(dir, 'reloaded.key') };
  const use = (other) => {
    fs.copyFileSync(cert(`${other}.pem`), files.cert_file);
    fs.copyFileSync(cert(`${other}.key`), files.key_file);
  };
  use(name);
  return { ...files, use };
}

// "AB:CD:..." as `openssl x509 -fingerprint -sha256` prints it (the config accepts this form).
export async function fingerprint(file) {
  const r = await openssl(['x509', '-in', file, '-noout', '-fingerprint', '-sha256']);
  const m = /=([0-9A-F:]+)\s*$/.exec(r.stdout.trim());
  if (!m) throw new Error(`no fingerprint in ${r.stdout}`);
  return m[1];
}

// The same, as the gateway logs and exports it: lowercase hex without colons.
export const hexOf = (fp) => fp.replaceAll(':', '').toLowerCase();

// The TCP port at the end of a listening line's address ("127.0.0.1:8443").
export function portOf(address) {
  const m = /:(\d+)$/.exec(String(address));
  if (!m) throw new Error(`no port in ${address}`);
  return Number(m[1]);
}

// A TOML table of string values (undefined ones left out).
export function tomlTable(head, obj) {
  const lines = Object.entries(obj).filter(([, v]) => v !== undefined).map(([k, v]) => `${k} = ${JSON.stringify(v)}`);
  return `${head}\n${lines.join('\n')}\n`;
}

// The [tls] table of a listener on a free loopback port: cert_file, key_file, client_ca_file, ...
export const tlsListener = (tls) => tomlTable('[tls]', { listen: '127.0.0.1:0', ...tls });

// The TLS listener's port from a started gateway's or worker's `listening` line.
export function tlsPortOf(started) {
  return portOf(started.logs.find((l) => l.msg === 'listening')?.tls_address);
}

// A gateway (startGateway) with a [tls] listener (`tls`), its config sections and `raw` TOML
// as gatewayConfig takes them; `gw.tlsPort` is the TLS port.
export async function startTlsGateway({ tls, raw = '', ...sections }) {
  const gw = await startGateway({ config: gatewayConfig({ ...sections, raw: `${tlsListener(tls)}\n${raw}` }) });
  gw.tlsPort = tlsPortOf(gw);
  return gw;
}

// A worker (startWorker) with a [tls] listener next to its plain one; `w.tlsPort` is the TLS port.
export async function startTlsWorker(label, tls) {
  const w = await startWorker({ label, args: ['-c', writeTempFile('worker.toml', tlsListener(tls))] });
  w.tlsPort = tlsPortOf(w);
  return w;
}

// One HTTPS request with Node; resolves {status, headers, text, alpn, protocol} or rejects with
// the TLS error (err.code, e.g. UNABLE_TO_VERIFY_LEAF_SIGNATURE).
export function httpsRequest(port, { method = 'GET', path: p = '/', json, ca, cert, key, servername, headers = {}, timeoutMs = 10000 } = {}) {
  return withTimeout(new Promise((resolve, reject) => {
    const body = json === undefined ? undefined : JSON.stringify(json);
    const req = https.request({
      host: '127.0.0.1', port, method, path: p, ca, cert, key, servername, agent: false, ALPNProtocols: ['http/1.1'],
      headers: { ...headers, ...(body ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } : {}) },
    }, (res) => {
      const alpn = res.socket.alpnProtocol;
      const protocol = res.socket.getProtocol();
      const peer = res.socket.getPeerCertificate();
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({
        status: res.statusCode, headers: res.headers, text: Buffer.concat(chunks).toString('utf8'),
        alpn, protocol, peerFingerprint: peer?.fingerprint256,
      }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  }), timeoutMs, `https request to port ${port}`);
}

// `openssl s_client` sending one HTTP request; resolves its stdout + stderr.
export async function sClient(port, args, httpRequest) {
  const p = new Proc('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', 'localhost', '-ign_eof', ...args],
    { label: 's_client' });
  p.child.stdin.end(httpRequest);
  await p.waitExit(15000);
  return `${p.stdoutLines.join('\n')}\n${p.stderrLines.join('\n')}`;
}

export async function curl(args) {
  return runCommand('curl', ['-sS', '--max-time', '10', ...args], { timeoutMs: 15000 });
}

