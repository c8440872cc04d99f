#!/usr/bin/env node
// A misbehaving node for the fault tests: a raw TCP server (no node:http, so it can send what
// no HTTP library would) that answers GET /health and GET /v1/models correctly and breaks its
// answers to POST /v1/* on purpose. fake_upstream.mjs covers the well-formed misbehaviours
// (5xx, resets, holds, hangs); this one covers malformed bytes.
//
//   node faults_node.mjs [--port 0] [--name NAME] [--models m1,m2] [--fault F] [--exit-on-stdin-close]
//
// Prints {"event":"listening","port":N,"name":...} on stdout once listening.
// The fault comes from the request's `x-fault` header, else --fault (default `ok`):
//   ok                 a valid chat completion (Content-Length)
//   garbage            bytes that are not HTTP at all, then close
//   bad-chunked        200 application/json, chunked, one good chunk, then an invalid chunk size
//   invalid-json       200 application/json with a Content-Length body that is not JSON
//   sse-bad-chunked    200 text/event-stream: one event, then an invalid chunk size
//   sse-cut-mid-event  200 text/event-stream: one event, then half of the next one, then close
// GET /_stats answers {"requests":N,"by_fault":{...},"open_connections":N}.
// POST /_control {"silent":true} makes the node go silent: from then on it accepts connections
// and reads nothing, answers nothing (health probes included) — a wedged process.
import net from 'node:net';
import { listenAndAnnounce, parseNodeArgs, stopOnSignals } from './node_process.mjs';

const args = parseNodeArgs({ name: 'faulty', options: { fault: { type: 'string', default: 'ok' } } });

const NAME = args.name;
const MODELS = args.models.split(',').filter(Boolean);
const stats = { requests: 0, by_fault: {}, open_connections: 0 };
let silent = false;
const sockets = new Set();

function head(status, headers) {
  const reason = { 200: 'OK', 400: 'Bad Request', 404: 'Not Found' }[status] ?? 'Status';
  return `HTTP/1.1 ${status} ${reason}\r\n` + Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('') + '\r\n';
}

function json(sock, status, obj) {
  const body = JSON.stringify(obj);
  sock.write(head(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }) + body);
}

function chunk(text) {
  return `${Buffer.byteLength(text).toString(16)}\r\n${text}\r\n`;
}

function event(content) {
  return `data: ${JSON.stringify({ id: 'chatcmpl-f', object: 'chat.completion.chunk', created: 0, model: MODELS[0],
    choices: [{ index: 0, delta: { content }, finish_reason: null }] })}\n\n`;
}

const completion = () => ({
  id: 'chatcmpl-f', object: 'chat.completion', created: 0, model: MODELS[0],
  choices: [{ index: 0, message: { role: 'assistant', content: `Hello from ${NAME}` }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 3, completion_tokens: 3, total_tokens: 6 },
});

// Answers one POST /v1/* with `fault`. Returns false when the connection must end afterwards.
function misbehave(sock, fault) {
  const sse = { 'content-type': 'text/event-stream', 'transfer-encoding': 'chunked' };
  switch (fault) {
    case 'ok':
      json(sock, 200, completion());
      return true;
    case 'garbage':
      sock.end('\x16\x03\x01\x02\x00 SSH-2.0-not-http\r\n\x00\xff\xfe\r\n\r\n');
      return false;
    case 'bad-chunked':
      sock.end(head(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' }) +
        chunk('{"id":"chatcmpl-f",') + 'ZZ-not-a-size\r\n{"x":1}\r\n');
      return false;
    case 'invalid-json': {
      const body = '{"id":"chatcmpl-f","choices":[{"message":{"content":"Hello"}},]';
      sock.write(head(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }) + body);
      return true;
    }
    case 'sse-bad-chunked':
      sock.end(head(200, sse) + chunk(event('Hello')) + 'ZZ-not-a-size\r\n');
      return false;
    case 'sse-cut-mid-event': {
      const next = event(' world');
      sock.write(head(200, sse) + chunk(event('Hello')) + chunk(next.slice(0, Math.floor(next.length / 2))), () =>
        sock.destroy());
      return false;
    }
    default:
      json(sock, 400, { error: { message: `unknown x-fault '${fault}'`, type: 'invalid_request_error', param: null, code: 'fault' } });
      return true;
  }
}

function answer(sock, req) {
  if (req.method === 'GET' && req.path === '/health') return json(sock, 200, { status: 'ok' }), true;
  if (req.method === 'GET' && req.path === '/v1/models') {
    return json(sock, 200, { object: 'list', data: MODELS.map((id) => ({ id, object: 'model', created: 0, owned_by: NAME })) }), true;
  }
  if (req.method === 'GET' && req.path === '/_stats') return json(sock, 200, stats), true;
  if (req.method === 'POST' && req.path === '/_control') {
    let obj = {};
    try {
      obj = JSON.parse(req.body || '{}');
    } catch {
      return json(sock, 400, { error: { message: 'control body is not JSON', type: 'invalid_request_error', param: null, code: 'bad_control' } }), true;
    }
    if (obj.silent) silent = true;
    return json(sock, 200, { ok: true }), true;
  }
  if (req.method === 'POST' && req.path.startsWith('/v1/')) {
    const fault = req.headers['x-fault'] ?? args.fault;
    stats.requests += 1;
    stats.by_fault[fault] = (stats.by_fault[fault] ?? 0) + 1;
    return misbehave(sock, fault);
  }
  return json(sock, 404, { error: { message: `no route for ${req.method} ${req.path}`, type: 'invalid_request_error', param: null, code: 'not_found' } }), true;
}

// Parses one request off the front of `buf` (a latin1 string); null while incomplete.
function parseRequest(buf) {
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0) return null;
  const [line, ...lines] = buf.slice(0, end).split('\r\n');
  const [method, target] = line.split(' ');
  const headers = {};
  for (const l of lines) {
    const c = l.indexOf(':');
    if (c > 0) headers[l.slice(0, c).trim().toLowerCase()] = l.slice(c + 1).trim();
  }
  const length = Number(headers['content-length'] ?? 0);
  if (buf.length < end + 4 + length) return null;
  return {
    req: { method, path: (target ?? '').split('?')[0], headers, body: Buffer.from(buf.slice(end + 4, end + 4 + length), 'latin1').toString('utf8') },
    rest: buf.slice(end + 4 + length),
  };
}

const server = net.createServer({ noDelay: true }, (sock) => {
  sockets.add(sock);
  stats.open_connections += 1;
  sock.on('close', () => {
    sockets.delete(sock);
    stats.open_connections -= 1;
  });
  sock.on('error', () => {});
  let buf = '';
  sock.on('data', (d) => {
    if (silent) return; // read and drop: the peer sees an open connection that never answers
    buf += d.toString('latin1');
    for (;;) {
      const got = parseRequest(buf);
      if (!got) return;
      buf = got.rest;
      if (!answer(sock, got.req)) return;
      if (silent) return;
    }
  });
});

function shutdown() {
  for (const s of sockets) s.destroy();
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 1000).unref();
}
stopOnSignals(args, shutdown);
listenAndAnnounce(server, args, { models: MODELS });
