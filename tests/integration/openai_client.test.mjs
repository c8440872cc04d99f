// The official `openai` npm client against the gateway (baseURL = gateway + "/v1").
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { cleanupAll, startCluster } from './harness.mjs';

after(cleanupAll);

describe('openai client', () => {
  let client;
  let up;
  before(async () => {
    let gw;
    ({ gw, up } = await startCluster({ nodes: [{ name: 'a', models: ['m1', 'text-embed'] }] }));
    client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'x', maxRetries: 0, timeout: 10000 });
  });

  test('non-streaming chat completion', async () => {
    const { data, response } = await client.chat.completions
      .create({ model: 'm1', messages: [{ role: 'user', content: 'Say hello' }] }, { headers: { 'x-request-id': 'sdk-1' } })
      .withResponse();
    assert.equal(data.object, 'chat.completion');
    assert.equal(data.model, 'm1');
    assert.equal(data.choices[0].message.role, 'assistant');
    assert.equal(data.choices[0].message.content, 'Hello from a Hello from');
    assert.equal(data.usage.completion_tokens, 5);
    assert.equal(response.headers.get('x-request-id'), 'sdk-1');
    const st = await up.a.stats();
    assert.equal(st.last_headers.authorization, 'Bearer x', 'the API key reaches the node');
  });

  test('streaming chat completion', async () => {
    const stream = await client.chat.completions.create(
      { model: 'm1', messages: [{ role: 'user', content: 'Say hello' }], stream: true },
      { headers: { 'x-fake-chunks': '6', 'x-fake-interval-ms': '5' } },
    );
    const parts = [];
    let finish = null;
    for await (const chunk of stream) {
      assert.equal(chunk.object, 'chat.completion.chunk');
      parts.push(chunk.choices[0]?.delta?.content ?? '');
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    assert.equal(parts.length, 6);
    assert.equal(parts.join(''), 'Hello from a Hello from a');
    assert.equal(finish, 'stop');
  });

  test('models list', async () => {
    const ids = [];
    for await (const m of client.models.list()) ids.push(m.id);
    assert.deepEqual(ids.sort(), ['m1', 'text-embed']);
  });

  test('embeddings', async () => {
    const r = await client.embeddings.create({ model: 'text-embed', input: ['a', 'b'], encoding_format: 'float' });
    assert.equal(r.data.length, 2);
    assert.equal(r.data[0].embedding.length, 8);
  });

  test('gateway errors surface as typed API errors', async () => {
    await assert.rejects(
      client.chat.completions.create({ model: 'nope', messages: [{ role: 'user', content: 'x' }] }),
      (e) => {
        assert.ok(e instanceof OpenAI.NotFoundError, `NotFoundError, got ${e?.constructor?.name}: ${e?.message}`);
        assert.equal(e.status, 404);
        assert.equal(e.code, 'model_not_found');
        return true;
      },
    );
  });
});
