// KV-aware routing end to end: three real `laneway worker` processes (the bundled model) behind
// the gateway with policy kv_aware. Requests sharing a long system prompt go to the node that
// holds it — the worker's cached_tokens > 0 and equal to what the gateway predicted — while
// unrelated ones spread; a worker killed is ejected and its index entries dropped, and once
// restarted on its port it rejoins (resynced from a fresh KV snapshot) and takes traffic again.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cleanupAll, gatewayConfig, request, startGateway, startWorker, waitFor } from './harness.mjs';

after(cleanupAll);

const SYSTEM = 'Once upon a time, in a small village by the sea, there lived a kind old fisherman named Tom. ' +
  'Every morning he walked to the harbor with his little dog Max, and they sailed out to catch fish for the village. ' +
  'One day a big storm came, and the waves were very high, but Tom was brave and he knew the sea very well. ';
const OTHER = [
  'Lily had a red ball. She liked to play with it in the park with her friends every sunny day after school. ',
  'The little bird sang a song every morning. The birds in the tall tree listened and they were very happy. ',
  'Ben wanted to build a big castle out of sand. He took his bucket and spade and went down to the beach. ',
  'A small cat lived in a warm house. The cat liked milk and naps in the sun near the big window all day. ',
  'Sue found a shiny stone in the garden. She showed it to her mom, who smiled and said it was very pretty. ',
  'The old tree in the forest was tall and strong. Many animals lived in it, and they were all good friends. ',
];

const chat = (system, user) => ({
  model: 'stories260K',
  messages: [{ role: 'system', content: system }, { role: 'user', content: user }],
  max_tokens: 4,
  temperature: 0,
});

describe('kv_aware routing over three workers', () => {
  let gw;
  const workers = [];
  const names = ['w0', 'w1', 'w2'];
  before(async () => {
    for (const name of names) workers.push(await startWorker({ label: name, args: ['--kv-memory', '16MiB'] }));
    gw = await startGateway({
      config: gatewayConfig({
        nodes: workers.map((w, i) => ({ name: names[i], url: w.url, kind: 'laneway' })),
        routing: { policy: 'kv_aware', load_interval: '100ms', kv_events_backoff_max: '200ms' },
        upstream: { retries: 1 },
      }),
    });
    await gw.waitHealthy(names);
    for (const n of names) {
      await gw.waitForLog((l) => l.msg === 'kv events synced' && l.node === n, 10000);
    }
    await gw.waitForLog((l) => l.msg === 'tokenizer loaded', 10000);
  });

  const send = async (body, id) => {
    const r = await request(`${gw.url}/v1/chat/completions`, { json: body, headers: { 'x-request-id': id }, timeoutMs: 20000 });
    assert.equal(r.status, 200, r.text);
    const log = await gw.waitForLog((l) => l.msg === 'request' && l.request_id === id, 5000);
    return { r, log };
  };

  test('requests sharing a system prompt go to the node that holds it', async () => {
    const first = await send(chat(SYSTEM, 'What did Tom do?'), 'kv-0');
    const holder = first.log.node;
    assert.equal(first.r.json.usage.prompt_tokens_details.cached_tokens, 0);
    // The holder's KV events reach the gateway's index.
    await waitFor(async () => (await gw.metric('laneway_prefix_index_blocks', { node: holder })) > 0, 5000,
      `${holder}'s blocks in the index`);
    const questions = ['Where did Max go?', 'Was the storm big?', 'What is the end?', 'Who is Tom?'];
    for (let i = 0; i < questions.length; i++) {
      const { r, log } = await send(chat(SYSTEM, questions[i]), `kv-${i + 1}`);
      const cached = r.json.usage.prompt_tokens_details.cached_tokens;
      assert.equal(log.node, holder, `request ${i + 1} went to ${log.node}, not ${holder}`);
      assert.equal(log.route_reason, 'prefix');
      assert.ok(cached > 0, `cached_tokens ${cached}`);
      assert.ok(log.matched_blocks > 0);
      assert.equal(log.predicted_cached_tokens, cached, 'the gateway predicted exactly what the worker had cached');
      assert.equal(log.cached_tokens, cached);
      assert.ok(log.predicted_ttft_ms >= 0);
    }
    assert.ok((await gw.metric('laneway_routing_decisions_total', { policy: 'kv_aware', reason: 'prefix' })) >= 4);
    const predicted = await gw.metric('laneway_routing_predicted_cached_tokens_total', { node: holder });
    const actual = await gw.metric('laneway_routing_actual_cached_tokens_total', { node: holder });
    assert.ok(actual > 0);
    assert.equal(predicted, actual);
  });

  test('unrelated prompts spread over the nodes', async () => {
    const used = new Set();
    for (let i = 0; i < OTHER.length; i++) {
      const { log } = await send(chat(OTHER[i], 'Tell me more.'), `spread-${i}`);
      used.add(log.node);
    }
    assert.ok(used.size >= 2, `unrelated prompts all went to ${[...used]}`);
  });

  test('a killed worker is ejected and its entries dropped; restarted, it rejoins', async () => {
    const victim = 1;
    const port = workers[victim].port;
    assert.ok((await gw.metric('laneway_kv_events_total', { node: 'w1', event: 'snapshot' })) === 1);
    await workers[victim].stop('SIGKILL');
    await gw.waitHealthy(['w1'], 0);
    await waitFor(async () => (await gw.metric('laneway_prefix_index_blocks', { node: 'w1' })) === 0, 5000,
      'w1 index entries dropped');
    for (let i = 0; i < 3; i++) {
      const { log } = await send(chat(OTHER[i], 'Again.'), `down-${i}`);
      assert.notEqual(log.node, 'w1');
    }
    workers[victim] = await startWorker({ label: 'w1-again', port, args: ['--kv-memory', '16MiB'] });
    await gw.waitHealthy(['w1'], 1, 15000);
    await waitFor(async () => (await gw.metric('laneway_kv_events_total', { node: 'w1', event: 'snapshot' })) >= 2, 10000,
      'a fresh snapshot from the restarted w1');
    // Unrelated prompts (each starts differently, so none has a cached prefix anywhere) spread
    // again, w1 included; what w1 computes comes back into the index.
    const fresh = 'Tim and Sam went to the zoo. They saw a big lion, a tall giraffe and a funny monkey. They had a lot of fun. ';
    let landed = 0;
    await waitFor(async () => {
      const { log } = await send(chat(`${landed++} ${Math.random()} ${fresh}`, 'Go on.'), `rejoin-${Date.now()}`);
      return log.node === 'w1';
    }, 15000, 'a request to land on w1');
    await waitFor(async () => (await gw.metric('laneway_prefix_index_blocks', { node: 'w1' })) > 0, 5000,
      'the restarted w1 publishing its blocks again');
  });
});
