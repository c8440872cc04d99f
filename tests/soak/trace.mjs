// The mixed request trace the soak driver (and the gateway restart fault test) sends: streamed
// and plain chat, streamed completions, short and longer prompts, a few client cancels — drawn
// from a seeded generator so a run can be repeated — and one function that sends a request and
// says exactly how it ended. Every request carries a unique id (X-Request-Id and `user`).
import http from 'node:http';
import { openStream, withTimeout } from '../integration/harness.mjs';

const STORY = 'Once upon a time, there was a little girl named Lily. She loved to play outside in the sunshine. ';
const SHORT = ['Tell me a story', 'Once upon a time', 'The cat sat', 'Lily went to the park', 'Tom had a red ball'];

// mulberry32: a small seeded PRNG, enough for drawing a trace.
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// The n-th request of the trace: {id, path, stream, body, cancel}. `cancel` is null, or for a
// stream {afterEvents}, for a plain request {afterMs}. cancelRate is the share of cancels.
export function traceRequest(random, n, { model = 'stories260K', cancelRate = 0.05, prefix = 'soak' } = {}) {
  const id = `${prefix}-${n}`;
  const pick = random();
  const long = random() < 0.3;
  const text = (long ? STORY.repeat(8) : '') + SHORT[Math.floor(random() * SHORT.length)];
  const max_tokens = 8 + Math.floor(random() * 40);
  const cancelled = random() < cancelRate;
  let path;
  let stream;
  let body;
  if (pick < 0.45) {
    path = '/v1/chat/completions';
    stream = true;
    body = { model, messages: [{ role: 'user', content: text }], max_tokens, temperature: 0.8, seed: n, stream, user: id };
  } else if (pick < 0.8) {
    path = '/v1/chat/completions';
    stream = false;
    body = { model, messages: [{ role: 'user', content: text }], max_tokens, temperature: 0.8, seed: n, user: id };
  } else {
    path = '/v1/completions';
    stream = true;
    body = { model, prompt: text, max_tokens, temperature: 0, stream, user: id };
  }
  let cancel = null;
  if (cancelled) {
    if (stream) cancel = { afterEvents: 1 + Math.floor(random() * 3) };
    else cancel = { afterMs: 5 + Math.floor(random() * 30) };
    body.max_tokens = 400; // long enough that the cancel lands while the node is still generating
    body.ignore_eos = true;
  }
  return { id, path, stream, body, cancel };
}

function errorCode(e) {
  if (/timed out/.test(e?.message ?? '')) return 'timeout';
  return e?.code ?? e?.message ?? 'error';
}

// A plain POST that the client abandons after `afterMs` (or answers normally without a cancel).
function plainRequest(url, spec, timeoutMs) {
  const payload = JSON.stringify(spec.body);
  const u = new URL(url + spec.path);
  return new Promise((resolve) => {
    let done = false;
    const finish = (v) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      clearTimeout(cancelTimer);
      resolve(v);
    };
    const req = http.request({
      host: u.hostname, port: u.port, path: u.pathname, method: 'POST', agent: false,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), 'x-request-id': spec.id },
    }, (res) => {
      const parts = [];
      res.on('data', (c) => parts.push(c));
      res.on('end', () => finish({ status: res.statusCode, text: Buffer.concat(parts).toString('utf8') }));
      res.on('error', (e) => finish({ error: errorCode(e), status: res.statusCode }));
      res.on('close', () => {
        if (!res.complete) finish({ error: 'cut', status: res.statusCode });
      });
    });
    const timer = setTimeout(() => {
      req.destroy();
      finish({ error: 'timeout' });
    }, timeoutMs);
    const cancelTimer = spec.cancel ? setTimeout(() => {
      req.destroy();
      finish({ cancelled: true });
    }, spec.cancel.afterMs) : null;
    req.on('error', (e) => finish({ error: errorCode(e) }));
    req.end(payload);
  });
}

// Sends one traced request to the gateway at `url`. Resolves
// {id, stream, outcome: 'ok'|'cancelled'|'error', error, status, ttft_ms, total_ms, tokens}:
// 'ok' only for a complete answer (a stream's [DONE] after a finish_reason; a 200 with choices).
export async function sendTraced(url, spec, { timeoutMs = 30000 } = {}) {
  const t0 = performance.now();
  const out = { id: spec.id, path: spec.path, stream: spec.stream, outcome: 'error', error: null, status: 0, ttft_ms: null, total_ms: 0, tokens: 0 };
  const done = (fields) => Object.assign(out, fields, { total_ms: performance.now() - t0 });
  if (!spec.stream) {
    const r = await plainRequest(url, spec, timeoutMs);
    if (r.cancelled) return done({ outcome: 'cancelled' });
    if (r.error) return done({ error: r.error, status: r.status ?? 0 });
    let json;
    try {
      json = JSON.parse(r.text);
    } catch {
      json = undefined;
    }
    if (r.status !== 200) return done({ status: r.status, error: json?.error?.code ?? `status_${r.status}` });
    if (!json?.choices?.[0]?.finish_reason) return done({ status: 200, error: 'incomplete_answer' });
    return done({ outcome: 'ok', status: 200, tokens: json.usage?.completion_tokens ?? 0 });
  }
  let s;
  try {
    s = await openStream(url + spec.path, { json: spec.body, headers: { 'x-request-id': spec.id }, timeoutMs });
  } catch (e) {
    return done({ error: errorCode(e) });
  }
  out.status = s.status;
  if (s.status !== 200) {
    try {
      await s.end(timeoutMs);
    } catch {
      s.close();
    }
    let code = `status_${s.status}`;
    try {
      code = JSON.parse(s.text).error.code ?? code;
    } catch {
      /* not an error body */
    }
    return done({ error: code });
  }
  let finished = false;
  try {
    for (;;) {
      const ev = await withTimeout(s.nextEvent(timeoutMs), timeoutMs + 1000, `${spec.id}: next event`);
      if (!ev) break;
      if (ev.event === 'error') {
        s.close();
        let code = 'sse_error';
        try {
          code = JSON.parse(ev.data).error.code ?? code;
        } catch {
          /* keep sse_error */
        }
        return done({ error: code });
      }
      if (ev.data === '[DONE]') continue;
      const chunk = JSON.parse(ev.data);
      const choice = chunk.choices?.[0];
      if (choice && (choice.delta?.content || choice.text)) {
        out.tokens += 1;
        if (out.ttft_ms === null) out.ttft_ms = performance.now() - t0;
      }
      if (choice?.finish_reason) finished = true;
      if (spec.cancel && out.tokens >= spec.cancel.afterEvents) {
        s.close();
        return done({ outcome: 'cancelled' });
      }
    }
  } catch (e) {
    s.close();
    return done({ error: errorCode(e) });
  }
  const last = s.events.at(-1);
  if (s.ended && finished && last?.data === '[DONE]') return done({ outcome: 'ok' });
  return done({ error: s.error ? 'cut' : 'incomplete_stream' });
}
