// The gateway restarted under load, in front of two real workers: clients keep sending the soak's
// mixed trace while the gateway is killed (SIGKILL) or stopped (SIGTERM). Every request ends in
// bounded time — complete, or a clear error (connection reset or refused, a cut stream, an SSE
// error event, 503) — none hangs; the workers drop what the dead gateway had asked for; and a new
// gateway on the same config file (same port) serves again.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import {
  cleanupAll, gatewayConfig, startGateway, startGatewayOver, startWorkers, waitFor, writeTempFile,
} from './harness.mjs';
import { rng, sendTraced, traceRequest } from '../soak/trace.mjs';

after(cleanupAll);

const CLIENTS = 6;
// What a client may see while the gateway goes away and comes back; anything else is a bug.
const EXPECTED_ERRORS = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'cut', 'incomplete_stream', 'upstream_reset',
  'no_healthy_node', 'shutting_down', 'status_503']);

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

// CLIENTS loops sending the trace to `url` until `load.stop`; every result goes to load.results.
function startLoad(url, seed) {
  const random = rng(seed);
  const load = { stop: false, results: [], n: 0, loops: [] };
  for (let c = 0; c < CLIENTS; c++) {
    load.loops.push((async () => {
      while (!load.stop) {
        const spec = traceRequest(random, load.n++, { prefix: `restart-${seed}`, cancelRate: 0 });
        const r = await sendTraced(url, spec, { timeoutMs: 15000 });
        r.at = Date.now();
        load.results.push(r);
        // Pacing after a refused connection, so a client does not spin while no gateway listens.
        if (r.outcome === 'error') await new Promise((res) => setTimeout(res, 25));
      }
    })());
  }
  return load;
}

describe('gateway restart under load', () => {
  let workers;
  let configFile;
  let port;
  before(async () => {
    workers = await startWorkers(2);
    port = await freePort();
    configFile = writeTempFile('gateway.toml', gatewayConfig({
      nodes: workers,
      server: { listen: `127.0.0.1:${port}`, shutdown_grace: '2s' },
    }));
  });

  async function gateway() {
    const gw = await startGatewayOver(workers, { start: () => startGateway({ args: ['-c', configFile] }) });
    assert.equal(gw.port, port, 'the same port as before');
    return gw;
  }

  for (const signal of ['SIGKILL', 'SIGTERM']) {
    test(`${signal}: errors, never hangs; a new gateway on the same config serves again`, async (t) => {
      let gw = await gateway();
      const load = startLoad(gw.url, signal === 'SIGKILL' ? 1 : 2);
      await waitFor(() => load.results.filter((r) => r.outcome === 'ok').length >= 10, 30000, '10 good answers before the signal');
      const killedAt = Date.now();
      const exit = await gw.stop(signal, 10000);
      if (signal === 'SIGTERM') assert.equal(exit.code, 0, 'SIGTERM: a clean exit');
      // With no gateway, every client sees errors (refused), none waits.
      await waitFor(() => load.results.filter((r) => r.at > killedAt + 200 && r.outcome === 'error').length >= CLIENTS, 10000,
        'errors while no gateway listens');
      gw = await gateway();
      const backAt = Date.now();
      await waitFor(() => load.results.filter((r) => r.at > backAt && r.outcome === 'ok').length >= 10, 30000,
        '10 good answers from the new gateway');
      load.stop = true;
      await Promise.all(load.loops);

      const errors = load.results.filter((r) => r.outcome === 'error');
      const kinds = {};
      for (const r of errors) kinds[r.error] = (kinds[r.error] ?? 0) + 1;
      t.diagnostic(`${load.results.length} requests, ${errors.length} errors: ${JSON.stringify(kinds)}`);
      const unexpected = errors.filter((r) => !EXPECTED_ERRORS.has(r.error));
      assert.deepEqual(unexpected.map((r) => `${r.id}: ${r.error} (${r.status})`), [], 'only the errors a restart explains');
      assert.ok(!errors.some((r) => r.error === 'timeout'), 'no request hung');
      assert.ok(Math.max(...load.results.map((r) => r.total_ms)) < 15000, 'every request ended within its bound');
      // Errors only around the restart: nothing failed after the new gateway was ready.
      const late = errors.filter((r) => r.at - r.total_ms > backAt + 50);
      assert.deepEqual(late.map((r) => `${r.id}: ${r.error}`), [], 'no errors once the new gateway serves');
      // The workers dropped whatever the old gateway had asked of them.
      for (const w of workers) await waitFor(async () => (await w.metric('vllm:num_requests_running')) === 0, 10000, 'workers idle');
      await gw.stop('SIGTERM');
    });
  }
});
