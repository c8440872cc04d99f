// API keys, lanes and admission through the gateway (fake upstreams): 401 for a missing or
// unknown key, lanes from the key or an allowed X-Lane header, 429 with Retry-After from a rate
// limit and from a full lane queue, 503 after queue_timeout, queue waits in the access log and
// metrics.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { chatBody, cleanupAll, errorOf, gatewayConfig, request, startGateway, startUpstream, waitFor } from './harness.mjs';

after(cleanupAll);

const sha = (k) => crypto.createHash('sha256').update(k).digest('hex');
const CHAT = '/v1/chat/completions';
const auth = (key) => ({ authorization: `Bearer ${key}` });

const LANES = `
[[lanes]]
name = "chat"
priority = 10

[[lanes]]
name = "batch"
max_in_flight = 1
max_queue = 1
queue_timeout = "400ms"

[[lanes]]
name = "limited"
requests_per_s = 0.1
request_burst = 2

[[lanes]]
name = "default"

[[keys]]
name = "web"
sha256 = "${sha('sk-chat')}"
tenant = "web"
lane = "chat"

[[keys]]
name = "jobs"
sha256 = "${sha('sk-batch')}"
tenant = "jobs"
lane = "batch"
allow_lane_header = true

[[keys]]
name = "meter"
sha256 = "${sha('sk-limited')}"
lane = "limited"
`;

describe('keys and lanes', () => {
  let gw;
  let up;
  before(async () => {
    up = await startUpstream({ name: 'a', models: ['m'] });
    gw = await startGateway({ config: gatewayConfig({ nodes: [{ name: 'a', url: up.url }], raw: LANES }), waitReady: true });
    await gw.waitHealthy(['a']);
  });

  const lastLog = (id) => gw.waitForLog((l) => l.msg === 'request' && l.request_id === id, 5000);

  test('no key or an unknown key: 401 with an OpenAI error body; open routes need none', async () => {
    const none = await request(`${gw.url}${CHAT}`, { json: chatBody('m') });
    assert.equal(none.status, 401);
    assert.equal(errorOf(none).code, 'invalid_api_key');
    assert.equal(errorOf(none).type, 'invalid_request_error');
    const wrong = await request(`${gw.url}${CHAT}`, { json: chatBody('m'), headers: auth('sk-nope') });
    assert.equal(wrong.status, 401);
    assert.match(errorOf(wrong).message, /Incorrect API key/);
    assert.equal((await request(`${gw.url}/v1/models`)).status, 401);
    assert.equal((await request(`${gw.url}/v1/models`, { headers: auth('sk-chat') })).status, 200);
    assert.equal((await request(`${gw.url}/health`)).status, 200);
    assert.equal((await up.stats()).requests_by_path[CHAT] ?? 0, 0, 'nothing reached the node');
  });

  test('a key lands in its lane, with its tenant in the access log', async () => {
    const r = await request(`${gw.url}${CHAT}`, { json: chatBody('m'), headers: { ...auth('sk-chat'), 'x-request-id': 'lk-1' } });
    assert.equal(r.status, 200, r.text);
    const log = await lastLog('lk-1');
    assert.equal(log.lane, 'chat');
    assert.equal(log.tenant, 'web');
    assert.equal(log.queue_wait_ms, 0);
    assert.equal(await gw.metric('laneway_lane_admissions_total', { lane: 'chat', result: 'admitted' }), 1);
  });

  test('X-Lane picks a lane only for keys that allow it; an unknown lane is a 400', async () => {
    const moved = await request(`${gw.url}${CHAT}`, { json: chatBody('m'), headers: { ...auth('sk-batch'), 'x-lane': 'chat', 'x-request-id': 'lk-2' } });
    assert.equal(moved.status, 200, moved.text);
    assert.equal((await lastLog('lk-2')).lane, 'chat');
    const ignored = await request(`${gw.url}${CHAT}`, { json: chatBody('m'), headers: { ...auth('sk-chat'), 'x-lane': 'batch', 'x-request-id': 'lk-3' } });
    assert.equal(ignored.status, 200);
    assert.equal((await lastLog('lk-3')).lane, 'chat');
    const bad = await request(`${gw.url}${CHAT}`, { json: chatBody('m'), headers: { ...auth('sk-batch'), 'x-lane': 'nope' } });
    assert.equal(bad.status, 400);
    assert.equal(errorOf(bad).param, 'X-Lane');
  });

  test('a request rate limit answers 429 with Retry-After', async () => {
    const statuses = [];
    let limited;
    for (let i = 0; i < 3; i++) {
      const r = await request(`${gw.url}${CHAT}`, { json: chatBody('m'), headers: auth('sk-limited') });
      statuses.push(r.status);
      if (r.status === 429) limited = r;
    }
    assert.deepEqual(statuses, [200, 200, 429]);
    assert.equal(errorOf(limited).code, 'rate_limit_exceeded');
    assert.ok(Number(limited.headers['retry-after']) >= 1, `Retry-After: ${limited.headers['retry-after']}`);
    assert.equal(await gw.metric('laneway_lane_admissions_total', { lane: 'limited', result: 'rate_limit_exceeded' }), 1);
  });

  test('a full lane queue is a 429, a wait past queue_timeout a 503; a freed slot admits the next', async () => {
    const held = { ...auth('sk-batch'), 'x-fake-behavior': 'hold-after-first' };
    const first = request(`${gw.url}${CHAT}`, { json: chatBody('m'), headers: { ...held, 'x-request-id': 'lk-a' }, timeoutMs: 20000 });
    await up.waitHeld(1);
    assert.equal(await gw.metric('laneway_lane_in_flight', { lane: 'batch' }), 1, 'the held request is in flight in its lane');
    const queued = request(`${gw.url}${CHAT}`, { json: chatBody('m'), headers: { ...auth('sk-batch'), 'x-request-id': 'lk-b' } });
    const queuedCount = () => gw.metric('laneway_lane_admissions_total', { lane: 'batch', result: 'queued' });
    await waitFor(async () => (await queuedCount()) === 1, 5000, 'b queued');
    const full = await request(`${gw.url}${CHAT}`, { json: chatBody('m'), headers: auth('sk-batch') });
    assert.equal(full.status, 429, full.text);
    assert.equal(errorOf(full).code, 'queue_full');
    assert.ok(Number(full.headers['retry-after']) >= 1);

    const timedOut = await queued;
    assert.equal(timedOut.status, 503, timedOut.text);
    assert.equal(errorOf(timedOut).code, 'queue_timeout');
    assert.ok((await lastLog('lk-b')).queue_wait_ms >= 400);

    // Now one waits while `first` is held, and is admitted when it finishes.
    const next = request(`${gw.url}${CHAT}`, { json: chatBody('m'), headers: { ...auth('sk-batch'), 'x-request-id': 'lk-c' } });
    await waitFor(async () => (await queuedCount()) === 2, 5000, 'c queued');
    await up.control({ release: true });
    assert.equal((await first).status, 200);
    const admitted = await next;
    assert.equal(admitted.status, 200, admitted.text);
    const log = await lastLog('lk-c');
    assert.ok(log.queue_wait_ms > 0, `queue_wait_ms ${log.queue_wait_ms}`);
    assert.ok((await gw.metric('laneway_lane_queue_wait_seconds_count', { lane: 'batch' })) >= 2);
    assert.equal(await gw.metric('laneway_lane_admissions_total', { lane: 'batch', result: 'queue_timeout' }), 1);
    // Queued and refused requests never counted as in flight; finished ones leave it.
    await waitFor(async () => (await gw.metric('laneway_lane_in_flight', { lane: 'batch' })) === 0, 5000, 'batch lane idle');
  });

  test('a client that leaves while queued leaves the queue at once', async () => {
    const first = request(`${gw.url}${CHAT}`, {
      json: chatBody('m'), headers: { ...auth('sk-batch'), 'x-fake-behavior': 'hold-after-first' }, timeoutMs: 20000,
    });
    await up.waitHeld(1);
    const queued = () => gw.metric('laneway_lane_admissions_total', { lane: 'batch', result: 'queued' });
    const before = await queued();
    const leaving = request(`${gw.url}${CHAT}`, { json: chatBody('m'), headers: auth('sk-batch'), timeoutMs: 150 });
    await assert.rejects(leaving);  // the client gives up after 150 ms and closes its connection
    assert.equal(await queued(), before + 1);
    await waitFor(async () => (await gw.metric('laneway_lane_admissions_total', { lane: 'batch', result: 'client_disconnect' })) === 1,
      2000, 'the waiter removed when its client left (well before queue_timeout)');
    // Its place is free: the next one waits instead of a 429 queue_full.
    const next = request(`${gw.url}${CHAT}`, { json: chatBody('m'), headers: auth('sk-batch') });
    await waitFor(async () => (await queued()) === before + 2, 2000, 'the next request queued');
    await up.control({ release: true });
    assert.equal((await first).status, 200);
    assert.equal((await next).status, 200);
  });
});
