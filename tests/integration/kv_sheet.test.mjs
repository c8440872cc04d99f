// `laneway kv` as a user runs it: the KV sheet for the bundled model and a shared-data model in
// every format, its numbers against what a real worker logs for the same model, the verdict and
// exit status on both sides of the line, the machine and OS-reserve defaults, and bad input (a
// missing file, a truncated GGUF, a bad size) answered with a message and an exit code.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  cleanupAll, makeTempDir, runCommand, runLaneway, SOURCE_DIR, startWorker,
} from './harness.mjs';

after(cleanupAll);

const BUNDLED = path.join(SOURCE_DIR, 'backends', 'worker', 'models', 'stories260K.gguf');
const SHARED = path.join(SOURCE_DIR, '..', 'shared', 'data', 'models', 'tinystories-656k-q8_0.gguf');
const GRID = ['--ctx', '512,2048', '--seqs', '1,4', '--kv-type', 'f16,f32'];

async function sheet(args, code = 0) {
  const r = await runLaneway(['kv', ...args], { timeoutMs: 30000 });
  assert.equal(r.code, code, `laneway kv ${args.join(' ')}: ${r.stderr}`);
  return r;
}

describe('laneway kv: the KV sheet', () => {
  test('JSON: one page per model, every row kv_math, a worker agrees', async () => {
    const r = await sheet(['-m', BUNDLED, '-m', SHARED, ...GRID, '--memory', '512MiB', '--reserve', '1MiB', '--json']);
    const j = JSON.parse(r.stdout);
    assert.equal(j.models.length, 2);
    const [a, b] = j.models;
    assert.equal(a.arch, 'llama');
    assert.deepEqual([a.n_layer, a.n_head_kv, a.head_dim], [5, 4, 8]);
    assert.equal(b.n_layer, 2);
    assert.equal(b.file, SHARED);
    assert.equal(b.file_bytes, fs.statSync(SHARED).size);
    for (const m of j.models) {
      assert.equal(m.rows.length, 8);
      for (const row of m.rows) {
        const bytes = row.kv_type === 'f32' ? 4 : 2;
        assert.equal(row.kv_bytes_per_token, 2 * m.n_layer * m.n_head_kv * m.head_dim * bytes);
        assert.equal(row.kv_bytes, row.seqs * Math.ceil(row.ctx / 16) * 16 * row.kv_bytes_per_token);
        assert.equal(row.needed_bytes, m.weight_bytes + row.kv_bytes + row.scratch_bytes + row.runtime_bytes);
        assert.equal(row.margin_bytes, row.memory_bytes - row.reserve_bytes - row.needed_bytes);
        assert.equal(row.verdict, row.margin_bytes < 0 ? 'no' : row.margin_bytes * 10 >= row.memory_bytes - row.reserve_bytes ? 'fits' : 'tight');
      }
    }
    assert.equal(j.machine.runtime_bytes, 128 * 1024 * 1024);
    assert.equal(j.all_fit, j.models.every((m) => m.rows.every((x) => x.verdict !== 'no')));

    // The worker serving the shared model logs the same bytes per token and weight bytes.
    const w = await startWorker({ args: ['-m', SHARED, '--kv-memory', '4MiB'] });
    const line = w.logs.find((l) => l.msg === 'kv cache');
    assert.ok(line, 'the worker logs its KV math');
    assert.equal(line.kv_bytes_per_token, b.rows[0].kv_bytes_per_token);
    assert.equal(line.weights_bytes, b.weight_bytes);
    await w.stop();
  });

  test('verdicts and exit status on both sides of the line', async () => {
    const ok = JSON.parse((await sheet(['-m', BUNDLED, '--ctx', '256', '--seqs', '1', '--memory', '1GiB', '--reserve', '0', '--json'])).stdout);
    assert.equal(ok.models[0].rows[0].verdict, 'fits');
    const r = await sheet(['-m', BUNDLED, '--ctx', '256', '--seqs', '1,64', '--memory', '12MiB', '--reserve', '0', '--overhead', '4MiB'], 3);
    assert.match(r.stdout, /\bno\b/);
    const j = JSON.parse((await sheet(['-m', BUNDLED, '--ctx', '256', '--seqs', '1,64', '--memory', '12MiB', '--reserve', '0', '--overhead', '4MiB', '--json'], 3)).stdout);
    assert.equal(j.all_fit, false);
    const fitted = j.models[0].rows[0].max_sequences;
    assert.ok(fitted >= 1 && fitted < 64, `max sequences ${fitted}`);
  });

  test('markdown: GitHub table per model; HTML: self-contained and well-formed', async () => {
    const md = (await sheet(['-m', BUNDLED, '-m', SHARED, ...GRID, '--memory', '512MiB', '--reserve', '1MiB', '--format', 'md'])).stdout;
    const tableLines = md.split('\n').filter((l) => l.startsWith('|'));
    assert.equal(tableLines.length, 2 * (2 + 8));
    assert.match(md, /^\| KV type \| context \| seqs \|/m);
    assert.match(md, /^\| --- \| ---: \|/m);
    assert.match(md, /^## /m);

    const html = (await sheet(['-m', BUNDLED, '-m', SHARED, ...GRID, '--memory', '512MiB', '--reserve', '1MiB', '--format', 'html'])).stdout;
    assert.match(html, /^<!DOCTYPE html>/);
    assert.match(html, /<style>/);
    assert.doesNotMatch(html, /https?:|<script|<link|src=/);
    assert.equal((html.match(/<tr class="(fits|tight|no)">/g) ?? []).length, 16);
    const file = path.join(makeTempDir(), 'sheet.html');
    fs.writeFileSync(file, html);
    const lint = await runCommand('xmllint', ['--html', '--noout', file]);
    assert.equal(lint.code, 0, lint.stderr);
    assert.equal(lint.stderr, '');

    const text = (await sheet(['-m', BUNDLED, '--memory', '8GiB'])).stdout;  // the trained context: 2048
    assert.match(text, /^ {2}f16 +2048 +1 /m);
    assert.match(text, /weights \+ KV \+ overhead/);
    assert.doesNotMatch(text, /exceed the trained context/);
    const long = (await sheet(['-m', BUNDLED, '--ctx', '4096', '--memory', '8GiB'])).stdout;
    assert.match(long, /above 2048 exceed the trained context/);
    assert.match(text, /machine memory: 8GiB \(--memory\)/);
    assert.match(text, /OS reserve: \d+(\.\d+)?GiB \((Linux|macOS) default/);
  });

  test("defaults: this machine's memory, the OS reserve", async () => {
    const j = JSON.parse((await sheet(['-m', BUNDLED, '--json'])).stdout);
    if (process.platform === 'linux') {
      const kib = Number(/MemTotal:\s+(\d+) kB/.exec(fs.readFileSync('/proc/meminfo', 'utf8'))[1]);
      assert.equal(j.machine.memory_bytes, kib * 1024);
      assert.match(j.machine.memory_source, /proc\/meminfo/);
      assert.equal(j.machine.reserve_bytes, 4 * 2 ** 30);
      assert.match(j.machine.reserve_source, /Linux default/);
    } else if (process.platform === 'darwin') {
      assert.equal(j.machine.memory_bytes, os.totalmem());
      assert.equal(j.machine.reserve_bytes, Math.max(6 * 2 ** 30, Math.floor(os.totalmem() / 4)));
    }
  });

  test('bad input: a clear message and an exit code, never a crash', async () => {
    const missing = await runLaneway(['kv', '-m', '/nonexistent/model.gguf']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /\/nonexistent\/model\.gguf/);

    const truncated = path.join(makeTempDir(), 'truncated.gguf');
    fs.writeFileSync(truncated, fs.readFileSync(BUNDLED).subarray(0, 4096));
    const t = await runLaneway(['kv', '-m', truncated]);
    assert.equal(t.code, 1, t.stderr);
    assert.match(t.stderr, /truncated\.gguf/);

    for (const [args, re] of [[['--memory', '12parsecs'], /--memory/], [['--reserve', 'lots'], /--reserve/],
      [['--kv-type', 'q4_0'], /kv-type/], [['--ctx', '0'], /ctx/], [['--format', 'pdf'], /format/]]) {
      const r = await runLaneway(['kv', '-m', BUNDLED, ...args]);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, re);
    }
  });
});
