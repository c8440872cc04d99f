// `laneway ladder` against a real worker serving the bundled stories260K model: two streaming
// rungs with the worker's RSS sampled by pid, the transport A/B, the model/mix digests and the
// economics; through the gateway with a --mix file (its kinds, per-entry stream, the copy in
// --out, the config digest); a closed port, where every request is a `connect` error, the error
// gate fails (exit 1) and the ladder stops at the knee; bad flags and a bad mix file (exit 2);
// docs/ladder.md and --help name the same flags.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import {
  SOURCE_DIR, cleanupAll, makeTempDir, request, runLaneway, startGatewayOver, startWorker, waitFor,
  writeTempFile,
} from './harness.mjs';

after(cleanupAll);

const MODEL_FILE = path.join(SOURCE_DIR, 'backends', 'worker', 'models', 'stories260K.gguf');
const BUILTIN_MIX = path.join(SOURCE_DIR, 'conf', 'ladder-mix.toml');

function readCsv(file) {
  const [header, ...lines] = fs.readFileSync(file, 'utf8').trim().split('\n');
  const cols = header.split(',');
  return lines.map((l) => Object.fromEntries(l.split(',').map((v, i) => [cols[i], v])));
}

const sha256 = (file) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');

async function closedPort() {
  const srv = net.createServer();
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address();
  await new Promise((r) => srv.close(r));
  return port;
}

describe('laneway ladder', () => {
  let w;
  before(async () => {
    w = await startWorker({ args: ['--kv-memory', '32MiB'] });
  });

  test('two streaming rungs against a worker: CSV, JSON, memory by pid, A/B, digests, economics', async () => {
    const out = makeTempDir('laneway-ladder-');
    const r = await runLaneway(['ladder', '--url', w.url, '--model', 'stories260K', '--concurrency', '1,2',
      '--duration', '2s', '--stream', '--max-tokens', '24', '--ab', '4', '--pid', String(w.proc.child.pid),
      '--model-file', MODEL_FILE, '--rent-per-hour', '2', '--watts', '300', '--kwh-price', '0.25', '--out', out],
    { timeoutMs: 60000 });
    assert.ok(r.code === 0 || r.code === 1, `exit ${r.code} ${r.signal ?? ''}\n${r.stderr}`);
    assert.match(r.stderr, /ladder: c=1 .* done .*avail [\d.]+ GB/, 'progress on stderr');
    assert.match(r.stdout, /mix ladder-mix-v2: short_chat 5\/10, agent_call 3\/10, long_summarise 2\/10/);
    assert.match(r.stdout, /(PASS|FAIL) short_ttft_p95_s +measured/);
    assert.match(r.stdout, /(PASS|FAIL) free_memory_bytes +measured [\d.]+ GB (>=|<) 3.00 GB/);
    assert.match(r.stdout, /transport A\/B \(short_chat, 4 pairs\)/);
    assert.match(r.stdout, /economics \(rent \+ power\): 2.0750 per hour, [\d.]+ per million generated tokens/);

    const rows = readCsv(path.join(out, 'ladder_requests.csv'));
    for (const c of ['1', '2']) assert.ok(rows.filter((x) => x.concurrency === c).length >= 2, `rung ${c} has rows`);
    const clients = new Set(rows.filter((x) => x.concurrency === '2').map((x) => x.client));
    assert.deepEqual([...clients].sort(), ['0', '1'], 'both clients of rung 2 sent requests');
    for (const row of rows) {
      assert.equal(row.status, '200', JSON.stringify(row));
      assert.equal(row.error_class, '', JSON.stringify(row));
      assert.equal(row.stream, '1');
      assert.ok(Number(row.ttft_s) > 0, `ttft ${JSON.stringify(row)}`);
      assert.ok(Number(row.e2e_s) >= Number(row.ttft_s), `e2e >= ttft ${JSON.stringify(row)}`);
      assert.ok(Number(row.prompt_tokens) > 0 && Number(row.completion_tokens) > 0, `usage ${JSON.stringify(row)}`);
      assert.ok(Number(row.chunks) >= 1);
    }
    // One connection per client per rung, reused after that (keep-alive).
    assert.equal(rows.filter((x) => x.new_connection === '1').length, 3);
    const kinds = new Set(rows.map((x) => x.kind));
    assert.ok(kinds.has('short_chat') && kinds.has('agent_call') && kinds.has('long_summarise'), [...kinds].join());
    const longPrompt = Math.min(...rows.filter((x) => x.kind === 'long_summarise').map((x) => Number(x.prompt_tokens)));
    const shortPrompt = Math.max(...rows.filter((x) => x.kind === 'short_chat').map((x) => Number(x.prompt_tokens)));
    assert.ok(longPrompt > 5 * shortPrompt, `long prompt ${longPrompt} tokens vs short ${shortPrompt}`);

    const s = JSON.parse(fs.readFileSync(path.join(out, 'ladder_summary.json'), 'utf8'));
    assert.equal(s.model, 'stories260K');
    assert.equal(s.stream, true);
    assert.equal(s.mix.label, 'ladder-mix-v2');
    assert.equal(s.mix.source, 'built-in');
    assert.equal(s.mix.sha256, sha256(BUILTIN_MIX), 'the built-in mix is conf/ladder-mix.toml');
    assert.equal(fs.readFileSync(path.join(out, 'mix.toml'), 'utf8'), fs.readFileSync(BUILTIN_MIX, 'utf8'));
    assert.equal(s.model_sha256, sha256(MODEL_FILE));
    assert.equal(s.server_model_digest, '', 'the worker reports no file digest in /v1/models');
    assert.match(s.date, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.deepEqual(s.rungs.map((x) => x.concurrency), [1, 2]);
    assert.equal(s.knee.stopped, false);
    for (const rung of s.rungs) {
      const n = rows.filter((x) => Number(x.concurrency) === rung.concurrency).length;
      assert.equal(rung.requests, n, 'summary counts the CSV rows');
      assert.equal(rung.errors, 0);
      assert.ok(rung.tokens_per_s > 0);
      for (const k of ['ttft_s', 'short_ttft_s', 'gap_s', 'e2e_s']) {
        // gaps may be 0: deltas that arrive in one read share a timestamp
        const floor = k === 'gap_s' ? 0 : Number.MIN_VALUE;
        assert.ok(rung[k].n > 0 && rung[k].p50 >= floor && rung[k].p50 <= rung[k].p95 && rung[k].p95 <= rung[k].p99,
          `${k} ${JSON.stringify(rung[k])}`);
      }
      assert.ok(rung.wall_s >= 2, `rung ran its duration: ${rung.wall_s}`);
    }
    const gates = Object.fromEntries(s.gates.map((g) => [g.name, g]));
    for (const name of ['short_ttft_p95_s', 'gap_p95_s', 'error_rate', 'doubling_ttft_rise', 'free_memory_bytes']) {
      assert.ok(gates[name]?.evaluated, `gate ${name} evaluated`);
    }
    assert.equal(gates.error_rate.result, 'PASS');
    assert.equal(gates.short_ttft_p95_s.threshold, 1.2);
    assert.equal(gates.free_memory_bytes.threshold, 3e9);
    assert.equal(s.gates_passed, r.code === 0);

    // Memory: one sample a second over A/B + two 2 s rungs, the worker's RSS in each.
    const mem = s.memory.samples;
    assert.ok(mem.length >= 4, `memory samples: ${mem.length}`);
    for (const m of mem) {
      assert.ok(m.available_bytes > 0 && m.swap_used_bytes >= 0, JSON.stringify(m));
      assert.equal(m.rss_bytes.length, 1);
      assert.ok(m.rss_bytes[0] > 1e6, `worker RSS ${m.rss_bytes[0]}`);
    }
    assert.ok(mem.every((m, i) => i === 0 || m.t_s > mem[i - 1].t_s), 'a time series');
    assert.equal(s.memory.min_available_bytes, Math.min(...mem.map((m) => m.available_bytes)));
    assert.equal(gates.free_memory_bytes.measured, s.memory.min_available_bytes);
    const memCsv = readCsv(path.join(out, 'ladder_memory.csv'));
    assert.equal(memCsv.length, mem.length);
    assert.ok(Number(memCsv[0][`rss_bytes_${w.proc.child.pid}`]) > 1e6);

    // Transport A/B: 4 pairs; a fresh connection's time includes its connect.
    const ab = s.transport_ab;
    assert.equal(ab.pairs, 4);
    assert.equal(ab.errors, 0);
    assert.equal(ab.tls, false);
    assert.equal(ab.keep_alive_s.n, 4);
    assert.equal(ab.close_s.n, 4);
    assert.ok(ab.setup_s.p50 > 0 && ab.close_s.p50 > ab.setup_s.p50, JSON.stringify(ab));
    assert.ok(Math.abs(ab.tax_p50_s - (ab.close_s.p50 - ab.keep_alive_s.p50)) < 1e-9);

    // Economics: 2/h rent + 300 W x 0.25/kWh, per million tokens at the named rung's rate.
    const e = s.economics;
    assert.ok(Math.abs(e.cost_per_hour - 2.075) < 1e-9, JSON.stringify(e));
    const rung = s.rungs.find((x) => x.concurrency === e.rung);
    assert.ok(rung, `economics names a rung: ${e.rung}`);
    assert.equal(e.tokens_per_s, rung.tokens_per_s);
    assert.ok(Math.abs(e.cost_per_million_tokens - 2.075 / (rung.tokens_per_s * 3600) * 1e6) < 1e-9);
    assert.ok(fs.statSync(path.join(out, 'report.html')).size > 2000);
  });

  test('through the gateway with a --mix file: its kinds, per-entry stream, the copy and the digests', async () => {
    const gw = await startGatewayOver([{ name: 'w', url: w.url, kind: 'laneway' }]);
    const mix = writeTempFile('team-mix.toml', [
      'name = "team-mix"', 'version = 7', 'filler = "Once upon a time a robot learned to paint. "',
      '[[entries]]', 'kind = "hello"', 'weight = 2', 'messages = [{ role = "user", content = "Say hello." }]',
      '[[entries]]', 'kind = "long_plain"', 'weight = 1', 'stream = false', 'max_tokens = 4', 'generated_chars = 600',
      'messages = [{ role = "system", content = "Summarise." }]', ''].join('\n'));
    const out = makeTempDir('laneway-ladder-');
    const r = await runLaneway(['ladder', '--url', gw.url, '--model', 'stories260K', '--concurrency', '1',
      '--duration', '2s', '--stream', '--max-tokens', '16', '--ab', '0', '--mix', mix, '--config', gw.configFile,
      '--out', out], { timeoutMs: 60000 });
    assert.ok(r.code === 0 || r.code === 1, `exit ${r.code}\n${r.stderr}`);
    assert.match(r.stdout, /mix team-mix-v7: hello 2\/3, long_plain 1\/3/);
    const rows = readCsv(path.join(out, 'ladder_requests.csv'));
    assert.deepEqual([...new Set(rows.map((x) => x.kind))].sort(), ['hello', 'long_plain']);
    for (const row of rows) {
      assert.equal(row.status, '200', JSON.stringify(row));
      assert.equal(row.stream, row.kind === 'hello' ? '1' : '0', JSON.stringify(row));
      if (row.kind === 'long_plain') {
        assert.equal(row.chunks, '0');
        assert.ok(Number(row.completion_tokens) <= 4 && Number(row.prompt_tokens) > 100, JSON.stringify(row));
      }
    }
    const s = JSON.parse(fs.readFileSync(path.join(out, 'ladder_summary.json'), 'utf8'));
    assert.equal(s.mix.label, 'team-mix-v7');
    assert.equal(s.mix.source, mix);
    assert.equal(s.mix.sha256, sha256(mix));
    assert.equal(s.config_sha256, sha256(gw.configFile));
    assert.equal(s.transport_ab, undefined, '--ab 0 skips the A/B');
    assert.equal(fs.readFileSync(path.join(out, 'mix.toml'), 'utf8'), fs.readFileSync(mix, 'utf8'));
    await waitFor(() => gw.accessLogs().filter((l) => l.path === '/v1/chat/completions').length >= rows.length, 5000,
      'an access log line per ladder request: they went through the gateway');
    await gw.stop();
  });

  test('a closed port: connect errors, the error gate fails, exit 1, the ladder stops at the knee', async () => {
    const port = await closedPort();
    const out = makeTempDir('laneway-ladder-');
    const r = await runLaneway(['ladder', '--url', `http://127.0.0.1:${port}`, '--model', 'm', '--concurrency', '1,2,4',
      '--duration', '500ms', '--ab', '2', '--out', out, '--json'], { timeoutMs: 30000 });
    assert.equal(r.code, 1, r.stderr);
    const s = JSON.parse(r.stdout);
    assert.equal(s.rungs.length, 1, 'rungs 2 and 4 were skipped');
    assert.deepEqual(s.knee, { stopped: true, reason: 'c=1: error rate 100.0% > knee 10.0%', skipped: [2, 4] });
    assert.match(r.stderr, /stopping at the knee .*2 rung\(s\) skipped/);
    assert.ok(s.rungs[0].errors > 0 && s.rungs[0].errors === s.rungs[0].requests);
    assert.ok(s.rungs[0].errors_by_class.connect > 0);
    assert.ok(s.rungs[0].error_examples.connect.length > 0);
    assert.equal(s.transport_ab.errors, 4);
    assert.equal(s.gates.find((g) => g.name === 'error_rate').result, 'FAIL');
    assert.equal(s.gates.find((g) => g.name === 'gap_p95_s').result, 'SKIP');
    assert.ok(readCsv(path.join(out, 'ladder_requests.csv')).every((x) => x.error_class === 'connect' && x.status === '0'));
    assert.match(fs.readFileSync(path.join(out, 'report.html'), 'utf8'), /Knee: c=1: error rate 100.0%/);
  });

  test('docs/ladder.md names only flags that `laneway ladder --help` or `laneway soak --help` list', async () => {
    const help = (await runLaneway(['ladder', '--help'])).stdout + (await runLaneway(['soak', '--help'])).stdout;
    const listed = new Set(help.match(/--[a-z][a-z0-9-]*/g));
    const named = new Set(fs.readFileSync(path.join(SOURCE_DIR, 'docs', 'ladder.md'), 'utf8').match(/--[a-z][a-z0-9-]*/g));
    assert.ok(named.size > 30, `flags named in the doc: ${named.size}`);
    for (const flag of named) assert.ok(listed.has(flag), `${flag} is in docs/ladder.md but not in --help`);
    for (const flag of listed) {
      if (flag !== '--help') assert.ok(named.has(flag), `${flag} is in --help but not in docs/ladder.md`);
    }
  });

  test('bad flags and a bad mix file exit 2 with a message', async () => {
    let r = await runLaneway(['ladder', '--url', w.url, '--model', 'm', '--concurrency', '1,x']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--concurrency: 'x'/);
    r = await runLaneway(['ladder', '--url', w.url, '--model', 'm', '--insecure']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--ca-file and --insecure need an https:\/\/ --url/);
    r = await runLaneway(['ladder', '--url', w.url, '--model', 'm', '--purchase-price', '3000']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--purchase-price needs --amortize-months/);
    const bad = writeTempFile('bad-mix.toml', 'name = "x"\nversion = 1\n[[entries]]\nkind = "a"\nweight = 0\n');
    r = await runLaneway(['ladder', '--url', w.url, '--model', 'm', '--mix', bad]);
    assert.equal(r.code, 2);
    assert.ok(r.stderr.includes(`${bad}: entries[0].weight: must be between 1 and 1000 (got 0)`), r.stderr);
    r = await runLaneway(['ladder', '--print-mix']);
    assert.equal(r.code, 0);
    assert.equal(r.stdout.trim(), fs.readFileSync(BUILTIN_MIX, 'utf8').trim(), 'runLaneway joins lines');
  });
});
