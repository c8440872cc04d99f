// Helpers shared by the integration tests: start real processes (laneway, fake upstreams) on
// ephemeral loopback ports, wait on what they print or on readiness endpoints (bounded, never a
// bare sleep), talk HTTP/SSE to them, read Prometheus metrics, and kill everything at the end.
import { spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const TEST_DIR = path.dirname(fileURLToPath(import.meta.url));
export const SOURCE_DIR = process.env.LANEWAY_SOURCE_DIR
  ? path.resolve(process.env.LANEWAY_SOURCE_DIR)
  : path.resolve(TEST_DIR, '..', '..');
export const LANEWAY_BIN = process.env.LANEWAY_BIN
  ? path.resolve(process.env.LANEWAY_BIN)
  : path.resolve(TEST_DIR, '..', '..', 'build', 'tools', 'cli', 'laneway');
export const FAKE_UPSTREAM = path.join(TEST_DIR, 'fake_upstream.mjs');

// ---- waiting ---------------------------------------------------------------------------------

// Polls fn (sync or async) until it returns a truthy value, which is returned. Throws after
// timeoutMs with `what` and the last value (or error) seen.
export async function waitFor(fn, timeoutMs = 5000, what = 'condition', intervalMs = 20) {
  const deadline = Date.now() + timeoutMs;
  let last;
  let lastErr;
  for (;;) {
    try {
      last = await fn();
      lastErr = undefined;
      if (last) return last;
    } catch (e) {
      lastErr = e;
    }
    if (Date.now() >= deadline) {
      const detail = lastErr ? `last error: ${lastErr.message}` : `last value: ${JSON.stringify(last)}`;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (${detail})`);
    }
    await delay(Math.min(intervalMs, Math.max(1, deadline - Date.now())));
  }
}

// Internal: the pause between two polls of a bounded loop.
function delay(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

// Rejects after ms with a message, for racing a promise against a bound.
export function withTimeout(promise, ms, what = 'operation') {
  let t;
  const timeout = new Promise((_, reject) => {
    t = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(t));
}

// ---- processes -------------------------------------------------------------------------------

const live = new Set();
const tempDirs = new Set();

// A reaper process outlives this one only to kill what we started if we die without cleaning up
// (SIGKILL from a test timeout): it reads "+PID"/"-PID" lines and, when its stdin closes, sends
// SIGKILL to every PID still listed. fake_upstream.mjs also exits when its stdin closes.
const REAPER_SOURCE = `
const pids = new Set();
let buf = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (d) => {
  buf += d;
  let i;
  while ((i = buf.indexOf('\\n')) >= 0) {
    const line = buf.slice(0, i);
    buf = buf.slice(i + 1);
    const pid = Number(line.slice(1));
    if (line[0] === '+') pids.add(pid);
    else pids.delete(pid);
  }
});
process.stdin.on('end', () => {
  for (const pid of pids) { try { process.kill(pid, 'SIGKILL'); } catch {} }
  process.exit(0);
});
`;
let reaper = null;
function reap(sign, pid) {
  if (!pid) return;
  if (!reaper) {
    reaper = spawn(process.execPath, ['-e', REAPER_SOURCE], { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
    reaper.on('error', () => {});
    reaper.stdin.on('error', () => {});
    reaper.unref();
    reaper.stdin.unref?.();
  }
  reaper.stdin.write(`${sign}${pid}\n`);
}

function killAllSync() {
  for (const p of live) {
    try {
      p.child.kill('SIGKILL');
    } catch {
      /* already gone */
    }
  }
  live.clear();
  for (const d of tempDirs) {
    try {
      fs.rmSync(d, { recursive: true, force: true });
    } catch {
      /* best effort */
    }
  }
  tempDirs.clear();
}
process.on('exit', killAllSync);
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, () => {
    killAllSync();
    process.exit(130);
  });
}

// Stops every process started through this module (SIGTERM, then SIGKILL after a bound).
// Call it from `after()` in every test file.
export async function cleanupAll() {
  const procs = [...live];
  await Promise.all(procs.map((p) => p.stop('SIGTERM', 3000)));
  killAllSync();
}

export function makeTempDir(prefix = 'laneway-it-') {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.add(d);
  return d;
}

// A spawned process with its output split into lines.
export class Proc extends EventEmitter {
  constructor(cmd, args, opts = {}) {
    super();
    this.cmd = cmd;
    this.args = args;
    this.label = opts.label ?? path.basename(cmd);
    this.stdoutLines = [];
    this.stderrLines = [];
    this.lines = []; // {stream, line}
    this.exitCode = null;
    this.signal = null;
    this.exited = false;
    this.child = spawn(cmd, args, {
      cwd: opts.cwd ?? TEST_DIR,
      env: { ...process.env, ...(opts.env ?? {}) },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    live.add(this);
    reap('+', this.child.pid);
    this.exitPromise = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => {
        this.exitCode = code;
        this.signal = signal;
        this.exited = true;
        reap('-', this.child.pid);
      });
      // 'close' fires after the output streams are drained, so every line is in by then.
      this.child.on('close', () => {
        this.exited = true;
        live.delete(this);
        this.emit('exit', { code: this.exitCode, signal: this.signal });
        resolve({ code: this.exitCode, signal: this.signal });
      });
      this.child.on('error', (err) => {
        this.spawnError = err;
        this.exited = true;
        live.delete(this);
        this.emit('exit', { code: null, signal: null, error: err });
        resolve({ code: null, signal: null, error: err });
      });
    });
    this.#split(this.child.stdout, 'stdout', this.stdoutLines);
    this.#split(this.child.stderr, 'stderr', this.stderrLines);
    this.child.stdin.on('error', () => {});
  }

  #split(stream, name, sink) {
    let buf = '';
    stream.setEncoding('utf8');
    stream.on('data', (d) => {
      buf += d;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i).replace(/\r$/, '');
        buf = buf.slice(i + 1);
        this.#line(name, line, sink);
      }
    });
    stream.on('end', () => {
      if (buf.length) this.#line(name, buf, sink);
      buf = '';
    });
  }

  #line(stream, line, sink) {
    sink.push(line);
    this.lines.push({ stream, line });
    if (process.env.LANEWAY_IT_VERBOSE) process.stderr.write(`[${this.label} ${stream}] ${line}\n`);
    this.emit('line', { stream, line });
  }

  // The last lines of output, for error messages.
  tail(n = 40) {
    return this.lines
      .slice(-n)
      .map((l) => `  [${l.stream}] ${l.line}`)
      .join('\n');
  }

  // Resolves with the first line (from `stream`: 'stdout', 'stderr' or 'any') for which
  // predicate(line) is truthy — lines already printed count. Rejects on timeout or exit.
  waitForLine(predicate, timeoutMs = 5000, stream = 'any') {
    const matches = (l) => (stream === 'any' || l.stream === stream) && safe(() => predicate(l.line));
    const found = this.lines.find(matches);
    if (found) return Promise.resolve(found.line);
    return new Promise((resolve, reject) => {
      const cleanup = () => {
        clearTimeout(timer);
        this.off('line', onLine);
        this.off('exit', onExit);
      };
      const onLine = (l) => {
        if (matches(l)) {
          cleanup();
          resolve(l.line);
        }
      };
      const onExit = (e) => {
        cleanup();
        reject(
          new Error(
            `${this.label} exited (code ${e.code}, signal ${e.signal}${e.error ? `, ${e.error.message}` : ''}) ` +
              `before the awaited line; output:\n${this.tail()}`,
          ),
        );
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`${this.label}: no matching line within ${timeoutMs} ms; output:\n${this.tail()}`));
      }, timeoutMs);
      this.on('line', onLine);
      if (this.exited) onExit({ code: this.exitCode, signal: this.signal, error: this.spawnError });
      else this.on('exit', onExit);
    });
  }

  // Waits for exit (bounded); rejects on timeout.
  async waitExit(timeoutMs = 5000) {
    return withTimeout(this.exitPromise, timeoutMs, `${this.label} to exit; output:\n${this.tail()}`);
  }

  kill(signal = 'SIGTERM') {
    if (!this.exited) {
      try {
        this.child.kill(signal);
      } catch {
        /* gone */
      }
    }
  }

  // Sends `signal`, waits up to graceMs, then SIGKILL. Resolves with {code, signal}.
  async stop(signal = 'SIGTERM', graceMs = 5000) {
    if (this.exited) return this.exitPromise;
    this.kill(signal);
    try {
      return await withTimeout(this.exitPromise, graceMs, `${this.label} to stop`);
    } catch {
      this.kill('SIGKILL');
      return withTimeout(this.exitPromise, 5000, `${this.label} to die after SIGKILL`);
    }
  }
}

function safe(fn) {
  try {
    return fn();
  } catch {
    return false;
  }
}

export function parseJsonLine(line) {
  const s = line.trim();
  if (!s.startsWith('{')) return null;
  try {
    return JSON.parse(s);
  } catch {
    return null;
  }
}

// Runs a command to completion (bounded). Resolves {code, signal, stdout, stderr}.
export async function runCommand(cmd, args, { timeoutMs = 10000, env, cwd } = {}) {
  const p = new Proc(cmd, args, { env, cwd, label: path.basename(cmd) });
  p.child.stdin.end();
  let r;
  try {
    r = await p.waitExit(timeoutMs);
  } catch {
    r = await p.stop('SIGKILL', 5000);
    r = { ...r, signal: r.signal ?? 'timeout' };
  }
  return {
    code: r.code,
    signal: r.signal,
    stdout: p.stdoutLines.join('\n'),
    stderr: p.stderrLines.join('\n'),
  };
}

// Runs `laneway ARGS...`.
export function runLaneway(args, opts) {
  return runCommand(LANEWAY_BIN, args, opts);
}

// ---- fake upstream ---------------------------------------------------------------------------

export const FAULTS_NODE = path.join(TEST_DIR, 'faults_node.mjs');

// Starts fake_upstream.mjs (or `script`, another node that takes the same options and prints the
// same `listening` line, such as FAULTS_NODE). opts: {name, models: [..], behavior, host, kind,
// args: [more options], script, label}.
export async function startUpstream(opts = {}) {
  const name = opts.name ?? 'fake';
  const args = [opts.script ?? FAKE_UPSTREAM, '--port', '0', '--host', opts.host ?? '127.0.0.1', '--name', name, '--exit-on-stdin-close'];
  if (opts.models) args.push('--models', [].concat(opts.models).join(','));
  if (opts.behavior) args.push('--behavior', opts.behavior);
  if (opts.kind) args.push('--kind', opts.kind);
  if (opts.args) args.push(...opts.args);
  const proc = new Proc(process.execPath, args, { label: opts.label ?? `upstream:${name}` });
  const line = await proc.waitForLine((l) => parseJsonLine(l)?.event === 'listening', 10000, 'stdout');
  const info = parseJsonLine(line);
  const url = `http://127.0.0.1:${info.port}`;
  return {
    name,
    port: info.port,
    url,
    proc,
    async stats() {
      return (await request(`${url}/_stats`)).json;
    },
    async control(obj) {
      const r = await request(`${url}/_control`, { method: 'POST', json: obj });
      if (r.status !== 200) throw new Error(`control ${JSON.stringify(obj)} → ${r.status} ${r.text}`);
      return r.json;
    },
    // Waits until `n` requests are held (hold-after-first) on this upstream.
    async waitHeld(n = 1, timeoutMs = 5000) {
      return waitFor(async () => (await this.stats()).held >= n, timeoutMs, `${name}: ${n} held request(s)`);
    },
    stop(signal = 'SIGTERM') {
      return proc.stop(signal, 3000);
    },
  };
}

// ---- gateway ---------------------------------------------------------------------------------

function tomlValue(v) {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `[${v.map(tomlValue).join(', ')}]`;
  throw new Error(`unsupported TOML value ${JSON.stringify(v)}`);
}

function tomlTable(name, obj) {
  const lines = [`[${name}]`];
  for (const [k, v] of Object.entries(obj)) if (v !== undefined) lines.push(`${k} = ${tomlValue(v)}`);
  return lines.join('\n');
}

// Defaults that keep the tests fast: quick probes, short timeouts. Every key is part of the
// documented config; tests override per section.
export const FAST_DEFAULTS = {
  server: { listen: '127.0.0.1:0', io_threads: 2 },
  upstream: { connect_timeout: '1s', retries: 1 },
  // health.timeout may not exceed health.interval; generous enough for a loaded CI machine.
  health: {
    interval: '250ms',
    timeout: '250ms',
    unhealthy_threshold: 3,
    healthy_threshold: 1,
    circuit_failures: 3,
    circuit_cooldown: '10s',
    models_refresh: '200ms',
  },
  routing: {},
  log: { level: 'info' },
};

// Builds a gateway TOML config. nodes: [{name, url, kind, models, health_path}] (upstream
// objects from startUpstream() fit: they carry name and url). Section overrides are merged over FAST_DEFAULTS; pass
// `raw` to append arbitrary TOML.
export function gatewayConfig({ nodes = [], server = {}, upstream = {}, health = {}, routing = {}, log = {}, raw = '' } = {}) {
  const parts = [];
  const sections = { server, upstream, health, routing, log };
  for (const [name, over] of Object.entries(sections)) {
    const merged = { ...FAST_DEFAULTS[name], ...over };
    if (Object.keys(merged).length) parts.push(tomlTable(name, merged));
  }
  for (const n of nodes) {
    const node = { name: n.name, url: n.url, kind: n.kind ?? 'openai' };
    if (n.models) node.models = [].concat(n.models);
    if (n.health_path) node.health_path = n.health_path;
    parts.push(tomlTable('[nodes]', node));
  }
  if (raw) parts.push(raw);
  return parts.join('\n\n') + '\n';
}

export function writeTempFile(name, content) {
  const dir = makeTempDir();
  const file = path.join(dir, name);
  fs.writeFileSync(file, content);
  return file;
}

// Starts `laneway gateway -c FILE` (config: TOML string) or `laneway gateway ARGS` (config
// null). Waits for the `listening` log line, then (unless waitReady is false) for GET /ready
// to answer 200.
export async function startGateway({ config = null, args = [], waitReady = true, env = {}, readyTimeoutMs = 10000 } = {}) {
  const argv = ['gateway'];
  let configFile = null;
  if (config !== null) {
    configFile = writeTempFile('gateway.toml', config);
    argv.push('-c', configFile);
  }
  argv.push(...args);
  const proc = new Proc(LANEWAY_BIN, argv, { label: 'laneway', env });
  const line = await proc.waitForLine((l) => parseJsonLine(l)?.msg === 'listening', 10000, 'stderr');
  const address = parseJsonLine(line).address;
  const m = /:(\d+)$/.exec(String(address));
  if (!m) throw new Error(`cannot read a port from listening address ${address}`);
  const port = Number(m[1]);
  const url = `http://127.0.0.1:${port}`;
  const gw = {
    port,
    url,
    proc,
    configFile,
    get logs() {
      return proc.stderrLines.map(parseJsonLine).filter(Boolean);
    },
    accessLogs() {
      return this.logs.filter((l) => l.msg === 'request');
    },
    async waitForLog(predicate, timeoutMs = 5000) {
      const line = await proc.waitForLine((l) => {
        const j = parseJsonLine(l);
        return j && predicate(j);
      }, timeoutMs, 'stderr');
      return parseJsonLine(line);
    },
    async metrics() {
      const r = await request(`${url}/metrics`);
      if (r.status !== 200) throw new Error(`/metrics → ${r.status}`);
      return r.text;
    },
    async samples(name) {
      return parsePrometheus(await this.metrics()).filter((s) => s.name === name);
    },
    // Sum of the samples of `name` whose labels include `labels`; 0 when none match.
    async metric(name, labels = {}) {
      return sumMetric(parsePrometheus(await this.metrics()), name, labels);
    },
    async ready() {
      return (await request(`${url}/ready`)).status;
    },
    // Waits until laneway_node_healthy{node} equals `value` for every name given.
    async waitHealthy(names, value = 1, timeoutMs = 10000) {
      const list = [].concat(names);
      return waitFor(
        async () => {
          const samples = parsePrometheus(await this.metrics());
          return list.every((n) => samples.some((s) => s.name === 'laneway_node_healthy' && s.labels.node === n && s.value === value));
        },
        timeoutMs,
        `laneway_node_healthy == ${value} for ${list.join(', ')}`,
        50,
      );
    },
    stop(signal = 'SIGTERM', graceMs = 10000) {
      return proc.stop(signal, graceMs);
    },
  };
  if (waitReady) {
    await waitFor(
      async () => (await request(`${url}/ready`, { timeoutMs: 2000 })).status === 200,
      readyTimeoutMs,
      `laneway /ready to answer 200; output:\n${proc.tail()}`,
      50,
    );
  }
  return gw;
}

// Starts one fake upstream per entry of `nodes` ({name, models, behavior, nodeModels}: the
// last is written into the node's `models` key), then a gateway over them with the given
// config sections, and waits until every node is healthy. Returns {gw, up: {name: upstream}}.
// Unless waitModels is false, it also waits until GET /v1/models lists every node's models.
export async function startCluster({ nodes = [{ name: 'a' }], waitAllHealthy = true, waitModels = true, ...sections } = {}) {
  const ups = await Promise.all(nodes.map((n) => startUpstream(n)));
  const up = {};
  ups.forEach((u, i) => {
    up[nodes[i].name] = u;
  });
  const config = gatewayConfig({
    nodes: ups.map((u, i) => ({ name: u.name, url: u.url, models: nodes[i].nodeModels, health_path: nodes[i].health_path })),
    ...sections,
  });
  const gw = await startGateway({ config });
  if (waitAllHealthy) await gw.waitHealthy(ups.map((u) => u.name));
  if (waitAllHealthy && waitModels) {
    await waitModelsListed(gw, [...new Set(nodes.flatMap((n) => [].concat(n.nodeModels ?? n.models ?? ['fake-model'])))]);
  }
  return { gw, up, ups };
}

// Waits until the gateway's GET /v1/models lists every id in `models`.
export async function waitModelsListed(gw, models, timeoutMs = 10000) {
  const want = [].concat(models);
  await waitFor(
    async () => {
      const r = await request(`${gw.url}/v1/models`, { timeoutMs: 2000 });
      const ids = r.status === 200 && Array.isArray(r.json?.data) ? r.json.data.map((m) => m.id) : [];
      return want.every((m) => ids.includes(m));
    },
    timeoutMs,
    `GET /v1/models to list ${want.join(', ')}`,
    50,
  );
}

// A gateway over `nodes` ({name, url, kind}; workers from startWorkers() fit), started by
// `start(nodes)` (default: startGateway with gatewayConfig of the nodes and `sections`), once
// every node is healthy and GET /v1/models lists `model` (the bundled one by default).
export async function startGatewayOver(nodes, { model = 'stories260K', start, healthyTimeoutMs = 10000, ...sections } = {}) {
  const gw = start ? await start(nodes) : await startGateway({ config: gatewayConfig({ nodes, ...sections }) });
  await gw.waitHealthy(nodes.map((n) => n.name), 1, healthyTimeoutMs);
  await waitModelsListed(gw, [model]);
  return gw;
}

// ---- worker ----------------------------------------------------------------------------------

// `n` workers on the bundled model (startWorker with `args`, a small KV pool by default), in
// parallel. Each is also a gateway node: name (`names[i]`, default w0, w1, ...), url, kind laneway.
export async function startWorkers(n, { args = ['--kv-memory', '32MiB'], names = [] } = {}) {
  return Promise.all(Array.from({ length: n }, async (_, i) => {
    const w = await startWorker({ label: `worker-${i}`, args });
    return Object.assign(w, { name: names[i] ?? `w${i}`, kind: 'laneway' });
  }));
}

// Starts `laneway worker --port 0 ARGS...` (the bundled model unless args give -m), waits for
// its `listening` line and GET /health == 200. Returns {port, url, proc, logs, load(), metric()}.
// `port` (default 0: a free one) restarts a worker where an earlier one listened.
export async function startWorker({ args = [], env = {}, label = 'worker', readyTimeoutMs = 20000, port: want = 0 } = {}) {
  const proc = new Proc(LANEWAY_BIN, ['worker', '--port', String(want), '--threads', '1', ...args], { label, env });
  const line = await proc.waitForLine((l) => parseJsonLine(l)?.msg === 'listening', readyTimeoutMs, 'stderr');
  const m = /:(\d+)$/.exec(String(parseJsonLine(line).address));
  if (!m) throw new Error(`cannot read a port from ${line}`);
  const port = Number(m[1]);
  const url = `http://127.0.0.1:${port}`;
  await waitFor(async () => (await request(`${url}/health`, { timeoutMs: 2000 })).status === 200, readyTimeoutMs,
    `${label} /health; output:\n${proc.tail()}`, 50);
  return {
    port,
    url,
    proc,
    get logs() {
      return proc.stderrLines.map(parseJsonLine).filter(Boolean);
    },
    async load() {
      const r = await request(`${url}/load`);
      if (r.status !== 200) throw new Error(`/load → ${r.status}`);
      return r.json;
    },
    async metrics() {
      return (await request(`${url}/metrics`)).text;
    },
    async metric(name, labels = {}) {
      return sumMetric(parsePrometheus(await this.metrics()), name, labels);
    },
    stop(signal = 'SIGTERM', graceMs = 10000) {
      return proc.stop(signal, graceMs);
    },
  };
}

// ---- metrics ---------------------------------------------------------------------------------

// Parses Prometheus text exposition into [{name, labels, value}].
export function parsePrometheus(text) {
  const out = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+-?\d+)?$/.exec(line);
    if (!m) continue;
    const labels = {};
    if (m[2]) {
      const re = /([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*,?/g;
      let lm;
      while ((lm = re.exec(m[2]))) labels[lm[1]] = lm[2].replace(/\\n/g, '\n').replace(/\\(["\\])/g, '$1');
    }
    const v = m[3] === '+Inf' ? Infinity : m[3] === '-Inf' ? -Infinity : Number(m[3]);
    out.push({ name: m[1], labels, value: v });
  }
  return out;
}

export function sumMetric(samples, name, labels = {}) {
  let sum = 0;
  for (const s of samples) {
    if (s.name !== name) continue;
    if (Object.entries(labels).every(([k, v]) => s.labels[k] === String(v))) sum += s.value;
  }
  return sum;
}

// ---- HTTP ------------------------------------------------------------------------------------

// One HTTP request on a fresh connection. opts: {method, headers, body (string|Buffer),
// json (object → body), timeoutMs}. Resolves {status, headers, text, json}; `json` is
// undefined when the body is not JSON.
// Pass `agent` (an http.Agent with keepAlive) to send several requests on one connection.
export function request(url, { method, headers = {}, body, json, timeoutMs = 10000, agent = false } = {}) {
  const u = new URL(url);
  let payload = body;
  const hdrs = { ...headers };
  if (json !== undefined) {
    payload = JSON.stringify(json);
    if (!Object.keys(hdrs).some((k) => k.toLowerCase() === 'content-type')) hdrs['content-type'] = 'application/json';
  }
  if (payload !== undefined && !Object.keys(hdrs).some((k) => k.toLowerCase() === 'content-length')) {
    hdrs['content-length'] = Buffer.byteLength(payload);
  }
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (fn, v) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      fn(v);
    };
    const req = http.request(
      {
        host: u.hostname,
        port: u.port,
        path: u.pathname + u.search,
        method: method ?? (payload !== undefined ? 'POST' : 'GET'),
        headers: hdrs,
        agent,
      },
      (res) => {
        const parts = [];
        const partial = () => Buffer.concat(parts).toString('utf8');
        res.on('data', (c) => parts.push(c));
        res.on('end', () => {
          const text = partial();
          let parsed;
          try {
            parsed = JSON.parse(text);
          } catch {
            parsed = undefined;
          }
          settle(resolve, { status: res.statusCode, headers: res.headers, text, json: parsed });
        });
        const cut = (e) =>
          settle(
            reject,
            Object.assign(new Error(`response from ${url} cut short: ${e?.message ?? 'closed'}`), {
              code: e?.code ?? 'ECONNRESET',
              status: res.statusCode,
              partial: partial(),
            }),
          );
        res.on('error', cut);
        res.on('aborted', () => cut(new Error('aborted')));
        res.on('close', () => {
          if (!res.complete) cut(new Error('connection closed before the end of the body'));
        });
      },
    );
    const timer = setTimeout(() => {
      req.destroy(new Error(`request ${method ?? ''} ${url} timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    req.on('error', (e) => settle(reject, e));
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

// Parses complete SSE events out of `buffer`; returns {events, rest}. Each event:
// {event (default 'message'), data (joined data lines), raw}.
export function parseSse(buffer) {
  const events = [];
  let rest = buffer.replace(/\r\n/g, '\n');
  let i;
  while ((i = rest.indexOf('\n\n')) >= 0) {
    const raw = rest.slice(0, i);
    rest = rest.slice(i + 2);
    let event = 'message';
    const data = [];
    let any = false;
    for (const line of raw.split('\n')) {
      if (line.startsWith(':')) continue;
      const c = line.indexOf(':');
      const field = c < 0 ? line : line.slice(0, c);
      let value = c < 0 ? '' : line.slice(c + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'event') {
        event = value;
        any = true;
      } else if (field === 'data') {
        data.push(value);
        any = true;
      }
    }
    if (any) events.push({ event, data: data.join('\n'), raw });
  }
  return { events, rest };
}

// Opens a streaming request and exposes its SSE events as they arrive.
//   const s = await openStream(url, {json, headers});   // resolves once the head is in
//   s.status, s.headers; await s.nextEvent(ms); s.events; await s.end(ms); s.close()
export function openStream(url, { method = 'POST', headers = {}, json, body, timeoutMs = 10000 } = {}) {
  const u = new URL(url);
  const payload = json !== undefined ? JSON.stringify(json) : body;
  const hdrs = { accept: 'text/event-stream', ...headers };
  if (json !== undefined) hdrs['content-type'] = 'application/json';
  if (payload !== undefined) hdrs['content-length'] = Buffer.byteLength(payload);
  const emitter = new EventEmitter();
  const s = {
    status: 0,
    headers: {},
    events: [], // every event parsed so far
    chunks: [], // raw chunks as received: {at, text}
    text: '',
    ended: false, // response body finished cleanly
    error: null, // the connection failed (reset, truncated chunked body, ...)
    consumed: 0,
    req: null,
    res: null,
    // The next event not yet returned by nextEvent.
    nextEvent(ms = 5000) {
      if (s.consumed < s.events.length) return Promise.resolve(s.events[s.consumed++]);
      if (s.ended || s.error) return Promise.resolve(null);
      return withTimeout(
        new Promise((resolve) => {
          const on = () => {
            if (s.consumed < s.events.length) {
              emitter.off('change', on);
              resolve(s.events[s.consumed++]);
            } else if (s.ended || s.error) {
              emitter.off('change', on);
              resolve(null);
            }
          };
          emitter.on('change', on);
        }),
        ms,
        `next SSE event from ${url} (got ${s.events.length} so far)`,
      );
    },
    // Waits for the body to finish (cleanly or not). Resolves {ended, error}.
    end(ms = 10000) {
      if (s.ended || s.error) return Promise.resolve({ ended: s.ended, error: s.error });
      return withTimeout(
        new Promise((resolve) => {
          const on = () => {
            if (s.ended || s.error) {
              emitter.off('change', on);
              resolve({ ended: s.ended, error: s.error });
            }
          };
          emitter.on('change', on);
        }),
        ms,
        `end of stream from ${url}`,
      );
    },
    // Drops the connection (a client disconnect).
    close() {
      if (s.res) s.res.destroy();
      if (s.req) s.req.destroy();
    },
  };
  let buf = '';
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: u.hostname, port: u.port, path: u.pathname + u.search, method, headers: hdrs, agent: false },
      (res) => {
        clearTimeout(headTimer);
        s.res = res;
        s.status = res.statusCode;
        s.headers = res.headers;
        res.setEncoding('utf8');
        res.on('data', (d) => {
          s.chunks.push({ at: Date.now(), text: d });
          s.text += d;
          buf += d;
          const { events, rest } = parseSse(buf);
          buf = rest;
          s.events.push(...events);
          emitter.emit('change');
        });
        res.on('end', () => {
          s.ended = true;
          emitter.emit('change');
        });
        res.on('aborted', () => {
          s.error = s.error ?? new Error('response aborted');
          emitter.emit('change');
        });
        res.on('error', (e) => {
          s.error = s.error ?? e;
          emitter.emit('change');
        });
        res.on('close', () => {
          if (!s.ended && !s.error) s.error = new Error('connection closed before the end of the body');
          emitter.emit('change');
        });
        resolve(s);
      },
    );
    s.req = req;
    const headTimer = setTimeout(() => req.destroy(new Error(`no response head from ${url} within ${timeoutMs} ms`)), timeoutMs);
    req.on('error', (e) => {
      clearTimeout(headTimer);
      if (!s.res) reject(e);
      else {
        s.error = s.error ?? e;
        emitter.emit('change');
      }
    });
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

// Sends raw bytes on a new TCP connection and collects what comes back until the peer closes
// or `timeoutMs` passes (then the socket is closed). Resolves {text, status, closed}.
export function rawRequest(port, data, { timeoutMs = 5000, host = '127.0.0.1', endAfterWrite = false } = {}) {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ port, host });
    const parts = [];
    let done = false;
    const finish = (closed) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      const text = Buffer.concat(parts).toString('utf8');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      resolve({ text, status: m ? Number(m[1]) : 0, closed });
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    sock.on('connect', () => {
      sock.write(data);
      if (endAfterWrite) sock.end();
    });
    sock.on('data', (d) => parts.push(d));
    sock.on('end', () => finish(true));
    sock.on('close', () => finish(true));
    sock.on('error', (e) => {
      if (parts.length) finish(true);
      else if (!done) {
        done = true;
        clearTimeout(timer);
        reject(e);
      }
    });
  });
}

// Parses the first HTTP response in `text` (as rawRequest returns it) into
// {status, headers (lower-case names), text, json}; handles Content-Length and chunked bodies.
export function parseRawResponse(text) {
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) return { status: 0, headers: {}, text: '', json: undefined };
  const [statusLine, ...lines] = text.slice(0, end).split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine);
  const headers = {};
  for (const l of lines) {
    const c = l.indexOf(':');
    if (c > 0) headers[l.slice(0, c).trim().toLowerCase()] = l.slice(c + 1).trim();
  }
  let body = text.slice(end + 4);
  if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
    let out = '';
    let rest = body;
    for (;;) {
      const nl = rest.indexOf('\r\n');
      if (nl < 0) break;
      const size = Number.parseInt(rest.slice(0, nl), 16);
      if (!Number.isFinite(size) || size === 0) break;
      out += rest.slice(nl + 2, nl + 2 + size);
      rest = rest.slice(nl + 2 + size + 2);
    }
    body = out;
  } else if (headers['content-length'] !== undefined) {
    body = Buffer.from(body).subarray(0, Number(headers['content-length'])).toString('utf8');
  }
  let json;
  try {
    json = JSON.parse(body);
  } catch {
    json = undefined;
  }
  return { status: m ? Number(m[1]) : 0, headers, text: body, json };
}

// The body of an OpenAI error response, checked for shape. Returns json.error.
export function errorOf(res) {
  const e = res.json && res.json.error;
  if (!e || typeof e !== 'object') throw new Error(`not an OpenAI error body (status ${res.status}): ${res.text}`);
  return e;
}

export function chatBody(model = 'fake-model', extra = {}) {
  return { model, messages: [{ role: 'user', content: 'Say hello' }], ...extra };
}

// Does the laneway binary exist? Tests skip nothing on their own: a missing binary fails them.
export function lanewayExists() {
  return fs.existsSync(LANEWAY_BIN);
}
