// GET /v1/models aggregates the healthy nodes' models (deduplicated by id); requests go only to
// nodes that serve the requested model; the lists are refreshed and configured lists win.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chatBody, cleanupAll, request, startCluster, waitFor } from './harness.mjs';

after(cleanupAll);

const CHAT = '/v1/chat/completions';
const chats = async (u) => (await u.stats()).requests_by_path[CHAT] ?? 0;
const modelIds = async (gw) => {
  const r = await request(`${gw.url}/v1/models`);
  assert.equal(r.status, 200, r.text);
  return r.json.data.map((m) => m.id).sort();
};

describe('models', () => {
  let gw;
  let up;
  before(async () => {
    ({ gw, up } = await startCluster({
      nodes: [
        { name: 'a', models: ['m1', 'shared'] },
        { name: 'b', models: ['m2', 'shared'] },
      ],
      health: { interval: '200ms', timeout: '200ms', unhealthy_threshold: 2, models_refresh: '200ms' },
    }));
  });

  test('GET /v1/models is the union of the nodes, each id once', async () => {
    const r = await request(`${gw.url}/v1/models`);
    assert.equal(r.status, 200);
    assert.equal(r.json.object, 'list');
    assert.deepEqual(r.json.data.map((m) => m.id).sort(), ['m1', 'm2', 'shared']);
    for (const m of r.json.data) {
      assert.equal(m.object, 'model');
      assert.equal(typeof m.owned_by, 'string');
    }
  });

  test('a model served by one node goes to that node only', async () => {
    const [a0, b0] = [await chats(up.a), await chats(up.b)];
    for (let i = 0; i < 3; i++) {
      const r = await request(`${gw.url}${CHAT}`, { json: chatBody('m1') });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.model, 'm1');
    }
    for (let i = 0; i < 3; i++) {
      const r = await request(`${gw.url}${CHAT}`, { json: chatBody('m2') });
      assert.equal(r.status, 200, r.text);
    }
    assert.equal((await chats(up.a)) - a0, 3);
    assert.equal((await chats(up.b)) - b0, 3);
  });

  test('a model both serve is spread over both', async () => {
    const [a0, b0] = [await chats(up.a), await chats(up.b)];
    for (let i = 0; i < 6; i++) {
      const r = await request(`${gw.url}${CHAT}`, { json: chatBody('shared') });
      assert.equal(r.status, 200, r.text);
    }
    assert.ok((await chats(up.a)) - a0 >= 1, 'a got some');
    assert.ok((await chats(up.b)) - b0 >= 1, 'b got some');
  });

  test('embeddings and completions route by model too', async () => {
    const b0 = await chats(up.b);
    const r = await request(`${gw.url}/v1/embeddings`, { json: { model: 'm2', input: 'x' } });
    assert.equal(r.status, 200, r.text);
    const r2 = await request(`${gw.url}/v1/completions`, { json: { model: 'm2', prompt: 'x' } });
    assert.equal(r2.status, 200, r2.text);
    const st = await up.b.stats();
    assert.ok((st.requests_by_path['/v1/embeddings'] ?? 0) >= 1);
    assert.ok((st.requests_by_path['/v1/completions'] ?? 0) >= 1);
    assert.equal(await chats(up.b), b0);
  });

  test('an unknown model is 404 model_not_found and reaches no node', async () => {
    const [a0, b0] = [await chats(up.a), await chats(up.b)];
    const r = await request(`${gw.url}${CHAT}`, { json: chatBody('m3') });
    assert.equal(r.status, 404, r.text);
    assert.equal(r.json.error.code, 'model_not_found');
    assert.equal((await chats(up.a)) - a0, 0);
    assert.equal((await chats(up.b)) - b0, 0);
  });

  test('a model a node starts serving shows up after a refresh', async () => {
    await up.b.control({ models: ['m2', 'shared', 'm3'] });
    await waitFor(async () => (await modelIds(gw)).includes('m3'), 5000, 'm3 in /v1/models', 100);
    const r = await request(`${gw.url}${CHAT}`, { json: chatBody('m3') });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.model, 'm3');
  });

  test('an ejected node\'s models leave the list; they come back with it', async () => {
    await up.a.control({ health: 503 });
    await gw.waitHealthy('a', 0, 5000);
    await waitFor(async () => !(await modelIds(gw)).includes('m1'), 3000, 'm1 gone from /v1/models');
    assert.deepEqual(await modelIds(gw), ['m2', 'm3', 'shared']);
    const r = await request(`${gw.url}${CHAT}`, { json: chatBody('m1') });
    assert.ok([503, 404].includes(r.status), `m1 without its node: ${r.status} ${r.text}`);
    assert.ok(r.json?.error?.code, 'an OpenAI-style error');
    const r2 = await request(`${gw.url}${CHAT}`, { json: chatBody('shared') });
    assert.equal(r2.status, 200, 'shared still served by b');
    await up.a.control({ health: 200 });
    await gw.waitHealthy('a', 1, 5000);
    await waitFor(async () => (await modelIds(gw)).includes('m1'), 3000, 'm1 back in /v1/models');
  });
});

describe('configured model lists', () => {
  test('a node models list in the config is what the gateway routes by', async () => {
    // The fake serves "fake-model" only, but the config says the node serves "configured".
    const { gw, up } = await startCluster({
      nodes: [{ name: 'a', nodeModels: ['configured'] }],
      health: { models_refresh: '200ms' },
    });
    const ids = await modelIds(gw);
    assert.deepEqual(ids, ['configured']);
    const r = await request(`${gw.url}${CHAT}`, { json: chatBody('configured') });
    assert.equal(r.status, 200, r.text);
    assert.equal((await up.a.stats()).last_body.model, 'configured', 'the body is passed on unchanged');
  });
});
