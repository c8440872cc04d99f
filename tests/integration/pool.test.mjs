// Upstream keep-alive pool: sequential requests reuse one connection; connections the node
// closes are replaced without failing requests.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { chatBody, cleanupAll, openStream, request, startCluster, waitFor } from './harness.mjs';

after(cleanupAll);

async function poolCounters(gw, node = 'a') {
  return {
    opened: await gw.metric('laneway_upstream_connections_opened_total', { node }),
    reused: await gw.metric('laneway_upstream_connections_reused_total', { node }),
    closed: await gw.metric('laneway_upstream_connections_closed_total', { node }),
  };
}

describe('upstream connection pool', () => {
  test('three sequential requests open one connection and reuse it (one I/O thread)', async () => {
    const { gw, up } = await startCluster({ nodes: [{ name: 'a', models: ['m1'] }], server: { io_threads: 1 } });
    // A keep-alive client: a client closing its connection right after a complete response can
    // race with the relay's end (see the disconnect report), which is not what this test is about.
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const before = await poolCounters(gw);
    const connsBefore = (await up.a.stats()).connections;
    for (let i = 0; i < 3; i++) {
      const r = await request(`${gw.url}/v1/chat/completions`, { json: chatBody('m1'), agent, headers: { 'x-request-id': `seq-${i}` } });
      assert.equal(r.status, 200, r.text);
    }
    const after = await poolCounters(gw);
    assert.equal(after.opened - before.opened, 1, `opened ${before.opened} → ${after.opened}`);
    assert.ok(after.reused - before.reused >= 2, `reused ${before.reused} → ${after.reused}`);
    const logs = [0, 1, 2].map((i) => gw.accessLogs().find((l) => l.request_id === `seq-${i}`));
    assert.deepEqual(logs.map((l) => l?.reused), [false, true, true], 'the access log says which were reused');
    // The node saw at most one new connection for these requests (probes may add their own).
    const st = await up.a.stats();
    const probeConns = st.requests_by_path['/health'] ?? 0;
    assert.ok(st.connections - connsBefore <= 1 + probeConns, 'no connection per request');
    const hist = await gw.metric('laneway_upstream_connect_seconds_count', { node: 'a' });
    assert.ok(hist >= 1, `laneway_upstream_connect_seconds_count{node="a"} = ${hist}`);
    await gw.stop();
    agent.destroy(); // only now: closing it right after a response races the relay's end
  });

  test('sequential one-shot client connections share one upstream connection', async () => {
    const { gw } = await startCluster({ nodes: [{ name: 'a', models: ['m1'] }], server: { io_threads: 1 } });
    for (let i = 0; i < 3; i++) {
      const r = await request(`${gw.url}/v1/chat/completions`, { json: chatBody('m1') });
      assert.equal(r.status, 200, r.text);
      // The upstream connection goes back to the pool once the request is over.
      await waitFor(async () => (await gw.metric('laneway_in_flight_requests', { node: 'a' })) === 0, 3000, 'request over');
    }
    const c = await poolCounters(gw);
    assert.ok(c.reused >= 1, `reused ${c.reused}`);
    assert.ok(c.opened <= 2, `opened ${c.opened}`);
  });

  test('one client keep-alive connection: one upstream connection (two I/O threads)', async () => {
    const { gw } = await startCluster({ nodes: [{ name: 'a', models: ['m1'] }], server: { io_threads: 2 } });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const before = await poolCounters(gw);
    for (let i = 0; i < 4; i++) {
      const r = await request(`${gw.url}/v1/chat/completions`, { json: chatBody('m1'), agent });
      assert.equal(r.status, 200, r.text);
    }
    // Streams go back to the pool too once they finished cleanly.
    const s = await openStream(`${gw.url}/v1/chat/completions`, { json: chatBody('m1', { stream: true }) });
    await s.end(5000);
    const r = await request(`${gw.url}/v1/chat/completions`, { json: chatBody('m1'), agent });
    assert.equal(r.status, 200);
    const after = await poolCounters(gw);
    assert.ok(after.opened - before.opened <= 2, `opened ${before.opened} → ${after.opened}`);
    assert.ok(after.reused - before.reused >= 3, `reused ${before.reused} → ${after.reused}`);
    agent.destroy(); // only now: closing it right after a response races the relay's end
  });

  test('a node answering "Connection: close" gets a fresh connection each time', async () => {
    const { gw } = await startCluster({ nodes: [{ name: 'a', models: ['m1'] }], server: { io_threads: 1 } });
    const before = await poolCounters(gw);
    for (let i = 0; i < 3; i++) {
      const r = await request(`${gw.url}/v1/chat/completions`, {
        json: chatBody('m1'),
        headers: { 'x-fake-behavior': 'close-after-response' },
      });
      assert.equal(r.status, 200, r.text);
    }
    const after = await poolCounters(gw);
    assert.equal(after.opened - before.opened, 3);
    assert.equal(after.reused - before.reused, 0);
    await waitFor(async () => (await poolCounters(gw)).closed - before.closed >= 3, 3000, 'three connections counted as closed');
  });

  test('idle connections the node closed are not used for the next request', async () => {
    const { gw, up } = await startCluster({ nodes: [{ name: 'a', models: ['m1'] }], server: { io_threads: 1 } });
    for (let i = 0; i < 2; i++) {
      const r = await request(`${gw.url}/v1/chat/completions`, { json: chatBody('m1') });
      assert.equal(r.status, 200);
    }
    for (let round = 0; round < 3; round++) {
      // Closes the gateway's pooled connection (and the probe connection, if idle right now).
      const c = await up.a.control({ drop_idle: true });
      if (round === 0) assert.ok(c.dropped >= 1, 'the pooled connection was idle at the node');
      const r = await request(`${gw.url}/v1/chat/completions`, { json: chatBody('m1') });
      assert.equal(r.status, 200, `round ${round}: ${r.text}`);
      const s = await openStream(`${gw.url}/v1/chat/completions`, { json: chatBody('m1', { stream: true }) });
      assert.equal(s.status, 200);
      await s.end(5000);
      assert.equal(s.events.at(-1).data, '[DONE]');
    }
    const closed = await gw.samples('laneway_upstream_connections_closed_total');
    assert.ok(
      closed.some((x) => x.labels.node === 'a' && x.value >= 1),
      `the dead pooled connections were counted as closed: ${JSON.stringify(closed)}`,
    );
  });

  test('an idle pooled connection is closed after pool_idle_timeout', async () => {
    const { gw, up } = await startCluster({
      nodes: [{ name: 'a', models: ['m1'] }],
      server: { io_threads: 1 },
      upstream: { pool_idle_timeout: '300ms' },
    });
    const idleClosed = () => gw.metric('laneway_upstream_connections_closed_total', { node: 'a', reason: 'idle_timeout' });
    assert.equal(await idleClosed(), 0);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 }); // see the first test
    const r = await request(`${gw.url}/v1/chat/completions`, { json: chatBody('m1'), agent });
    assert.equal(r.status, 200);
    await waitFor(async () => (await idleClosed()) >= 1, 5000, 'the idle connection to be closed (reason idle_timeout)');
    // The next request opens a new connection and works.
    const r2 = await request(`${gw.url}/v1/chat/completions`, { json: chatBody('m1') });
    assert.equal(r2.status, 200);
    assert.ok((await up.a.stats()).connections >= 2);
    agent.destroy(); // only now: closing it right after a response races the relay's end
  });

  test('max_idle_per_node = 0 keeps no idle connection', async () => {
    const { gw } = await startCluster({
      nodes: [{ name: 'a', models: ['m1'] }],
      server: { io_threads: 1 },
      upstream: { max_idle_per_node: 0 },
    });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    for (let i = 0; i < 3; i++) {
      const r = await request(`${gw.url}/v1/chat/completions`, { json: chatBody('m1'), agent });
      assert.equal(r.status, 200);
    }
    const c = await poolCounters(gw);
    assert.equal(c.opened, 3);
    assert.equal(c.reused, 0);
    // The last connection is closed just after its response went out.
    await waitFor(
      async () => (await gw.metric('laneway_upstream_connections_closed_total', { node: 'a', reason: 'pool_full' })) === 3,
      3000,
      'three connections closed with reason pool_full',
    );
    agent.destroy(); // only now: closing it right after a response races the relay's end
  });

  test('a connection older than max_connection_age is replaced', async () => {
    const { gw } = await startCluster({
      nodes: [{ name: 'a', models: ['m1'] }],
      server: { io_threads: 1 },
      upstream: { max_connection_age: '400ms', pool_idle_timeout: '400ms' },
    });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const t0 = Date.now();
    // Requests every ~50 ms keep the connection from idling out; its age runs out.
    await waitFor(
      async () => {
        const r = await request(`${gw.url}/v1/chat/completions`, { json: chatBody('m1'), agent });
        assert.equal(r.status, 200);
        return Date.now() - t0 > 1000;
      },
      5000,
      'a second of traffic',
      50,
    );
    const c = await poolCounters(gw);
    assert.ok(c.opened >= 2, `opened ${c.opened}`);
    assert.ok(c.reused >= 5, `reused ${c.reused}`);
    assert.ok((await gw.metric('laneway_upstream_connections_closed_total', { node: 'a', reason: 'max_age' })) >= 1, 'closed for max_age');
    agent.destroy(); // only now: closing it right after a response races the relay's end
  });
});
