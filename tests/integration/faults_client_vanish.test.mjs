// Clients that vanish mid-request, through the gateway to a real `laneway worker`: the upstream
// request is cancelled (the worker counts it as cancelled and frees its sequence:
// vllm:num_requests_running back to 0), the gateway counts the disconnects, and nothing leaks —
// the gateway's open file descriptors (/proc/PID/fd, less its pooled upstream connections)
// return to their baseline.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import {
  cleanupAll, openStream, parsePrometheus, request, startGatewayOver, startWorkers, sumMetric, waitFor,
} from './harness.mjs';
import { procStats } from '../soak/proc_stats.mjs';

after(async () => {
  await cleanupAll();
});

const MODEL = 'stories260K';
const LONG = { model: MODEL, prompt: 'Once upon a time', max_tokens: 1500, ignore_eos: true, temperature: 0 };
const CANCELLED = { model_name: MODEL, finished_reason: 'cancelled' };

describe('a client that vanishes', () => {
  let gw;
  let w;
  let baselineFds;
  before(async () => {
    [w] = await startWorkers(1, { names: ['w'] });
    gw = await startGatewayOver([w], { model: MODEL });
    // Warm up: pooled upstream connections and the worker's agents are in place.
    for (let i = 0; i < 3; i++) {
      const r = await request(`${gw.url}/v1/completions`, { json: { ...LONG, max_tokens: 4 }, timeoutMs: 20000 });
      assert.equal(r.status, 200, r.text);
    }
    // The node's agents (probe, load poller, KV event stream) hold their own connections: the
    // baseline is taken once they are all up.
    await waitFor(async () => (await gw.metric('laneway_kv_events_total', { node: 'w', event: 'snapshot' })) >= 1 &&
      (await gw.metric('laneway_node_load_reports_total', { node: 'w', result: 'ok' })) >= 2, 10000, 'the node agents connected');
    baselineFds = await unpooledFds();
  });

  // The gateway's open fds less its open upstream connections (opened − closed; idle ones stay
  // pooled, one pool per I/O thread, so their number may change): what a leak would raise.
  // Metrics are read on one keep-alive connection, so reading them does not move the count.
  const scrape = new http.Agent({ keepAlive: true, maxSockets: 1 });
  async function unpooledFds() {
    const samples = parsePrometheus((await request(`${gw.url}/metrics`, { agent: scrape })).text);
    const fds = procStats(gw.proc.child.pid).fds;
    const open = sumMetric(samples, 'laneway_upstream_connections_opened_total') - sumMetric(samples, 'laneway_upstream_connections_closed_total');
    return fds - open;
  }

  async function idleAndNoLeak(what) {
    await waitFor(async () => (await w.metric('vllm:num_requests_running')) === 0, 10000, `${what}: the worker's running requests back to 0`);
    await waitFor(async () => (await gw.metric('laneway_in_flight_requests', { node: 'w' })) === 0, 5000, `${what}: in-flight 0`);
    await waitFor(async () => (await unpooledFds()) <= baselineFds, 5000,
      `${what}: the gateway's open fds (less pooled upstream connections) back to ${baselineFds}`);
  }

  test('streams closed mid-generation are cancelled on the worker', async () => {
    const cancelledBefore = await w.metric('vllm:request_success_total', CANCELLED);
    const disconnectsBefore = await gw.metric('laneway_client_disconnects_total');
    const streams = [];
    for (let i = 0; i < 6; i++) {
      const s = await openStream(`${gw.url}/v1/completions`, { json: { ...LONG, stream: true }, headers: { 'x-request-id': `vanish-${i}` } });
      assert.ok(await s.nextEvent(10000), `stream ${i} started`);
      streams.push(s);
    }
    await waitFor(async () => (await w.metric('vllm:num_requests_running')) === 6, 10000, 'six requests running on the worker');
    for (const s of streams) s.close();
    await waitFor(async () => (await w.metric('vllm:request_success_total', CANCELLED)) === cancelledBefore + 6, 10000,
      'the worker to count six cancelled requests');
    await waitFor(async () => (await gw.metric('laneway_client_disconnects_total')) === disconnectsBefore + 6, 5000,
      'the gateway to count six client disconnects');
    for (let i = 0; i < 6; i++) {
      const line = await gw.waitForLog((l) => l.msg === 'request' && l.request_id === `vanish-${i}`);
      assert.equal(line.error, 'client_disconnect');
    }
    await idleAndNoLeak('streams');
  });

  test('a plain request abandoned before its answer is cancelled on the worker', async () => {
    const cancelledBefore = await w.metric('vllm:request_success_total', CANCELLED);
    const payload = JSON.stringify(LONG);
    const u = new URL(`${gw.url}/v1/completions`);
    const req = http.request({ host: u.hostname, port: u.port, path: u.pathname, method: 'POST', agent: false,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), 'x-request-id': 'vanish-plain' } });
    req.on('error', () => {});
    req.end(payload);
    await waitFor(async () => (await w.metric('vllm:num_requests_running')) === 1, 10000, 'the request running on the worker');
    req.destroy();
    await waitFor(async () => (await w.metric('vllm:request_success_total', CANCELLED)) === cancelledBefore + 1, 10000,
      'the worker to count the cancel');
    const line = await gw.waitForLog((l) => l.msg === 'request' && l.request_id === 'vanish-plain');
    assert.equal(line.error, 'client_disconnect');
    await idleAndNoLeak('plain');
  });

  test('after the disconnects the gateway serves as before', async () => {
    const s = await openStream(`${gw.url}/v1/completions`, { json: { ...LONG, max_tokens: 16, stream: true } });
    await s.end(20000);
    assert.equal(s.events.at(-1).data, '[DONE]');
    const r = await request(`${gw.url}/v1/completions`, { json: { ...LONG, max_tokens: 16 }, timeoutMs: 20000 });
    assert.equal(r.status, 200, r.text);
    await idleAndNoLeak('after');
  });
});
