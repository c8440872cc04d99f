// Shared by the TLS tests. Certificates made at test time with the openssl CLI (EC P-256, valid two
// days): a CA, server certificates it signed for localhost/127.0.0.1 (server, and server2 with
// another key for reload tests), an expired one (January 2020), a self-signed one, client
// certificates it signed (client: CN laneway-client; agent: CN agent-7), and a client
// certificate from another CA (rogue). Also the SHA-256 fingerprint of a certificate, as the
// config's pins and cert_sha256 take it. And HTTPS clients: Node's https (one request), curl.
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { makeTempDir, runCommand, withTimeout } from './harness.mjs';

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

// Returns cert(name) → the file's path in a fresh folder.
export async function makeCertificates() {
  const dir = makeTempDir('laneway-tls-');
  for (const ca of ['ca', 'rogue-ca']) {
    await openssl(['req', '-x509', ...EC, '-keyout', `${ca}.key`, '-out', `${ca}.pem`, '-days', '2',
      '-subj', `/CN=laneway-test-${ca}`], dir);
  }
  await signed(dir, 'server', 'localhost', SAN);
  await signed(dir, 'server2', 'localhost', SAN);
  const client = 'extendedKeyUsage=clientAuth';
  await signed(dir, 'client', 'laneway-client', client);
  await signed(dir, 'agent', 'agent-7', client);
  await signed(dir, 'rogue', 'laneway-client', client, 'rogue-ca');
  // Expired: `openssl ca` takes explicit start and end dates.
  fs.writeFileSync(path.join(dir, 'index.txt'), '');
  fs.writeFileSync(path.join(dir, 'serial'), '01\n');
  fs.writeFileSync(path.join(dir, 'ca.cnf'), [
    '[ca]', 'default_ca = tca', '[tca]', 'database = index.txt', 'new_certs_dir = .', 'serial = serial',
    'default_md = sha256', 'policy = anything', 'copy_extensions = copy', 'unique_subject = no',
    '[anything]', 'commonName = supplied', ''].join('\n'));
  await openssl(['req', ...EC, '-keyout', 'expired.key', '-out', 'expired.csr', '-subj', '/CN=localhost', '-addext', SAN], dir);
  await openssl(['ca', '-batch', '-config', 'ca.cnf', '-cert', 'ca.pem', '-keyfile', 'ca.key', '-in', 'expired.csr',
    '-out', 'expired.pem', '-startdate', '20200101000000Z', '-enddate', '20200102000000Z', '-notext'], dir);
  await openssl(['req', '-x509', ...EC, '-keyout', 'self.key', '-out', 'self.pem', '-days', '2', '-subj', '/CN=localhost',
    '-addext', SAN], dir);
  return (name) => path.join(dir, name);
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

export async function curl(args) {
  return runCommand('curl', ['-sS', '--max-time', '10', ...args], { timeoutMs: 15000 });
}

