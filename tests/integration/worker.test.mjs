// `laneway worker` serving the bundled stories260K model: the OpenAI routes (plain and SSE,
// usage with cached tokens), batching that does not change greedy outputs, prefix caching,
// preemption under a tiny KV pool, cancellation on disconnect, KV events against /load, metrics
// names, request ids in the worker's log, and every malformed request answered with a clear 400.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import OpenAI from 'openai';
import {
  cleanupAll, errorOf, makeTempDir, openStream, parseSse, request, runLaneway, startWorker, waitFor, withTimeout,
} from './harness.mjs';

after(cleanupAll);

// LANEWAY_TEST_BACKEND=vulkan (ctest integration.worker_vulkan) runs every case on that backend;
// the first case checks /load says so, so a silent fall-back to the CPU fails the run.
const BACKEND = process.env.LANEWAY_TEST_BACKEND ?? '';
function startOn(opts = {}) {
  return startWorker({ ...opts, args: [...(BACKEND ? ['--backend', BACKEND] : []), ...(opts.args ?? [])] });
}
// On Vulkan (lavapipe in CI: each worker start compiles every pipeline, each step costs ~0.2 s)
// the suites that allow it share one worker, and cases whose token counts only set how long they
// run generate fewer tokens; what each case asserts stays the same.
const ON_VULKAN = BACKEND === 'vulkan';
const tokens = (cpu, vulkan) => (ON_VULKAN ? vulkan : cpu);
let sharedWorker = null;
async function workerFor(args) {
  if (!ON_VULKAN) return startOn({ args });
  sharedWorker ??= await startOn({ args: ['--kv-memory', '32MiB', '--max-seqs', '8'] });
  return sharedWorker;
}

const STORY = 'Once upon a time, there was a little girl named Lily. She loved to play outside in the sunshine. ';
const LONG_SYSTEM = STORY.repeat(12); // ~300 tokens: many full 16-token blocks

const CHAT_TOKENS = tokens(24, 8);
function chat(content, extra = {}) {
  return { messages: [{ role: 'user', content }], temperature: 0, max_tokens: CHAT_TOKENS, ...extra };
}

async function complete(w, body, headers = {}) {
  const r = await request(`${w.url}/v1/chat/completions`, { json: body, headers, timeoutMs: 30000 });
  assert.equal(r.status, 200, r.text);
  return r.json;
}

async function waitIdle(w, what) {
  return waitFor(async () => {
    const l = await w.load();
    return l.running === 0 && l.waiting === 0 && l.kv_blocks_free === l.kv_blocks_total ? l : null;
  }, 10000, what ?? 'an idle worker with every KV block free');
}

describe('worker: OpenAI routes', () => {
  let w;
  before(async () => {
    w = await workerFor(['--kv-memory', '32MiB']);
  });

  test('GET /v1/models, /health, /load', async () => {
    const models = await request(`${w.url}/v1/models`);
    assert.equal(models.status, 200);
    assert.equal(models.json.data[0].id, 'stories260K');
    assert.equal((await request(`${w.url}/v1/models/stories260K`)).status, 200);
    assert.equal(errorOf(await request(`${w.url}/v1/models/nope`)).code, 'model_not_found');
    assert.deepEqual((await request(`${w.url}/health`)).json, { status: 'ok' });
    const l = await w.load();
    for (const k of ['running', 'waiting', 'kv_blocks_total', 'kv_blocks_free', 'kv_blocks_cached', 'block_size',
      'hash_seed', 'model_fingerprint', 'prefill_tokens_per_s', 'decode_tokens_per_s']) {
      assert.ok(k in l, `/load has ${k}`);
    }
    assert.equal(l.block_size, 16);
    assert.match(l.hash_seed, /^[0-9a-f]{16}$/);
    if (BACKEND) assert.equal(l.backend, BACKEND);
    else assert.ok(['cpu', 'vulkan', 'metal'].includes(l.backend), `/load backend ${l.backend}`);
    assert.ok(l.backend_device, '/load names the device');
  });

  test('SIGHUP without [tls]: the worker logs that nothing is re-read and keeps serving', async () => {
    w.proc.kill('SIGHUP');
    const line = await waitFor(() => w.logs.find((l) => l.msg === 'reload' && l.signal === 'SIGHUP'), 5000, 'reload log line');
    assert.match(line.detail, /restart/);
    assert.deepEqual((await request(`${w.url}/health`)).json, { status: 'ok' });
  });

  test('non-streaming chat completion with usage, request id in the log', async () => {
    const j = await complete(w, chat('Tell me a story'), { 'x-request-id': 'it-chat-1' });
    assert.equal(j.object, 'chat.completion');
    assert.equal(j.model, 'stories260K');
    assert.equal(j.choices[0].message.role, 'assistant');
    assert.ok(j.choices[0].message.content.length > 0);
    assert.equal(j.choices[0].finish_reason, 'length');
    assert.equal(j.usage.completion_tokens, CHAT_TOKENS);
    assert.ok(j.usage.prompt_tokens > 3);
    assert.equal(j.usage.total_tokens, j.usage.prompt_tokens + CHAT_TOKENS);
    assert.equal(typeof j.usage.prompt_tokens_details.cached_tokens, 'number');
    const line = await waitFor(() => w.logs.find((l) => l.msg === 'request' && l.request_id === 'it-chat-1'), 5000, 'access log');
    assert.equal(line.completion_tokens, CHAT_TOKENS);
    assert.ok(!JSON.stringify(line).includes('Tell me a story'), 'prompts are not logged');
  });

  test('streaming: role first, one chunk per token, finish, usage, [DONE]', async () => {
    const s = await openStream(`${w.url}/v1/chat/completions`, {
      json: chat('Tell me a story', { stream: true, stream_options: { include_usage: true }, max_tokens: 12 }),
    });
    assert.equal(s.status, 200);
    assert.match(s.headers['content-type'], /text\/event-stream/);
    await s.end(20000);
    const data = s.events.map((e) => e.data);
    assert.equal(data.at(-1), '[DONE]');
    const chunks = data.slice(0, -1).map((d) => JSON.parse(d));
    assert.equal(chunks[0].choices[0].delta.role, 'assistant');
    const usage = chunks.at(-1);
    assert.deepEqual(usage.choices, []);
    assert.equal(usage.usage.completion_tokens, 12);
    const finish = chunks.at(-2);
    assert.equal(finish.choices[0].finish_reason, 'length');
    const text = chunks.slice(1, -2).map((c) => c.choices[0].delta.content).join('');
    const plain = await complete(w, chat('Tell me a story', { max_tokens: 12 }));
    assert.equal(text, plain.choices[0].message.content, 'streamed text equals the non-streamed answer');
  });

  test('completions: text, echo, logprobs, stop strings', async () => {
    const r = await request(`${w.url}/v1/completions`, {
      json: { prompt: 'Once upon a time', max_tokens: 8, temperature: 0, logprobs: 2, echo: true }, timeoutMs: 30000,
    });
    assert.equal(r.status, 200, r.text);
    const c = r.json.choices[0];
    assert.ok(c.text.startsWith('Once upon a time'));
    assert.equal(c.logprobs.tokens.length, 8);
    assert.equal(c.logprobs.token_logprobs.length, 8);
    assert.ok(c.logprobs.token_logprobs.every((x) => x <= 0));
    assert.ok(Object.keys(c.logprobs.top_logprobs[0]).length >= 1);
    const full = (await request(`${w.url}/v1/completions`, { json: { prompt: 'Once upon a time', max_tokens: tokens(30, 16), temperature: 0 }, timeoutMs: 30000 })).json;
    const words = full.choices[0].text.trim().split(' ');
    const stop = ` ${words[2]}`;
    const cut = (await request(`${w.url}/v1/completions`, {
      json: { prompt: 'Once upon a time', max_tokens: tokens(30, 16), temperature: 0, stop: [stop] }, timeoutMs: 30000,
    })).json;
    assert.equal(cut.choices[0].finish_reason, 'stop');
    assert.ok(!cut.choices[0].text.includes(stop));
    assert.ok(full.choices[0].text.startsWith(cut.choices[0].text));
  });

  test('tokenize, detokenize, and /v1/tokenizer rebuilds the same tokenizer', async () => {
    const t = await request(`${w.url}/tokenize`, { json: { prompt: 'Once upon a time, Lily played.' } });
    assert.equal(t.status, 200);
    const d = await request(`${w.url}/detokenize`, { json: { tokens: t.json.tokens } });
    assert.equal(d.json.prompt.trim(), 'Once upon a time, Lily played.');
    const info = await request(`${w.url}/v1/tokenizer?format=json`);
    assert.equal(info.json.hash_seed, (await w.load()).hash_seed);
    const raw = await fetch(`${w.url}/v1/tokenizer`);
    const file = path.join(makeTempDir(), 'tok.gguf');
    fs.writeFileSync(file, Buffer.from(await raw.arrayBuffer()));
    const r = await runLaneway(['tokenize', '-m', file, 'Once upon a time, Lily played.']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split(' ').map(Number), t.json.tokens);
  });

  test('malformed requests: 400 with the field named', async () => {
    const cases = [
      [{ raw: '{"messages": [' }, 'invalid_request', null],
      [chat('x', { max_tokens: -5 }), 'invalid_request', 'max_tokens'],
      [chat('x', { temperature: 'warm' }), 'invalid_request', 'temperature'],
      [chat('x', { stream: 1 }), 'invalid_request', 'stream'],
      [chat('x', { frobnicate: true }), 'invalid_request', 'frobnicate'],
      [{ messages: [{ role: 'user', content: 7 }] }, 'invalid_request', 'messages[0].content'],
      [chat('x', { model: 'gpt-9' }), 'model_not_found', 'model'],
      [chat(STORY.repeat(200)), 'context_length_exceeded', 'messages'],
    ];
    for (const [body, code, param] of cases) {
      const r = body.raw !== undefined
        ? await request(`${w.url}/v1/chat/completions`, { body: body.raw, headers: { 'content-type': 'application/json' } })
        : await request(`${w.url}/v1/chat/completions`, { json: body });
      const e = errorOf(r);
      assert.equal(e.code, code, `${JSON.stringify(body).slice(0, 80)} → ${r.text}`);
      assert.equal(e.param, param);
      assert.ok(e.message.length > 5);
      assert.ok(r.status === 400 || r.status === 404);
    }
    assert.equal((await request(`${w.url}/v1/chat/completions`, { method: 'GET' })).status, 405);
    assert.equal((await request(`${w.url}/nope`)).status, 404);
  });

  test('metrics carry the vLLM names', async () => {
    const text = await w.metrics();
    for (const name of ['vllm:num_requests_running', 'vllm:num_requests_waiting', 'vllm:kv_cache_usage_perc',
      'vllm:prefix_cache_queries_total', 'vllm:prefix_cache_hits_total', 'vllm:prompt_tokens_total',
      'vllm:generation_tokens_total', 'vllm:num_preemptions_total', 'vllm:request_success_total',
      'vllm:time_to_first_token_seconds_bucket', 'vllm:inter_token_latency_seconds_bucket',
      'vllm:e2e_request_latency_seconds_bucket', 'vllm:request_queue_time_seconds_bucket']) {
      assert.ok(text.includes(name), `metrics include ${name}`);
    }
    assert.ok(text.includes('model_name="stories260K"'));
    assert.ok(await w.metric('vllm:generation_tokens_total') > 0);
  });

  test('the openai npm client streams and completes against the worker', async () => {
    const client = new OpenAI({ baseURL: `${w.url}/v1`, apiKey: 'x', maxRetries: 0, timeout: 20000 });
    const done = await client.chat.completions.create({ model: 'stories260K', ...chat('Hello') });
    assert.equal(done.choices[0].finish_reason, 'length');
    const stream = await client.chat.completions.create({ model: 'stories260K', ...chat('Hello'), stream: true });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    assert.equal(text, done.choices[0].message.content);
  });
});

describe('worker: batching and the KV cache', () => {
  let w;
  before(async () => {
    w = await workerFor(['--kv-memory', '32MiB', '--max-seqs', '8']);
  });

  test('concurrent greedy requests give the same text as the same requests alone', async () => {
    const prompts = ['Tell me a story', 'The dog ran', 'Lily and Ben went to the park', 'A big red ball', 'The sun was hot'];
    const solo = [];
    const n = tokens(40, 16);
    for (const p of prompts) solo.push((await complete(w, chat(p, { max_tokens: n }))).choices[0].message.content);
    const together = await Promise.all(prompts.map((p) => complete(w, chat(p, { max_tokens: n }))));
    assert.deepEqual(together.map((j) => j.choices[0].message.content), solo);
  });

  test('a shared prefix is served from the cache, with the same output', async () => {
    const body = { messages: [{ role: 'system', content: LONG_SYSTEM }, { role: 'user', content: 'What next?' }], temperature: 0, max_tokens: 16 };
    const first = await complete(w, body);
    const second = await complete(w, body);
    assert.ok(second.usage.prompt_tokens_details.cached_tokens >= 256, JSON.stringify(second.usage));
    assert.ok(second.usage.prompt_tokens_details.cached_tokens < second.usage.prompt_tokens);
    assert.equal(second.choices[0].message.content, first.choices[0].message.content);
    assert.ok(await w.metric('vllm:prefix_cache_hits_total') >= 256);
  });

  test('a client that disconnects mid-stream frees its sequence and blocks', async () => {
    await waitIdle(w);
    const s = await openStream(`${w.url}/v1/completions`, {
      json: { prompt: 'Once upon a time', max_tokens: 1500, ignore_eos: true, stream: true },
    });
    await s.nextEvent(10000);
    await s.nextEvent(10000);
    const busy = await w.load();
    assert.equal(busy.running, 1);
    assert.ok(busy.kv_blocks_free < busy.kv_blocks_total);
    s.close();
    await waitIdle(w, 'the cancelled sequence to release its blocks');
    await waitFor(() => w.logs.find((l) => l.msg === 'request' && l.finish_reason === 'cancelled'), 5000, 'cancel log');
  });

  test('KV events: snapshot plus batches equal a fresh snapshot, and match /load when idle', async () => {
    const ctl = new AbortController();
    const res = await fetch(`${w.url}/v1/kv/events`, { signal: ctl.signal });
    assert.equal(res.status, 200);
    const reader = res.body.getReader();
    let buf = '';
    const events = [];
    const pump = (async () => {
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += Buffer.from(value).toString('utf8');
          const parsed = parseSse(buf);
          buf = parsed.rest;
          events.push(...parsed.events);
        }
      } catch { /* aborted */ }
    })();
    await waitFor(() => events.length >= 1, 5000, 'the snapshot event');
    assert.equal(events[0].event, 'snapshot');
    await complete(w, chat(`${STORY.repeat(4)} A new tale`, { max_tokens: tokens(20, 8) }));
    await waitIdle(w);
    const l = await w.load();
    await waitFor(() => events.some((e) => e.event === 'kv' && JSON.parse(e.data).seq >= l.kv_events_seq) ||
      JSON.parse(events[0].data).seq >= l.kv_events_seq, 5000, 'events up to /load\'s kv_events_seq');
    const held = new Set();
    let seq = 0;
    for (const e of events) {
      const d = JSON.parse(e.data);
      if (e.event === 'snapshot') {
        held.clear();
        d.hashes.forEach((h) => held.add(h));
      } else {
        assert.ok(d.seq > seq, 'batches arrive in sequence order');
        d.stored.forEach((h) => held.add(h));
        d.removed.forEach((h) => held.delete(h));
      }
      seq = d.seq;
    }
    ctl.abort();
    await withTimeout(pump, 5000, 'the event reader to stop');
    const fresh = await fetch(`${w.url}/v1/kv/events`);
    const r2 = fresh.body.getReader();
    let text = '';
    while (!text.includes('\n\n')) {
      const { value } = await withTimeout(r2.read(), 5000, 'a fresh snapshot');
      text += Buffer.from(value).toString('utf8');
    }
    r2.cancel();
    const snap = JSON.parse(parseSse(text).events[0].data);
    assert.deepEqual([...held].sort(), [...snap.hashes].sort());
    assert.equal(snap.hashes.length, l.kv_blocks_cached, 'an idle worker holds exactly its cached blocks');
  });
});

describe('worker: a tiny KV pool', () => {
  test('preemption under block pressure: no request fails and outputs equal the solo runs', async () => {
    // CPU: 40 blocks of 16 = 640 tokens for 4 requests of ~6 prompt + 230 generated tokens (15
    // blocks) each. Vulkan: 10 blocks = 160 tokens for 4 requests of ~6 + 40 (3 blocks) each.
    const w = await startOn({ args: ['--kv-blocks', String(tokens(40, 10)), '--max-seqs', '4', '--no-prefix-caching'] });
    const prompts = ['Tell me a story', 'The dog ran', 'Lily and Ben went to the park', 'A big red ball'];
    const body = (p) => ({ prompt: p, max_tokens: tokens(230, 40), temperature: 0, ignore_eos: true });
    const solo = [];
    for (const p of prompts) {
      const r = await request(`${w.url}/v1/completions`, { json: body(p), timeoutMs: 60000 });
      assert.equal(r.status, 200, r.text);
      solo.push(r.json.choices[0].text);
    }
    const together = await Promise.all(prompts.map((p) => request(`${w.url}/v1/completions`, { json: body(p), timeoutMs: 60000 })));
    for (const r of together) assert.equal(r.status, 200, r.text);
    assert.deepEqual(together.map((r) => r.json.choices[0].text), solo);
    assert.ok(await w.metric('vllm:num_preemptions_total') > 0, 'the pool was small enough to preempt');
    await waitIdle(w);
    await w.stop();
  });
});

describe('worker: limits from a config file', () => {
  let w;
  before(async () => {
    const dir = makeTempDir();
    const file = path.join(dir, 'worker.toml');
    fs.writeFileSync(file, [
      // lavapipe needs ~0.2 s a step: a longer timeout there, still far below the 1800 tokens below.
      '[server]', `request_timeout = "${tokens('400ms', '10s')}"`, 'shutdown_grace = "5s"',
      '[engine]', 'max_seqs = 1', 'max_waiting = 1', 'step_tokens = 16', 'kv_memory = "16MiB"', '',
    ].join('\n'));
    w = await startOn({ args: ['-c', file] });
  });

  test('a full waiting queue answers 429 overloaded, the others finish', async () => {
    const body = { prompt: 'Once upon a time', max_tokens: tokens(64, 8), temperature: 0, ignore_eos: true };
    const rs = await Promise.all(Array.from({ length: 5 }, () => request(`${w.url}/v1/completions`, { json: body, timeoutMs: 30000 })));
    const codes = rs.map((r) => r.status).sort();
    assert.ok(codes.includes(429), `some requests refused: ${codes}`);
    assert.ok(codes.includes(200), `some requests served: ${codes}`);
    for (const r of rs.filter((x) => x.status === 429)) assert.equal(errorOf(r).code, 'overloaded');
    await waitIdle(w);
  });

  test('a generation past request_timeout is cancelled with 504 (plain) or an SSE error event', async () => {
    const body = { prompt: 'Once upon a time', max_tokens: 1800, temperature: 0, ignore_eos: true };
    const r = await request(`${w.url}/v1/completions`, { json: body, timeoutMs: 30000 });
    assert.equal(r.status, 504, r.text);
    assert.equal(errorOf(r).code, 'generation_timeout');
    const s = await openStream(`${w.url}/v1/completions`, { json: { ...body, stream: true } });
    await s.end(30000);
    assert.ok(s.events.some((e) => e.event === 'error' && JSON.parse(e.data).error.code === 'generation_timeout'));
    await waitIdle(w, 'the timed-out sequences to release their blocks');
  });

  test('SIGTERM lets a request in progress finish, then the worker exits 0', async () => {
    const s = await openStream(`${w.url}/v1/completions`, {
      json: { prompt: 'Once upon a time', max_tokens: tokens(40, 16), temperature: 0, ignore_eos: true, stream: true },
    });
    await s.nextEvent(10000);
    w.proc.kill('SIGTERM');
    await s.end(20000);
    assert.equal(s.events.at(-1).data, '[DONE]');
    const exit = await w.proc.waitExit(10000);
    assert.equal(exit.code, 0, `exit ${JSON.stringify(exit)}; output:\n${w.proc.tail()}`);
  });
});

describe('worker: completions errors name the prompt', () => {
  test('context_length_exceeded on /v1/completions names prompt', async () => {
    const w = await workerFor(['--kv-memory', '16MiB']);
    const r = await request(`${w.url}/v1/completions`, { json: { prompt: 'Once', max_tokens: 5000 } });
    assert.equal(r.status, 400);
    const e = errorOf(r);
    assert.equal(e.code, 'context_length_exceeded');
    assert.equal(e.param, 'prompt');
    assert.match(e.message, /max_model_len 2048/);
    if (w !== sharedWorker) await w.stop();
  });
});
