// `laneway ladder` against a real worker serving the bundled stories260K model: two streaming
// rungs, the raw CSV (one row per request) and the JSON summary with its gates; and against a
// closed port, where every request is a `connect` error and the error gate fails (exit 1).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { cleanupAll, makeTempDir, runLaneway, startWorker } from './harness.mjs';

after(cleanupAll);

function readCsv(file) {
  const [header, ...lines] = fs.readFileSync(file, 'utf8').trim().split('\n');
  const cols = header.split(',');
  return lines.map((l) => Object.fromEntries(l.split(',').map((v, i) => [cols[i], v])));
}

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

  test('two streaming rungs against a worker: CSV rows and JSON summary', async () => {
    const out = makeTempDir('laneway-ladder-');
    const r = await runLaneway(['ladder', '--url', w.url, '--model', 'stories260K', '--concurrency', '1,2',
      '--duration', '2s', '--stream', '--max-tokens', '24', '--out', out], { timeoutMs: 60000 });
    assert.ok(r.code === 0 || r.code === 1, `exit ${r.code} ${r.signal ?? ''}\n${r.stderr}`);
    assert.match(r.stderr, /ladder: c=1 .* done/, 'progress on stderr');
    assert.match(r.stdout, /mix ladder-mix-v1: short_chat 5\/10, agent_call 3\/10, long_summarise 2\/10/);
    assert.match(r.stdout, /(PASS|FAIL) short_ttft_p95_s +measured/);

    const rows = readCsv(path.join(out, 'ladder_requests.csv'));
    for (const c of ['1', '2']) assert.ok(rows.filter((x) => x.concurrency === c).length >= 2, `rung ${c} has rows`);
    const clients = new Set(rows.filter((x) => x.concurrency === '2').map((x) => x.client));
    assert.deepEqual([...clients].sort(), ['0', '1'], 'both clients of rung 2 sent requests');
    for (const row of rows) {
      assert.equal(row.status, '200', JSON.stringify(row));
      assert.equal(row.error_class, '', JSON.stringify(row));
      assert.ok(Number(row.ttft_s) > 0, `ttft ${JSON.stringify(row)}`);
      assert.ok(Number(row.e2e_s) >= Number(row.ttft_s), `e2e >= ttft ${JSON.stringify(row)}`);
      assert.ok(Number(row.prompt_tokens) > 0 && Number(row.completion_tokens) > 0, `usage ${JSON.stringify(row)}`);
      assert.ok(Number(row.chunks) >= 1);
    }
    const kinds = new Set(rows.map((x) => x.kind));
    assert.ok(kinds.has('short_chat') && kinds.has('agent_call') && kinds.has('long_summarise'), [...kinds].join());
    const longPrompt = Math.min(...rows.filter((x) => x.kind === 'long_summarise').map((x) => Number(x.prompt_tokens)));
    const shortPrompt = Math.max(...rows.filter((x) => x.kind === 'short_chat').map((x) => Number(x.prompt_tokens)));
    assert.ok(longPrompt > 5 * shortPrompt, `long prompt ${longPrompt} tokens vs short ${shortPrompt}`);

    const s = JSON.parse(fs.readFileSync(path.join(out, 'ladder_summary.json'), 'utf8'));
    assert.equal(s.model, 'stories260K');
    assert.equal(s.stream, true);
    assert.equal(s.mix.name, 'ladder-mix-v1');
    assert.deepEqual(s.rungs.map((x) => x.concurrency), [1, 2]);
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
    for (const name of ['short_ttft_p95_s', 'gap_p95_s', 'error_rate', 'doubling_ttft_rise']) {
      assert.ok(gates[name]?.evaluated, `gate ${name} evaluated`);
    }
    assert.equal(gates.error_rate.result, 'PASS');
    assert.equal(gates.short_ttft_p95_s.threshold, 1.2);
    assert.equal(s.gates_passed, r.code === 0);
  });

  test('a closed port: connect errors, the error gate fails, exit 1', async () => {
    const port = await closedPort();
    const out = makeTempDir('laneway-ladder-');
    const r = await runLaneway(['ladder', '--url', `http://127.0.0.1:${port}`, '--model', 'm', '--concurrency', '1',
      '--duration', '500ms', '--out', out, '--json'], { timeoutMs: 30000 });
    assert.equal(r.code, 1, r.stderr);
    const s = JSON.parse(r.stdout);
    assert.ok(s.rungs[0].errors > 0 && s.rungs[0].errors === s.rungs[0].requests);
    assert.ok(s.rungs[0].errors_by_class.connect > 0);
    assert.equal(s.gates.find((g) => g.name === 'error_rate').result, 'FAIL');
    assert.equal(s.gates.find((g) => g.name === 'gap_p95_s').result, 'SKIP');
    assert.ok(readCsv(path.join(out, 'ladder_requests.csv')).every((x) => x.error_class === 'connect' && x.status === '0'));
  });

  test('bad flags exit 2 with a message', async () => {
    const r = await runLaneway(['ladder', '--url', w.url, '--model', 'm', '--concurrency', '1,x']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--concurrency: 'x'/);
  });
});
