#!/usr/bin/env node
// Worker benchmark (prints numbers; not a test). Starts `laneway worker` on a model and measures,
// through its OpenAI API on loopback:
//   1. aggregate decode tokens/s at 1, 2, 4, 8 concurrent streams (closed loop, ignore_eos);
//   2. TTFT of a request sharing a ~1,000-token system prompt with an earlier one vs a cold one
//      (distinct system prompts per pair, so every cold run really is cold);
//   3. TTFT of short requests while a long prompt is being prefilled (chunked prefill at work),
//      against the same short requests on an idle worker, and /health latency meanwhile.
// Usage: bench_worker.mjs [--model FILE] [--threads 2] [--concurrency 1,2,4,8] [--tokens 64]
//        [--rounds 5] [--pairs 3] [--json] [--smoke]   (LANEWAY_BIN: the laneway binary)
// Without --model it makes a ~100M-parameter qwen2-shaped Q8_0 model with `laneway mkmodel`.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..', '..');
const bin = process.env.LANEWAY_BIN ?? path.join(root, 'build', 'tools', 'cli', 'laneway');
const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : def;
};
const smoke = args.includes('--smoke');
const json = args.includes('--json');
const threads = opt('threads', '2');
const levels = opt('concurrency', smoke ? '1,2' : '1,2,4,8').split(',').map(Number);
const genTokens = Number(opt('tokens', smoke ? '8' : '64'));
const pairs = Number(opt('pairs', smoke ? '1' : '3'));
const rounds = Number(opt('rounds', smoke ? '1' : '5'));
const systemWords = smoke ? 60 : 980;

function log(...a) {
  if (!json) console.log(...a);
}

let tempDir = null;
function makeModel() {
  const dir = (tempDir = fs.mkdtempSync(path.join(os.tmpdir(), 'laneway-bench-')));
  const out = path.join(dir, 'bench-qwen2-q8_0.gguf');
  const vocab = path.join(root, '..', 'shared', 'data', 'models', 'rand-qwen2-gpt2vocab-f16.gguf');
  const shape = smoke ? ['--layers', '2', '--embd', '128', '--heads', '4', '--kv-heads', '2', '--ff', '256']
    : ['--layers', '12', '--embd', '768', '--heads', '12', '--kv-heads', '4', '--ff', '2048'];
  const r = spawnSync(bin, ['mkmodel', '--arch', 'qwen2', '--vocab', vocab, ...shape, '--type', 'Q8_0', '--seed', '7', '-o', out],
    { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`mkmodel failed: ${r.stderr}`);
  return out;
}

function startWorker(model) {
  return new Promise((resolve, reject) => {
    const p = spawn(bin, ['worker', '-m', model, '--port', '0', '--threads', threads, '--max-seqs', '16',
      '--kv-memory', '512MiB', '--max-model-len', '4096'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let buf = '';
    const timer = setTimeout(() => reject(new Error('worker did not start within 60 s')), 60000);
    p.stderr.on('data', (d) => {
      buf += d;
      for (const line of buf.split('\n')) {
        if (!line.includes('"msg":"listening"')) continue;
        clearTimeout(timer);
        resolve({ proc: p, port: Number(/:(\d+)$/.exec(JSON.parse(line).address)[1]) });
      }
    });
    p.on('exit', (code) => reject(new Error(`worker exited with ${code}: ${buf}`)));
  });
}

// One streamed chat completion; resolves {ttft, end, tokens} in ms from the request's start.
function stream(port, body) {
  return new Promise((resolve, reject) => {
    const payload = JSON.stringify({ ...body, stream: true, stream_options: { include_usage: true } });
    const t0 = performance.now();
    let ttft = null;
    let usage = null;
    let buf = '';
    const req = http.request({ host: '127.0.0.1', port, path: '/v1/chat/completions', method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } }, (res) => {
      if (res.statusCode !== 200) {
        let t = '';
        res.on('data', (d) => (t += d));
        res.on('end', () => reject(new Error(`status ${res.statusCode}: ${t}`)));
        return;
      }
      res.setEncoding('utf8');
      res.on('data', (d) => {
        buf += d;
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const ev = buf.slice(0, i);
          buf = buf.slice(i + 2);
          if (!ev.startsWith('data: ') || ev === 'data: [DONE]') continue;
          const j = JSON.parse(ev.slice(6));
          if (j.usage) usage = j.usage;
          if (ttft === null && j.choices?.[0]?.delta?.content) ttft = performance.now() - t0;
        }
      });
      res.on('end', () => resolve({ ttft, end: performance.now() - t0, tokens: usage?.completion_tokens ?? 0, usage }));
    });
    req.on('error', reject);
    req.end(payload);
  });
}

function get(port, p) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    http.get({ host: '127.0.0.1', port, path: p }, (res) => {
      res.resume();
      res.on('end', () => resolve(performance.now() - t0));
    }).on('error', reject);
  });
}

const pct = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(q * (s.length - 1) + 0.5))] : NaN;
};
const median = (xs) => pct(xs, 0.5);
const words = ['river', 'lantern', 'copper', 'meadow', 'signal', 'harbor', 'violet', 'engine', 'basket', 'thunder',
  'pepper', 'galaxy', 'window', 'marble', 'forest', 'candle', 'silver', 'puzzle', 'garden', 'rocket'];
function text(seed, n) {
  let x = seed * 2654435761 % 4294967296;
  const out = [];
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    out.push(words[x % words.length]);
  }
  return out.join(' ');
}
const short = (i, extra = {}) => ({ messages: [{ role: 'user', content: `Item ${i}: ${text(i + 1000, 6)}` }],
  max_tokens: genTokens, temperature: 0, ignore_eos: true, ...extra });

// Levels alternate within each round (1, 2, 4, 8, 1, 2, 4, 8, ...), so a burst of load from
// elsewhere on the machine hits every level alike; per level the median over rounds, and the
// ratio to one stream per round (median of those too).
async function decodeScaling(port) {
  await Promise.all([0, 1].map((i) => stream(port, short(i))));  // warm-up
  const runs = new Map(levels.map((c) => [c, []]));
  for (let round = 0; round < rounds; round++) {
    for (const c of levels) {
      const t0 = performance.now();
      const rs = await Promise.all(Array.from({ length: c }, (_, i) => stream(port, short(100 + round * 100 + c * 10 + i))));
      const wall = (performance.now() - t0) / 1000;
      runs.get(c).push(rs.reduce((a, r) => a + r.tokens, 0) / wall);
    }
  }
  const one = runs.get(levels[0]);
  return levels.map((c) => {
    const xs = runs.get(c);
    return { test: 'decode', concurrency: c, rounds, tokens_per_s: median(xs), runs: xs,
      vs_one: median(xs.map((x, i) => x / one[i])) };
  });
}

async function prefixTtft(port) {
  const rows = [];
  for (let p = 0; p < pairs; p++) {
    const system = text(5000 + p, systemWords);
    const body = (q) => ({ messages: [{ role: 'system', content: system }, { role: 'user', content: q }], max_tokens: 4, temperature: 0 });
    const cold = await stream(port, body('What happens first?'));
    const warm = await stream(port, body('And what happens next?'));
    rows.push({ pair: p, prompt_tokens: cold.usage.prompt_tokens, cached_tokens: warm.usage.prompt_tokens_details.cached_tokens,
      cold_ttft_ms: cold.ttft, warm_ttft_ms: warm.ttft, ratio: warm.ttft / cold.ttft });
  }
  return rows;
}

async function chunkedPrefill(port) {
  const n = smoke ? 3 : 12;
  const shortBody = (i) => ({ ...short(7000 + i), max_tokens: 2 });
  const idle = [];
  for (let i = 0; i < n; i++) idle.push((await stream(port, shortBody(i))).ttft);
  const long = stream(port, { messages: [{ role: 'user', content: text(9999, smoke ? 150 : 1400) }], max_tokens: 2, temperature: 0 });
  const busy = [];
  const health = [];
  const shorts = [];
  for (let i = 0; i < n; i++) {
    shorts.push(stream(port, shortBody(100 + i)).then((r) => busy.push(r.ttft)));
    health.push(await get(port, '/health'));
    await new Promise((r) => setTimeout(r, 50));
  }
  const l = await long;
  await Promise.all(shorts);
  return { samples: n, long_prompt_tokens: l.usage.prompt_tokens, long_ttft_ms: l.ttft,
    idle_p50_ms: median(idle), idle_p95_ms: pct(idle, 0.95), busy_p50_ms: median(busy), busy_p95_ms: pct(busy, 0.95),
    health_p50_ms: median(health), health_max_ms: Math.max(...health) };
}

const model = opt('model', null) ?? makeModel();
const w = await startWorker(model);
try {
  log(`model ${model} (${(fs.statSync(model).size / 1048576).toFixed(1)} MiB), worker threads ${threads}, ${os.cpus().length} CPUs`);
  const decode = await decodeScaling(w.port);
  log(`\nconcurrent streams | aggregate tok/s (median of ${rounds}) | vs 1 stream (median of per-round ratios) | runs`);
  for (const r of decode) log(`${String(r.concurrency).padStart(18)} | ${r.tokens_per_s.toFixed(1).padStart(30)} | ${r.vs_one.toFixed(2).padStart(40)}x | ${r.runs.map((x) => x.toFixed(0)).join(' ')}`);
  const prefix = await prefixTtft(w.port);
  log('\npair | prompt tokens | cached | cold TTFT ms | warm TTFT ms | warm/cold');
  for (const r of prefix) log(`${String(r.pair).padStart(4)} | ${String(r.prompt_tokens).padStart(13)} | ${String(r.cached_tokens).padStart(6)} | ${r.cold_ttft_ms.toFixed(1).padStart(12)} | ${r.warm_ttft_ms.toFixed(1).padStart(12)} | ${r.ratio.toFixed(3)}`);
  log(`median warm/cold: ${median(prefix.map((r) => r.ratio)).toFixed(3)}`);
  const chunked = await chunkedPrefill(w.port);
  log(`\nshort-request TTFT while a ${chunked.long_prompt_tokens}-token prompt prefills (TTFT ${chunked.long_ttft_ms.toFixed(0)} ms), ${chunked.samples} samples each:`);
  log(`  idle worker: p50 ${chunked.idle_p50_ms.toFixed(1)} ms, p95 ${chunked.idle_p95_ms.toFixed(1)} ms`);
  log(`  during the long prefill: p50 ${chunked.busy_p50_ms.toFixed(1)} ms, p95 ${chunked.busy_p95_ms.toFixed(1)} ms`);
  log(`  GET /health meanwhile: p50 ${chunked.health_p50_ms.toFixed(2)} ms, max ${chunked.health_max_ms.toFixed(2)} ms`);
  if (json) console.log(JSON.stringify({ model, threads: Number(threads), decode, prefix, chunked }));
} finally {
  w.proc.kill('SIGTERM');
  if (tempDir) fs.rmSync(tempDir, { recursive: true, force: true });
}
