// The correctness soak: a gateway in front of two real `laneway worker` processes on the bundled
// model, all on loopback, driven by the mixed trace of trace.mjs at a fixed concurrency for a set
// duration. It checks that no request is lost or duplicated (every id: one client outcome, one
// gateway access log line, at most one worker request, and counters that add up), that no error
// occurs beyond the cancels the trace injects, and that the gateway's RSS and open file
// descriptors stay flat after the warm-up third (least-squares slope and max-minus-min bounds).
// Prints a summary table and writes summary.json and samples.json to --out. Exit 0 when every
// check holds, 1 otherwise, 2 on bad arguments. (`laneway soak` is the load report; this is not.)
//
//   tests/soak/run [--duration 600s] [--concurrency 8] [--cancel-rate 0.05] [--seed 1] [--out DIR]
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  cleanupAll, gatewayConfig, LANEWAY_BIN, parsePrometheus, request, startGateway, startWorker, sumMetric, waitFor,
} from '../integration/harness.mjs';
import { procStats, seriesSummary } from './proc_stats.mjs';
import { rng, sendTraced, traceRequest } from './trace.mjs';

const USAGE = `usage: tests/soak/run [--duration 600s] [--concurrency 8] [--cancel-rate 0.05] [--seed 1] [--out DIR]
        [--rss-growth-max-kib 8192] [--rss-range-max-kib 32768] [--fd-range-max N] [--fd-growth-max 4]`;

function parseDuration(text) {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(String(text).trim());
  if (!m) return null;
  const scale = { ms: 1, s: 1000, m: 60000, h: 3600000 }[m[2] ?? 's'];
  return Number(m[1]) * scale;
}

function fail(msg) {
  process.stderr.write(`soak: ${msg}\n${USAGE}\n`);
  process.exit(2);
}

function options() {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        duration: { type: 'string', default: '600s' },
        concurrency: { type: 'string', default: '8' },
        'cancel-rate': { type: 'string', default: '0.05' },
        seed: { type: 'string', default: '1' },
        out: { type: 'string' },
        'rss-growth-max-kib': { type: 'string', default: '8192' },
        'rss-range-max-kib': { type: 'string', default: '32768' },
        'fd-range-max': { type: 'string' },
        'fd-growth-max': { type: 'string', default: '4' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    }));
  } catch (e) {
    fail(e.message);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const num = (key, lo, hi) => {
    const v = Number(values[key]);
    if (!Number.isFinite(v) || v < lo || v > hi) fail(`--${key} must be a number in [${lo}, ${hi}], got '${values[key]}'`);
    return v;
  };
  const durationMs = parseDuration(values.duration);
  if (durationMs === null || durationMs < 3000) fail(`--duration must be like 600s, 10m or 30000ms and at least 3s, got '${values.duration}'`);
  const concurrency = num('concurrency', 1, 256);
  return {
    durationMs,
    concurrency,
    cancelRate: num('cancel-rate', 0, 1),
    seed: num('seed', 0, 2 ** 32 - 1),
    out: values.out ? path.resolve(values.out) : null,
    rssGrowthMaxKib: num('rss-growth-max-kib', 0, 1e9),
    rssRangeMaxKib: num('rss-range-max-kib', 0, 1e9),
    // Client and pooled upstream connections come and go with the load: up to two per client.
    fdRangeMax: values['fd-range-max'] === undefined ? 2 * concurrency + 8 : num('fd-range-max', 0, 1e6),
    fdGrowthMax: num('fd-growth-max', 0, 1e6),
  };
}

function percentile(sorted, p) {
  if (!sorted.length) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

const INFERENCE_ROUTES = ['chat_completions', 'completions'];

async function inferenceCount(target, name) {
  const samples = parsePrometheus(await target.metrics());
  return INFERENCE_ROUTES.reduce((s, route) => s + sumMetric(samples, name, { route }), 0);
}

// The gateway's open fds, its open upstream connections (opened − closed: idle ones stay pooled,
// one pool per node and I/O thread) and the difference, which only a leak raises. Metrics are
// read on one keep-alive connection (`agent`) so that reading them does not move the count.
async function unpooledFds(gw, pid, agent) {
  const samples = parsePrometheus((await request(`${gw.url}/metrics`, { agent })).text);
  const pooled = sumMetric(samples, 'laneway_upstream_connections_opened_total') - sumMetric(samples, 'laneway_upstream_connections_closed_total');
  const { fds } = procStats(pid);
  return { fds, pooled, unpooled: fds - pooled };
}

async function main() {
  const opt = options();
  if (!fs.existsSync(LANEWAY_BIN)) fail(`no laneway binary at ${LANEWAY_BIN} (set LANEWAY_BIN)`);
  const started = new Date();
  const workers = await Promise.all([0, 1].map((i) => startWorker({ label: `worker-${i}`, args: ['--kv-memory', '64MiB'] })));
  const gw = await startGateway({
    config: gatewayConfig({
      nodes: workers.map((w, i) => ({ name: `w${i}`, url: w.url, kind: 'laneway' })),
      upstream: { retries: 1, response_timeout: '30s' },
      health: { interval: '1s', timeout: '1s' },
    }),
  });
  await gw.waitHealthy(['w0', 'w1'], 1, 20000);
  await waitFor(async () => (await request(`${gw.url}/v1/models`)).json?.data?.some((m) => m.id === 'stories260K'), 20000, 'the model listed');
  const pid = gw.proc.child.pid;
  const workerBefore = await Promise.all(workers.map((w) => inferenceCount(w, 'laneway_worker_http_requests_total')));
  const gatewayBefore = await inferenceCount(gw, 'laneway_requests_total');
  const retriesBefore = await gw.metric('laneway_upstream_retries_total');
  const scrape = new http.Agent({ keepAlive: true, maxSockets: 1 });

  // Samples every second: gateway RSS and fds.
  const samples = [];
  const t0 = Date.now();
  let sampling = false;
  const sample = async () => {
    if (sampling) return;
    sampling = true;
    try {
      const u = await unpooledFds(gw, pid, scrape);
      const s = procStats(pid);
      samples.push({ t: Date.now() - t0, rss_kib: s.rss_kib, fds: u.fds, pooled: u.pooled, unpooled: u.unpooled });
    } catch {
      /* the gateway died: the checks below say so */
    } finally {
      sampling = false;
    }
  };
  await sample();
  const sampler = setInterval(sample, 1000);

  // The load: `concurrency` clients, each sending the next request of the trace when its last ended.
  const random = rng(opt.seed);
  const results = [];
  const sent = [];
  const deadline = t0 + opt.durationMs;
  let progressAt = t0;
  const clients = [];
  for (let c = 0; c < opt.concurrency; c++) {
    clients.push((async () => {
      while (Date.now() < deadline) {
        const spec = traceRequest(random, sent.length, { cancelRate: opt.cancelRate });
        sent.push(spec);
        const r = await sendTraced(gw.url, spec, { timeoutMs: 60000 });
        r.cancel = Boolean(spec.cancel);
        results.push(r);
        if (Date.now() - progressAt >= 30000) {
          progressAt = Date.now();
          const errs = results.filter((x) => x.outcome === 'error').length;
          process.stderr.write(`soak: ${Math.round((progressAt - t0) / 1000)} s, ${results.length} requests, ${errs} errors\n`);
        }
      }
    })());
  }
  await Promise.all(clients);
  const loadEndedAt = Date.now();
  // Quiet: the workers finish what was cancelled, the gateway writes its last log lines.
  for (const w of workers) await waitFor(async () => (await w.metric('vllm:num_requests_running')) === 0, 30000, 'workers idle');
  await waitFor(() => {
    const ids = new Set(gw.accessLogs().map((l) => l.request_id));
    return sent.every((s) => ids.has(s.id));
  }, 10000, 'an access log line for every request').catch(() => {});
  clearInterval(sampler);
  await waitFor(() => !sampling, 5000, 'the last sample').catch(() => {});
  await sample();

  // ---- checks ------------------------------------------------------------------------------
  const checks = [];
  const check = (name, ok, detail) => checks.push({ name, ok: Boolean(ok), detail });
  const sentIds = new Set(sent.map((s) => s.id));
  const byId = new Map();
  for (const r of results) byId.set(r.id, (byId.get(r.id) ?? 0) + 1);
  check('one client outcome per request', sent.every((s) => byId.get(s.id) === 1) && results.length === sent.length,
    `${sent.length} sent, ${results.length} outcomes`);

  const access = gw.accessLogs().filter((l) => sentIds.has(l.request_id));
  const accessCount = new Map();
  for (const l of access) accessCount.set(l.request_id, (accessCount.get(l.request_id) ?? 0) + 1);
  const workerLines = workers.flatMap((w) => w.logs.filter((l) => l.msg === 'request' && sentIds.has(l.request_id)));
  const workerCount = new Map();
  for (const l of workerLines) workerCount.set(l.request_id, (workerCount.get(l.request_id) ?? 0) + 1);
  const cancelled = new Set(sent.filter((s) => s.cancel).map((s) => s.id));
  // A plain request the client abandons within a few ms may be gone before the gateway has read
  // all of it: no request then, on either hop. Counted, and allowed for cancelled ids only.
  const unseen = sent.filter((s) => cancelled.has(s.id) && !accessCount.has(s.id) && !workerCount.has(s.id)).map((s) => s.id);
  const accessMissing = sent.filter((s) => !accessCount.has(s.id) && !unseen.includes(s.id)).map((s) => s.id);
  const accessDup = [...accessCount].filter(([, n]) => n > 1).map(([id]) => id);
  check('gateway access log: every id exactly once', !accessMissing.length && !accessDup.length,
    `missing ${accessMissing.slice(0, 5).join(',') || 'none'}, duplicated ${accessDup.slice(0, 5).join(',') || 'none'}, ` +
    `cancelled before the gateway read them ${unseen.length}`);
  const workerBad = sent.filter((s) => {
    const n = workerCount.get(s.id) ?? 0;
    return cancelled.has(s.id) ? n > 1 : n !== 1;
  }).map((s) => `${s.id}×${workerCount.get(s.id) ?? 0}`);
  check('workers: every request once (a cancelled one at most once)', !workerBad.length, workerBad.slice(0, 5).join(', ') || 'ok');

  const workerAfter = await Promise.all(workers.map((w) => inferenceCount(w, 'laneway_worker_http_requests_total')));
  const workerDelta = workerAfter.reduce((s, v, i) => s + v - workerBefore[i], 0);
  const attempts = access.reduce((s, l) => s + (l.attempts ?? 0), 0);
  const retries = (await gw.metric('laneway_upstream_retries_total')) - retriesBefore;
  const gatewayDelta = (await inferenceCount(gw, 'laneway_requests_total')) - gatewayBefore;
  check('worker request counters = requests the workers logged', workerDelta === workerLines.length,
    `counters ${workerDelta}, log lines ${workerLines.length}`);
  check('worker requests = gateway attempts (less cancels that never reached a worker)',
    workerDelta <= attempts && attempts - workerDelta <= cancelled.size, `attempts ${attempts}, worker requests ${workerDelta}, retries ${retries}`);
  check('gateway request counter = access log lines', gatewayDelta === access.length, `counter ${gatewayDelta}, lines ${access.length}`);

  const errors = results.filter((r) => r.outcome === 'error');
  const errorKinds = {};
  for (const r of errors) errorKinds[r.error] = (errorKinds[r.error] ?? 0) + 1;
  check('no errors beyond the injected cancels', errors.length === 0, JSON.stringify(errorKinds));
  const logErrors = access.filter((l) => l.error && !(cancelled.has(l.request_id) && l.error === 'client_disconnect'));
  check('access log: errors only for cancelled requests', !logErrors.length,
    logErrors.slice(0, 5).map((l) => `${l.request_id}: ${l.error}`).join(', ') || 'ok');
  check('gateway alive at the end', !gw.proc.exited && (await request(`${gw.url}/health`)).status === 200, gw.proc.exited ? 'exited' : 'ok');

  const warm = samples.filter((s) => s.t >= (loadEndedAt - t0) / 3);
  const windowS = warm.length > 1 ? (warm.at(-1).t - warm[0].t) / 1000 : 0;
  const rss = seriesSummary(warm.map((s) => ({ t: s.t, v: s.rss_kib })));
  const fds = seriesSummary(warm.map((s) => ({ t: s.t, v: s.fds })));
  // A slope bound expressed as the growth it would give over the measured window.
  const rssSlopeMax = windowS > 0 ? opt.rssGrowthMaxKib / windowS : Infinity;
  const fdSlopeMax = windowS > 0 ? opt.fdGrowthMax / windowS : Infinity;
  check('gateway RSS flat after warm-up: slope', rss.slope_per_s <= rssSlopeMax,
    `${rss.slope_per_s.toFixed(2)} KiB/s (max ${rssSlopeMax.toFixed(2)} over ${windowS.toFixed(0)} s)`);
  check('gateway RSS flat after warm-up: max - min', rss.max - rss.min <= opt.rssRangeMaxKib, `${rss.max - rss.min} KiB (max ${opt.rssRangeMaxKib})`);
  check('gateway fds flat after warm-up: slope', fds.slope_per_s <= fdSlopeMax, `${fds.slope_per_s.toFixed(4)} /s (max ${fdSlopeMax.toFixed(4)})`);
  check('gateway fds flat after warm-up: max - min', fds.max - fds.min <= opt.fdRangeMax, `${fds.max - fds.min} (max ${opt.fdRangeMax})`);
  // Idle, the gateway holds no more fds, less its pooled upstream connections, than at any moment
  // after warm-up (when clients were connected too). Client connections close on the gateway's
  // side once it reads their EOF: give that a moment.
  const floor = Math.min(...warm.map((x) => x.unpooled));
  let unpooledEnd = await unpooledFds(gw, pid, scrape);
  await waitFor(async () => (unpooledEnd = await unpooledFds(gw, pid, scrape)).unpooled <= floor, 10000, 'fds').catch(() => {});
  check('gateway fds idle at the end (less pooled upstream connections) <= the least after warm-up', unpooledEnd.unpooled <= floor,
    `end ${unpooledEnd.fds} with ${unpooledEnd.pooled} pooled, least after warm-up ${floor} unpooled`);

  // ---- report ------------------------------------------------------------------------------
  const ok = results.filter((r) => r.outcome === 'ok');
  const ttft = ok.filter((r) => r.ttft_ms !== null).map((r) => r.ttft_ms).sort((a, b) => a - b);
  const total = ok.map((r) => r.total_ms).sort((a, b) => a - b);
  const summary = {
    started: started.toISOString(),
    duration_s: (loadEndedAt - t0) / 1000,
    concurrency: opt.concurrency,
    seed: opt.seed,
    requests: results.length,
    ok: ok.length,
    cancelled: results.filter((r) => r.outcome === 'cancelled').length,
    cancelled_unseen: unseen.length,
    errors: errors.length,
    error_kinds: errorKinds,
    streamed: results.filter((r) => r.stream).length,
    retries,
    requests_per_s: results.length / ((loadEndedAt - t0) / 1000),
    ttft_ms: { p50: percentile(ttft, 50), p95: percentile(ttft, 95), n: ttft.length },
    latency_ms: { p50: percentile(total, 50), p95: percentile(total, 95) },
    gateway_rss_kib: { start: samples[0]?.rss_kib, end: samples.at(-1)?.rss_kib, after_warmup: rss },
    gateway_fds: { start: samples[0]?.fds, end: samples.at(-1)?.fds, after_warmup: fds, pooled_end: unpooledEnd.pooled, unpooled_end: unpooledEnd.unpooled },
    worker_requests: workerDelta,
    load_average: fs.existsSync('/proc/loadavg') ? fs.readFileSync('/proc/loadavg', 'utf8').trim() : null,
    checks,
    passed: checks.every((c) => c.ok),
  };
  const f = (v, d = 1) => (v === null || v === undefined ? '-' : Number(v).toFixed(d));
  const rows = [
    ['duration', `${f(summary.duration_s)} s at concurrency ${opt.concurrency}`],
    ['requests', `${summary.requests} (${summary.ok} ok, ${summary.cancelled} cancelled, ${summary.errors} errors; ${summary.streamed} streamed)`],
    ['throughput', `${f(summary.requests_per_s)} requests/s`],
    ['TTFT p50 / p95', `${f(summary.ttft_ms.p50)} / ${f(summary.ttft_ms.p95)} ms (${ttft.length} streams)`],
    ['latency p50 / p95', `${f(summary.latency_ms.p50)} / ${f(summary.latency_ms.p95)} ms`],
    ['gateway RSS', `start ${summary.gateway_rss_kib.start} KiB, end ${summary.gateway_rss_kib.end} KiB; after warm-up min ${rss.min} max ${rss.max}, slope ${f(rss.slope_per_s, 2)} KiB/s`],
    ['gateway fds', `start ${summary.gateway_fds.start}, end ${summary.gateway_fds.end} (${unpooledEnd.pooled} pooled upstream); after warm-up min ${fds.min} max ${fds.max}, slope ${f(fds.slope_per_s, 4)} /s`],
    ['worker requests', `${workerDelta} (retries ${retries})`],
  ];
  const width = Math.max(...rows.map((r) => r[0].length)) + 2;
  const lines = ['', 'laneway correctness soak', ...rows.map(([k, v]) => `  ${k.padEnd(width)}${v}`), '', 'checks'];
  for (const c of checks) lines.push(`  ${c.ok ? 'PASS' : 'FAIL'}  ${c.name}: ${c.detail ?? ''}`);
  lines.push('', summary.passed ? 'soak: PASSED' : 'soak: FAILED', '');
  process.stdout.write(lines.join('\n'));
  if (opt.out) {
    fs.mkdirSync(opt.out, { recursive: true });
    fs.writeFileSync(path.join(opt.out, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
    fs.writeFileSync(path.join(opt.out, 'samples.json'), JSON.stringify(samples) + '\n');
    fs.writeFileSync(path.join(opt.out, 'requests.jsonl'), results.map((r) => JSON.stringify(r)).join('\n') + '\n');
    process.stdout.write(`soak: wrote ${opt.out}/summary.json, samples.json, requests.jsonl\n`);
  }
  await cleanupAll();
  return summary.passed ? 0 : 1;
}

main().then((code) => process.exit(code), async (e) => {
  process.stderr.write(`soak: ${e.stack ?? e}\n`);
  await cleanupAll().catch(() => {});
  process.exit(1);
});
