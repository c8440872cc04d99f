#!/usr/bin/env node
// A scripted OpenAI-shaped server for laneway's integration tests, the README's quick start and
// the gateway benchmark. Dependency-free (node:http only); works on Node 18 and later.
//
//   node fake_upstream.mjs [--port 0] [--host 127.0.0.1] [--models m1,m2] [--name NAME]
//                          [--behavior B] [--exit-on-stdin-close]
//
// Prints one JSON line on stdout once listening: {"event":"listening","port":N,"name":...}.
//
// API (what a node looks like to the gateway):
//   GET  /health                  200 {"status":"ok"} (or the status set through /_control)
//   GET  /v1/models               {"object":"list","data":[{"id","object":"model","created":0,"owned_by":"fake"}]}
//   POST /v1/chat/completions     OpenAI chat completion; "stream":true gives SSE chunks + [DONE]
//   POST /v1/completions          OpenAI text completion; same streaming rules
//   POST /v1/embeddings           OpenAI embeddings list (8 deterministic dimensions per input)
//
// Per-request behaviour, from request headers (the gateway passes them through):
//   x-fake-chunks: N              content events in a stream (default 5); also the number of
//                                 tokens in a non-streaming answer
//   x-fake-interval-ms: M         gap between stream events (default 0)
//   x-fake-behavior: B            one of
//       normal                    answer normally
//       status-500 | status-429 | status-NNN   an OpenAI-style JSON error with that status
//       reset-before-headers      read the request, then reset the connection (TCP RST)
//       reset-mid-stream          send the response head and the first event (or half the JSON
//                                 body), then close the connection without finishing the body
//       hang                      never answer; keep the connection open
//       hold-after-first          stream: send the first event, then wait for
//                                 POST /_control {"release":true}, then finish.
//                                 non-stream: wait for the release, then answer
//       slow-headers-ms:N         wait N ms before sending the response head, then answer
//       close-after-response      answer normally with "Connection: close"
// `--behavior B` (or /_control {"behavior":B}) sets the default for requests without the header.
//
// `--kind K` adds the load endpoints of a real server of that kind, in its format (the gateway
// polls them; values come from /_control {"load": {...}}, running defaulting to the API requests
// in progress):
//   llamacpp   GET /metrics (llamacpp:requests_processing, requests_deferred, prompt_tokens_total,
//              prompt_tokens_seconds, tokens_predicted_total) and GET /slots ([{id, n_ctx, is_processing}])
//   vllm       GET /metrics (vllm:num_requests_running / waiting, vllm:kv_cache_usage_perc, with
//              a model_name label)
//   ollama     GET /api/ps ({"models":[{"name","model","size","digest","details","expires_at","size_vram"}]})
//   laneway    GET /load (the worker's JSON) and GET /v1/kv/events (SSE: a `snapshot` of
//              load.kv_hashes, then a `kv` batch per /_control {"kv": {"stored": [...], "removed": [...]}});
//              /_control {"kv_disconnect": true} ends every event stream
//
// Observability (these two paths never count in `requests`):
//   GET  /_stats     {requests, requests_by_path, connections, open_connections, active_streams,
//                     completed_streams, aborted_streams, reset_streams, aborted_requests, held,
//                     health_status, behavior, last_headers, last_body, recent:[...]}
//     connections       accepted TCP connections since start (or the last reset)
//     aborted_streams   streams whose connection the peer closed before the stream finished
//     aborted_requests  any API request the peer abandoned before the response finished
//                       (streams included; `hang` and held non-stream requests too)
//     reset_streams     responses this server cut on purpose (reset-mid-stream)
//     held              requests currently waiting for a release
//     last_headers, last_body   of the last POST to /v1/* (health probes and model listings
//                       do not overwrite them); `recent` lists the last 32 requests of any kind
//   POST /_control   JSON object, any of:
//     {"health": 200|503|"hang"}  status of GET /health ("hang": never answer probes)
//     {"release": true}           finish every held request
//     {"behavior": "..."}         default behaviour
//     {"models": ["a","b"]}       the list GET /v1/models returns
//     {"reset_stats": true}       zero the counters (live gauges are kept)
//     {"drop_idle": true}         close every keep-alive connection that has no request in
//                                 progress (what a node's keep-alive timeout does)
//   Answers {"ok":true,"released":N,"dropped":N}.
//
// SIGTERM / SIGINT: close every connection and exit 0.
import http from 'node:http';
import { listenAndAnnounce, parseNodeArgs, stopOnSignals } from './node_process.mjs';

const args = parseNodeArgs({
  name: 'fake',
  options: {
    behavior: { type: 'string', default: 'normal' },
    kind: { type: 'string', default: 'openai' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (args.help) {
  process.stdout.write(
    'usage: node fake_upstream.mjs [--port 0] [--host 127.0.0.1] [--models m1,m2] [--name NAME]\n' +
      '                              [--behavior B] [--exit-on-stdin-close]\n' +
      'See the comment at the top of this file for the API and the behaviours.\n',
  );
  process.exit(0);
}

const NAME = args.name;
const RECENT_MAX = 32;

const state = {
  models: splitList(args.models),
  behavior: args.behavior,
  health: 200, // number or 'hang'
  held: new Set(), // functions that finish a held request
  kind: args.kind,
  load: {}, // /_control {"load": {...}}: values the load endpoints report
  kvSeq: 0,
  kvHashes: new Set(),
  kvStreams: new Set(),
};
let apiInProgress = 0;

function freshCounters() {
  return {
    requests: 0,
    requests_by_path: {},
    connections: 0,
    completed_streams: 0,
    aborted_streams: 0,
    reset_streams: 0,
    aborted_requests: 0,
    last_headers: null,
    last_body: null,
    recent: [],
  };
}
let counters = freshCounters();
let activeStreams = 0;
const sockets = new Set();
const busy = new WeakMap(); // socket → requests in progress on it
const timers = new Set();

function splitList(s) {
  return String(s)
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
}

function later(ms, fn) {
  const t = setTimeout(() => {
    timers.delete(t);
    fn();
  }, ms);
  timers.add(t);
  return t;
}

function cancel(t) {
  if (t) {
    clearTimeout(t);
    timers.delete(t);
  }
}

function sendJson(res, status, obj, extraHeaders = {}) {
  const body = JSON.stringify(obj);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    'x-fake-upstream': NAME,
    ...extraHeaders,
  });
  res.end(body);
}

function errorBody(message, type, code, param = null) {
  return { error: { message, type, param, code } };
}

function sendError(res, status, message, type, code) {
  sendJson(res, status, errorBody(message, type, code));
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const parts = [];
    req.on('data', (c) => parts.push(c));
    req.on('end', () => resolve(Buffer.concat(parts)));
    req.on('error', reject);
    req.on('aborted', () => reject(new Error('request aborted')));
  });
}

function intHeader(req, name, dflt) {
  const v = req.headers[name];
  if (v === undefined) return dflt;
  const n = Number.parseInt(String(v), 10);
  return Number.isFinite(n) && n >= 0 ? n : dflt;
}

// Deterministic tokens: "Hello", " from", " NAME", then the same words again.
function tokens(n) {
  const words = ['Hello', 'from', NAME];
  const out = [];
  for (let i = 0; i < n; i++) out.push((i === 0 ? '' : ' ') + words[i % words.length]);
  return out;
}

let idCounter = 0;
function newId(prefix) {
  idCounter += 1;
  return `${prefix}-${NAME}-${idCounter}`;
}

function usage(promptTokens, completionTokens) {
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
  };
}

function promptTokenCount(body) {
  const text = JSON.stringify(body.messages ?? body.prompt ?? body.input ?? '');
  return Math.max(1, Math.ceil(text.length / 4));
}

// ---- API handlers ---------------------------------------------------------------------------

function completionResponse(kind, body, n) {
  const model = typeof body.model === 'string' ? body.model : state.models[0];
  const text = tokens(n).join('');
  const created = Math.floor(Date.now() / 1000);
  if (kind === 'chat') {
    return {
      id: newId('chatcmpl'),
      object: 'chat.completion',
      created,
      model,
      system_fingerprint: `fake-${NAME}`,
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: text },
          logprobs: null,
          finish_reason: 'stop',
        },
      ],
      usage: usage(promptTokenCount(body), n),
    };
  }
  return {
    id: newId('cmpl'),
    object: 'text_completion',
    created,
    model,
    system_fingerprint: `fake-${NAME}`,
    choices: [{ index: 0, text, logprobs: null, finish_reason: 'stop' }],
    usage: usage(promptTokenCount(body), n),
  };
}

function streamEvents(kind, body, n) {
  const model = typeof body.model === 'string' ? body.model : state.models[0];
  const id = newId(kind === 'chat' ? 'chatcmpl' : 'cmpl');
  const created = Math.floor(Date.now() / 1000);
  const toks = tokens(n);
  const events = toks.map((tok, i) => {
    const last = i === toks.length - 1;
    if (kind === 'chat') {
      const delta = i === 0 ? { role: 'assistant', content: tok } : { content: tok };
      return {
        id,
        object: 'chat.completion.chunk',
        created,
        model,
        system_fingerprint: `fake-${NAME}`,
        choices: [{ index: 0, delta, logprobs: null, finish_reason: last ? 'stop' : null }],
      };
    }
    return {
      id,
      object: 'text_completion',
      created,
      model,
      system_fingerprint: `fake-${NAME}`,
      choices: [{ index: 0, text: tok, logprobs: null, finish_reason: last ? 'stop' : null }],
    };
  });
  if (body.stream_options && body.stream_options.include_usage) {
    events.push({
      id,
      object: kind === 'chat' ? 'chat.completion.chunk' : 'text_completion',
      created,
      model,
      choices: [],
      usage: usage(promptTokenCount(body), n),
    });
  }
  return events.map((e) => `data: ${JSON.stringify(e)}\n\n`).concat(['data: [DONE]\n\n']);
}

function embeddingsResponse(body) {
  const model = typeof body.model === 'string' ? body.model : state.models[0];
  const inputs = Array.isArray(body.input) ? body.input : [body.input ?? ''];
  const data = inputs.map((inp, index) => {
    const s = typeof inp === 'string' ? inp : JSON.stringify(inp);
    let h = 2166136261;
    for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619) >>> 0;
    const embedding = [];
    for (let d = 0; d < 8; d++) {
      h = Math.imul(h ^ (d + 1), 16777619) >>> 0;
      embedding.push(Number(((h % 2000) / 1000 - 1).toFixed(6)));
    }
    return { object: 'embedding', index, embedding };
  });
  return {
    object: 'list',
    data,
    model,
    usage: { prompt_tokens: promptTokenCount(body), total_tokens: promptTokenCount(body) },
  };
}

function resetSocket(socket) {
  if (typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy();
  else socket.destroy();
}

// Tracks whether the peer abandoned the response (as opposed to us finishing or cutting it).
function track(res, isStream) {
  const t = { cutByUs: false, finished: false, onAbort: null };
  res.on('close', () => {
    if (t.finished || res.writableFinished) return;
    if (t.cutByUs) return;
    counters.aborted_requests += 1;
    if (isStream && res.headersSent) counters.aborted_streams += 1;
    if (t.onAbort) t.onAbort();
  });
  return t;
}

function hold(fn) {
  // Returns a handle: calling release() runs fn once (unless the request was abandoned).
  let done = false;
  const release = () => {
    if (done) return;
    done = true;
    state.held.delete(release);
    fn();
  };
  state.held.add(release);
  return {
    drop() {
      done = true;
      state.held.delete(release);
    },
  };
}

function parseBehavior(req) {
  const raw = String(req.headers['x-fake-behavior'] ?? state.behavior ?? 'normal').trim();
  let m = /^slow-headers-ms:(\d+)$/.exec(raw);
  if (m) return { kind: 'slow-headers', ms: Number(m[1]) };
  m = /^status-(\d{3})$/.exec(raw);
  if (m) return { kind: 'status', status: Number(m[1]) };
  return { kind: raw || 'normal' };
}

async function handleApi(req, res, path, kind, entry) {
  apiInProgress += 1;
  res.on('close', () => {
    apiInProgress -= 1;
  });
  let raw;
  try {
    raw = await readBody(req);
  } catch {
    return;
  }
  let body;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch {
    counters.last_body = raw.toString('utf8');
    counters.last_headers = { ...req.headers };
    return sendError(res, 400, 'request body is not valid JSON', 'invalid_request_error', 'invalid_json');
  }
  counters.last_body = body;
  counters.last_headers = { ...req.headers };
  entry.model = body && body.model;
  entry.stream = Boolean(body && body.stream);
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    return sendError(res, 400, 'request body must be a JSON object', 'invalid_request_error', 'invalid_request');
  }

  const behavior = parseBehavior(req);
  const isStream = kind !== 'embeddings' && body.stream === true;
  const t = track(res, isStream);

  switch (behavior.kind) {
    case 'normal':
    case 'hold-after-first':
    case 'reset-mid-stream':
    case 'close-after-response':
      break;
    case 'status': {
      const st = behavior.status;
      const type = st === 429 ? 'rate_limit_error' : st >= 500 ? 'server_error' : 'invalid_request_error';
      const extra = st === 429 ? { 'retry-after': '1' } : {};
      t.finished = true;
      return sendJson(res, st, errorBody(`fake upstream ${NAME}: scripted status ${st}`, type, `fake_${st}`), extra);
    }
    case 'reset-before-headers':
      t.cutByUs = true;
      return resetSocket(req.socket);
    case 'hang':
      // Never answer; the socket stays open until the peer closes it (counted as aborted).
      return;
    case 'slow-headers': {
      const timer = later(behavior.ms, () => respond(req, res, kind, body, isStream, { kind: 'normal' }, t));
      t.onAbort = () => cancel(timer);
      return;
    }
    default:
      t.finished = true;
      return sendError(res, 400, `unknown x-fake-behavior '${behavior.kind}'`, 'invalid_request_error', 'fake_behavior');
  }
  respond(req, res, kind, body, isStream, behavior, t);
}

function respond(req, res, kind, body, isStream, behavior, t) {
  const n = intHeader(req, 'x-fake-chunks', 5);
  const interval = intHeader(req, 'x-fake-interval-ms', 0);
  const connClose = behavior.kind === 'close-after-response' ? { connection: 'close' } : {};

  if (kind === 'embeddings') {
    if (behavior.kind === 'hold-after-first') {
      const h = hold(() => sendJson(res, 200, embeddingsResponse(body), connClose));
      t.onAbort = () => h.drop();
      return;
    }
    if (behavior.kind === 'reset-mid-stream') return cutJson(res, embeddingsResponse(body), t);
    t.finished = true;
    return sendJson(res, 200, embeddingsResponse(body), connClose);
  }

  if (!isStream) {
    const resp = completionResponse(kind, body, n);
    if (behavior.kind === 'hold-after-first') {
      const h = hold(() => {
        t.finished = true;
        sendJson(res, 200, resp, connClose);
      });
      t.onAbort = () => h.drop();
      return;
    }
    if (behavior.kind === 'reset-mid-stream') return cutJson(res, resp, t);
    t.finished = true;
    return sendJson(res, 200, resp, connClose);
  }

  // Streaming.
  const events = streamEvents(kind, body, n);
  res.writeHead(200, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache',
    'x-fake-upstream': NAME,
    ...connClose,
  });
  res.flushHeaders();
  activeStreams += 1;
  let open = true;
  let timer = null;
  let held = null;
  const stop = () => {
    if (!open) return;
    open = false;
    activeStreams -= 1;
    cancel(timer);
    if (held) held.drop();
  };
  t.onAbort = stop;
  res.on('close', stop);

  let i = 0;
  const finish = () => {
    t.finished = true;
    counters.completed_streams += 1;
    stop();
    res.end();
  };
  const step = () => {
    if (!open) return;
    if (i >= events.length) return finish();
    res.write(events[i]);
    i += 1;
    if (i === 1 && behavior.kind === 'reset-mid-stream' && i < events.length) {
      t.cutByUs = true;
      counters.reset_streams += 1;
      stop();
      // Close (FIN) once the event has been handed to the kernel, so the peer surely sees it
      // before the end of the connection, which arrives in the middle of the chunked body.
      res.write('', () => req.socket.destroy());
      return;
    }
    if (i === 1 && behavior.kind === 'hold-after-first' && i < events.length) {
      held = hold(() => {
        held = null;
        next();
      });
      return;
    }
    next();
  };
  const next = () => {
    if (interval > 0) timer = later(interval, step);
    else step();
  };
  step();
}

function cutJson(res, obj, t) {
  const body = Buffer.from(JSON.stringify(obj));
  res.writeHead(200, {
    'content-type': 'application/json',
    'content-length': body.length,
    'x-fake-upstream': NAME,
  });
  t.cutByUs = true;
  counters.reset_streams += 1;
  res.write(body.subarray(0, Math.floor(body.length / 2)), () => res.socket && res.socket.destroy());
}

// ---- load endpoints of the real server kinds (--kind) ----------------------------------------

function loadValue(key, fallback) {
  return key in state.load ? state.load[key] : fallback;
}

function sendText(res, status, text) {
  res.writeHead(status, { 'content-type': 'text/plain; version=0.0.4', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

// True when `path` is a load endpoint of this server's kind (and it was answered).
function serveLoadEndpoint(req, res, path) {
  const running = loadValue('running', apiInProgress);
  const waiting = loadValue('waiting', 0);
  const model = state.models[0] ?? 'fake-model';
  if (state.kind === 'llamacpp' && path === '/metrics') {
    sendText(res, 200, [
      '# HELP llamacpp:prompt_tokens_total Number of prompt tokens processed.',
      '# TYPE llamacpp:prompt_tokens_total counter',
      `llamacpp:prompt_tokens_total ${loadValue('prompt_tokens_total', 0)}`,
      '# HELP llamacpp:prompt_tokens_seconds Average prompt throughput in tokens/s.',
      '# TYPE llamacpp:prompt_tokens_seconds gauge',
      `llamacpp:prompt_tokens_seconds ${loadValue('prefill_tokens_per_s', 0)}`,
      '# TYPE llamacpp:tokens_predicted_total counter',
      `llamacpp:tokens_predicted_total ${loadValue('tokens_predicted_total', 0)}`,
      '# HELP llamacpp:requests_processing Number of requests processing.',
      '# TYPE llamacpp:requests_processing gauge',
      `llamacpp:requests_processing ${running}`,
      '# HELP llamacpp:requests_deferred Number of requests deferred.',
      '# TYPE llamacpp:requests_deferred gauge',
      `llamacpp:requests_deferred ${waiting}`,
      '',
    ].join('\n'));
    return true;
  }
  if (state.kind === 'llamacpp' && path === '/slots') {
    const n = loadValue('slots', 4);
    const slots = [];
    for (let i = 0; i < n; i++) slots.push({ id: i, id_task: -1, n_ctx: 4096, speculative: false, is_processing: i < running });
    sendJson(res, 200, slots);
    return true;
  }
  if (state.kind === 'vllm' && path === '/metrics') {
    const l = `{model_name="${model}"}`;
    sendText(res, 200, [
      '# HELP vllm:num_requests_running Number of requests in model execution batches.',
      '# TYPE vllm:num_requests_running gauge',
      `vllm:num_requests_running${l} ${Number(running).toFixed(1)}`,
      '# HELP vllm:num_requests_waiting Number of requests waiting to be processed.',
      '# TYPE vllm:num_requests_waiting gauge',
      `vllm:num_requests_waiting${l} ${Number(waiting).toFixed(1)}`,
      '# HELP vllm:kv_cache_usage_perc KV-cache usage. 1 means 100 percent usage.',
      '# TYPE vllm:kv_cache_usage_perc gauge',
      `vllm:kv_cache_usage_perc${l} ${loadValue('kv_usage', 0)}`,
      '# TYPE vllm:prompt_tokens_total counter',
      `vllm:prompt_tokens_total${l} ${loadValue('prompt_tokens_total', 0)}`,
      '',
    ].join('\n'));
    return true;
  }
  if (state.kind === 'ollama' && path === '/api/ps') {
    sendJson(res, 200, {
      models: loadValue('loaded', state.models).map((name) => ({
        name, model: name, size: 5137025024, digest: '365c0bd3c000a25d28ddbf732fe1c6add414de7275464c4e4d1c3b5fcb5d8ad1',
        details: { parent_model: '', format: 'gguf', family: 'llama', families: ['llama'], parameter_size: '8.0B', quantization_level: 'Q4_0' },
        expires_at: '2030-06-04T14:38:31.83753-07:00', size_vram: 5137025024,
      })),
    });
    return true;
  }
  if (state.kind === 'laneway' && path === '/load') {
    const total = loadValue('kv_blocks_total', 1024);
    sendJson(res, 200, {
      model, model_fingerprint: '00000000000000aa', backend: 'fake', running, waiting,
      max_seqs: loadValue('max_seqs', 8), max_model_len: 4096, kv_blocks_total: total,
      kv_blocks_free: loadValue('kv_blocks_free', total), kv_blocks_cached: state.kvHashes.size, block_size: 16,
      hash_seed: loadValue('hash_seed', '0000000000005eed'), kv_events_seq: state.kvSeq,
      prefill_tokens_per_s: loadValue('prefill_tokens_per_s', 0), decode_tokens_per_s: 0, draining: false,
    });
    return true;
  }
  if (state.kind === 'laneway' && path === '/v1/kv/events') {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    res.write(`event: snapshot\ndata: ${JSON.stringify({ seq: state.kvSeq, model, block_size: 16, hash_seed: '0000000000005eed', hashes: [...state.kvHashes] })}\n\n`);
    state.kvStreams.add(res);
    res.on('close', () => state.kvStreams.delete(res));
    return true;
  }
  return false;
}

// ---- control plane --------------------------------------------------------------------------

function statsBody() {
  return {
    name: NAME,
    models: state.models,
    requests: counters.requests,
    requests_by_path: counters.requests_by_path,
    connections: counters.connections,
    open_connections: sockets.size,
    active_streams: activeStreams,
    completed_streams: counters.completed_streams,
    aborted_streams: counters.aborted_streams,
    reset_streams: counters.reset_streams,
    aborted_requests: counters.aborted_requests,
    held: state.held.size,
    health_status: state.health,
    behavior: state.behavior,
    last_headers: counters.last_headers,
    last_body: counters.last_body,
    recent: counters.recent,
  };
}

async function handleControl(req, res) {
  let obj;
  try {
    obj = JSON.parse((await readBody(req)).toString('utf8') || '{}');
  } catch {
    return sendError(res, 400, 'control body is not valid JSON', 'invalid_request_error', 'invalid_json');
  }
  if (obj === null || typeof obj !== 'object') {
    return sendError(res, 400, 'control body must be an object', 'invalid_request_error', 'invalid_request');
  }
  let released = 0;
  let dropped = 0;
  if (obj.drop_idle) {
    for (const sock of sockets) {
      if (sock !== req.socket && !(busy.get(sock) > 0)) {
        sock.destroy();
        dropped += 1;
      }
    }
  }
  if (obj.reset_stats) counters = freshCounters();
  if ('health' in obj) {
    const h = obj.health;
    if (!(h === 'hang' || (Number.isInteger(h) && h >= 100 && h <= 599))) {
      return sendError(res, 400, 'health must be a status code or "hang"', 'invalid_request_error', 'bad_control');
    }
    state.health = h;
  }
  if ('behavior' in obj) state.behavior = String(obj.behavior);
  if ('models' in obj) {
    if (!Array.isArray(obj.models)) {
      return sendError(res, 400, 'models must be an array', 'invalid_request_error', 'bad_control');
    }
    state.models = obj.models.map(String);
  }
  if ('load' in obj) {
    if (obj.load === null || typeof obj.load !== 'object') {
      return sendError(res, 400, 'load must be an object', 'invalid_request_error', 'bad_control');
    }
    state.load = { ...state.load, ...obj.load };
    if (Array.isArray(obj.load.kv_hashes)) state.kvHashes = new Set(obj.load.kv_hashes);
  }
  if (obj.kv) {
    const stored = (obj.kv.stored ?? []).map(String);
    const removed = (obj.kv.removed ?? []).map(String);
    for (const h of stored) state.kvHashes.add(h);
    for (const h of removed) state.kvHashes.delete(h);
    state.kvSeq += 1;
    const ev = `event: kv\ndata: ${JSON.stringify({ seq: state.kvSeq, stored, removed })}\n\n`;
    for (const s of state.kvStreams) s.write(ev);
  }
  if (obj.kv_disconnect) {
    for (const s of state.kvStreams) s.destroy();
    state.kvStreams.clear();
  }
  if (obj.release) {
    const all = [...state.held];
    released = all.length;
    for (const r of all) r();
  }
  sendJson(res, 200, { ok: true, released, dropped });
}

// ---- server ---------------------------------------------------------------------------------

const server = http.createServer({ noDelay: true }, (req, res) => {
  const sock = req.socket;
  busy.set(sock, (busy.get(sock) ?? 0) + 1);
  res.on('close', () => busy.set(sock, (busy.get(sock) ?? 1) - 1));
  const url = new URL(req.url, 'http://fake');
  const path = url.pathname;
  const method = req.method;

  if (path === '/_stats') {
    if (method !== 'GET') return sendError(res, 405, 'use GET', 'invalid_request_error', 'method_not_allowed');
    return sendJson(res, 200, statsBody());
  }
  if (path === '/_control') {
    if (method !== 'POST') return sendError(res, 405, 'use POST', 'invalid_request_error', 'method_not_allowed');
    return void handleControl(req, res);
  }

  counters.requests += 1;
  counters.requests_by_path[path] = (counters.requests_by_path[path] ?? 0) + 1;
  const entry = { method, path, headers: { ...req.headers } };
  counters.recent.push(entry);
  if (counters.recent.length > RECENT_MAX) counters.recent.shift();

  if (path === '/health') {
    if (method !== 'GET' && method !== 'HEAD') {
      return sendError(res, 405, 'use GET', 'invalid_request_error', 'method_not_allowed');
    }
    if (state.health === 'hang') return; // never answer; the prober's timeout has to fire
    const ok = state.health >= 200 && state.health < 300;
    return sendJson(res, state.health, { status: ok ? 'ok' : 'unhealthy' });
  }
  if (path === '/v1/models') {
    if (method !== 'GET') return sendError(res, 405, 'use GET', 'invalid_request_error', 'method_not_allowed');
    return sendJson(res, 200, {
      object: 'list',
      data: state.models.map((id) => ({ id, object: 'model', created: 0, owned_by: 'fake' })),
    });
  }
  if (method === 'GET' && serveLoadEndpoint(req, res, path)) return;
  const kinds = { '/v1/chat/completions': 'chat', '/v1/completions': 'completion', '/v1/embeddings': 'embeddings' };
  if (kinds[path]) {
    if (method !== 'POST') return sendError(res, 405, 'use POST', 'invalid_request_error', 'method_not_allowed');
    return void handleApi(req, res, path, kinds[path], entry);
  }
  return sendError(res, 404, `no route for ${method} ${path}`, 'invalid_request_error', 'not_found');
});

server.keepAliveTimeout = 120_000; // longer than any gateway pool idle timeout in the tests
server.headersTimeout = 130_000;
server.requestTimeout = 0; // `hang` and held requests may last as long as a test wants
server.on('connection', (socket) => {
  socket.setNoDelay(true);
  counters.connections += 1;
  sockets.add(socket);
  socket.on('close', () => sockets.delete(socket));
});
server.on('clientError', (err, socket) => {
  if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
  else socket.destroy();
});

function shutdown() {
  for (const t of timers) clearTimeout(t);
  timers.clear();
  server.close(() => process.exit(0));
  if (typeof server.closeAllConnections === 'function') server.closeAllConnections();
  for (const s of sockets) s.destroy();
  // server.close's callback runs once every socket is gone; this is the backstop.
  setTimeout(() => process.exit(0), 1000).unref();
}
stopOnSignals(args, shutdown);
listenAndAnnounce(server, args, { models: state.models });
