// `laneway ladder` over https against the gateway's TLS listener in front of a real worker (a
// CA and server certificate made with openssl at test time): trusted with --ca-file, refused
// (error class tls) without it, accepted with --insecure; the transport A/B pays the handshake.
// `laneway soak` with a short duration: per-window rows and the RSS series; its report.html is
// well-formed (xmllint), self-contained (every plot an inline <svg>, nothing fetched) and
// rendered by headless Chromium to a PNG of the requested size that is not blank.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import {
  cleanupAll, makeTempDir, request, runCommand, runLaneway, startGatewayOver, startWorker, startWorkers, waitFor,
} from './harness.mjs';
import { makeCertificates, startTlsGateway } from './tls_support.mjs';

after(cleanupAll);

// Decodes an 8-bit RGB/RGBA non-interlaced PNG (what Chromium writes) into {width, height, channels, pixels}.
function decodePng(buf) {
  assert.equal(buf.subarray(0, 8).toString('hex'), '89504e470d0a1a0a', 'PNG signature');
  let pos = 8;
  let ihdr;
  const idat = [];
  while (pos < buf.length) {
    const len = buf.readUInt32BE(pos);
    const type = buf.toString('ascii', pos + 4, pos + 8);
    const data = buf.subarray(pos + 8, pos + 8 + len);
    if (type === 'IHDR') {
      ihdr = { width: data.readUInt32BE(0), height: data.readUInt32BE(4), depth: data[8], color: data[9], interlace: data[12] };
    } else if (type === 'IDAT') {
      idat.push(data);
    } else if (type === 'IEND') {
      break;
    }
    pos += 12 + len;
  }
  assert.ok(ihdr, 'IHDR');
  assert.equal(ihdr.depth, 8);
  assert.equal(ihdr.interlace, 0);
  const channels = { 2: 3, 6: 4 }[ihdr.color];
  assert.ok(channels, `color type ${ihdr.color}`);
  const raw = zlib.inflateSync(Buffer.concat(idat));
  const stride = ihdr.width * channels;
  const pixels = Buffer.alloc(stride * ihdr.height);
  for (let y = 0; y < ihdr.height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? pixels[y * stride + x - channels] : 0;
      const b = y > 0 ? pixels[(y - 1) * stride + x] : 0;
      const c = x >= channels && y > 0 ? pixels[(y - 1) * stride + x - channels] : 0;
      let v;
      switch (filter) {
        case 0: v = line[x]; break;
        case 1: v = line[x] + a; break;
        case 2: v = line[x] + b; break;
        case 3: v = line[x] + ((a + b) >> 1); break;
        case 4: {
          const p = a + b - c;
          const pa = Math.abs(p - a);
          const pb = Math.abs(p - b);
          const pc = Math.abs(p - c);
          v = line[x] + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
          break;
        }
        default: throw new Error(`PNG filter ${filter}`);
      }
      pixels[y * stride + x] = v & 0xff;
    }
  }
  return { width: ihdr.width, height: ihdr.height, channels, pixels };
}

describe('laneway ladder over https (the gateway\'s TLS listener)', () => {
  let cert;
  let w;
  let gw;
  let tlsUrl;
  before(async () => {
    cert = await makeCertificates({ certs: ['server'] });
    [w] = await startWorkers(1, { names: ['w'] });
    const tls = { cert_file: cert('server.pem'), key_file: cert('server.key') };
    gw = await startGatewayOver([w], { start: (nodes) => startTlsGateway({ nodes, tls }) });
    tlsUrl = `https://127.0.0.1:${gw.tlsPort}`;
  });

  test('https with --ca-file: requests over TLS, the A/B pays the handshake', async () => {
    const out = makeTempDir('laneway-ladder-');
    const r = await runLaneway(['ladder', '--url', tlsUrl, '--ca-file', cert('ca.pem'), '--model', 'stories260K',
      '--concurrency', '1', '--duration', '1500ms', '--stream', '--max-tokens', '8', '--ab', '4', '--out', out, '--json'],
    { timeoutMs: 60000 });
    assert.ok(r.code === 0 || r.code === 1, `exit ${r.code}\n${r.stderr}`);
    const s = JSON.parse(r.stdout);
    assert.equal(s.url, tlsUrl);
    assert.ok(s.rungs[0].requests >= 2 && s.rungs[0].errors === 0, JSON.stringify(s.rungs[0]));
    const ab = s.transport_ab;
    assert.equal(ab.tls, true);
    assert.equal(ab.errors, 0, ab.error_example);
    assert.equal(ab.close_s.n, 4);
    assert.ok(ab.setup_s.p50 > 0 && ab.close_s.p50 > ab.setup_s.p50, JSON.stringify(ab));
    await waitFor(() => gw.accessLogs().some((l) => l.client_tls === true && l.path === '/v1/chat/completions'), 5000,
      'a TLS access log line');
  });

  test('https without --ca-file: the handshake fails verification (tls errors); --insecure skips it', async () => {
    let r = await runLaneway(['ladder', '--url', tlsUrl, '--model', 'stories260K', '--concurrency', '1',
      '--duration', '400ms', '--ab', '0', '--json'], { timeoutMs: 30000 });
    assert.equal(r.code, 1, r.stderr);
    let s = JSON.parse(r.stdout);
    assert.ok(s.rungs[0].errors_by_class.tls > 0, JSON.stringify(s.rungs[0]));
    assert.match(s.rungs[0].error_examples.tls, /certificate verify failed|unable to get local issuer/);
    r = await runLaneway(['ladder', '--url', tlsUrl, '--insecure', '--model', 'stories260K', '--concurrency', '1',
      '--duration', '800ms', '--max-tokens', '4', '--ab', '0', '--json'], { timeoutMs: 30000 });
    s = JSON.parse(r.stdout);
    assert.ok(s.rungs[0].requests > 0 && s.rungs[0].errors === 0, JSON.stringify(s.rungs[0]));
  });

});

describe('laneway soak and its HTML report in Chromium', () => {
  let w;
  before(async () => {
    w = await startWorker({ args: ['--kv-memory', '32MiB'] });
  });

  test('soak: per-window rows, RSS series, and a report Chromium renders', async () => {
    const out = makeTempDir('laneway-soak-');
    const r = await runLaneway(['soak', '--url', w.url, '--model', 'stories260K', '--concurrency', '2',
      '--duration', '3s', '--window', '1s', '--stream', '--max-tokens', '16', '--ab', '3',
      // A second local process (this test runner) checks the pid list.
      '--pid', `${w.proc.child.pid},${process.pid}`, '--purchase-price', '3000', '--amortize-months', '36',
      '--out', out], { timeoutMs: 60000 });
    assert.ok(r.code === 0 || r.code === 1, `exit ${r.code}\n${r.stderr}`);
    assert.match(r.stderr, /soak: c=2 .* done .* window \d+s p95 ttft [\d.]+ ms/, 'soak progress with the window p95');
    assert.match(r.stdout, /laneway soak/);
    assert.match(r.stdout, /economics \(purchase amortized over 36 months\)/);
    const s = JSON.parse(fs.readFileSync(path.join(out, 'ladder_summary.json'), 'utf8'));
    assert.equal(s.tool, 'laneway soak');
    assert.equal(s.rungs.length, 1);
    assert.equal(s.windows.window_s, 1);
    const items = s.windows.items;
    assert.ok(items.length >= 3, `windows: ${items.length}`);
    for (const win of items.slice(0, 3)) {
      assert.ok(win.requests > 0 && win.ttft_s.n > 0 && win.ttft_s.p95 > 0, JSON.stringify(win));
    }
    assert.equal(items.reduce((a, x) => a + x.requests, 0), s.rungs[0].requests, 'every request in one window');
    assert.ok(s.memory.samples.length >= 3);
    assert.ok(s.memory.samples.every((m) => m.rss_bytes.length === 2 && m.rss_bytes.every((v) => v > 1e6)));
    assert.ok(s.economics.cost_per_hour > 0.11 && s.economics.cost_per_hour < 0.12, JSON.stringify(s.economics));

    const file = path.join(out, 'report.html');
    const html = fs.readFileSync(file, 'utf8');
    // Structure: a well-formed document; every plot an inline <svg>; nothing loaded from anywhere.
    const lint = await runCommand('xmllint', ['--noout', file], { timeoutMs: 20000 });
    assert.equal(lint.code, 0, `xmllint: ${lint.stderr}`);
    const plots = html.match(/<div class="plot">/g) ?? [];
    assert.equal(plots.length, 6, 'latency, TTFT CDF, machine memory, RSS, window p95, window errors');
    assert.equal((html.match(/<div class="plot"><svg /g) ?? []).length, plots.length);
    assert.doesNotMatch(html, /<script|<link|<img|<iframe|src=|href=|url\(/i);
    const urls = html.match(/https?:\/\/[^\s<"]*/g) ?? [];
    assert.ok(urls.every((u) => u === w.url), `only the server URL as text: ${urls.join(' ')}`);
    for (const text of ['Soak windows', 'laneway version', 'mix SHA-256', 'Gates', 'Transport A/B', 'Economics']) {
      assert.ok(html.includes(text), text);
    }

    const png = path.join(out, 'report.png');
    const shot = await runCommand('chromium', ['--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars',
      `--user-data-dir=${makeTempDir('laneway-chromium-')}`, `--screenshot=${png}`, '--window-size=1200,1800',
      `file://${file}`], { timeoutMs: 45000 });
    assert.ok(fs.existsSync(png), `chromium wrote no screenshot (exit ${shot.code}): ${shot.stderr.slice(-2000)}`);
    const img = decodePng(fs.readFileSync(png));
    assert.equal(img.width, 1200);
    assert.equal(img.height, 1800);
    let sum = 0;
    let sumSq = 0;
    let dark = 0;
    const n = img.width * img.height;
    for (let i = 0; i < n; i++) {
      const o = i * img.channels;
      const lum = 0.299 * img.pixels[o] + 0.587 * img.pixels[o + 1] + 0.114 * img.pixels[o + 2];
      sum += lum;
      sumSq += lum * lum;
      if (lum < 128) dark++;
    }
    const variance = sumSq / n - (sum / n) ** 2;
    assert.ok(variance > 100, `the screenshot is not blank (luminance variance ${variance.toFixed(1)})`);
    assert.ok(dark / n > 0.005, `text and lines drawn (${(100 * dark / n).toFixed(2)} % dark pixels)`);
  });
});
