// Routing policies with real in-flight load: least_in_flight avoids a busy node and spreads
// held streams evenly; round_robin alternates.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chatBody, cleanupAll, openStream, request, startCluster, waitFor } from './harness.mjs';

after(cleanupAll);

const CHAT = '/v1/chat/completions';
const chats = async (u) => (await u.stats()).requests_by_path[CHAT] ?? 0;

async function holdStream(gw) {
  const s = await openStream(`${gw.url}${CHAT}`, {
    json: chatBody('m1', { stream: true }),
    headers: { 'x-fake-behavior': 'hold-after-first' },
  });
  assert.equal(s.status, 200);
  assert.ok(await s.nextEvent(5000));
  return s;
}

describe('least_in_flight', () => {
  test('a node busy with a stream gets no new requests while the other is idle', async () => {
    const { gw, up } = await startCluster({
      nodes: [
        { name: 'a', models: ['m1'] },
        { name: 'b', models: ['m1'] },
      ],
      routing: { policy: 'least_in_flight' },
    });
    const held = await holdStream(gw);
    const [ha, hb] = [(await up.a.stats()).held, (await up.b.stats()).held];
    assert.equal(ha + hb, 1);
    const busy = ha === 1 ? up.a : up.b;
    const idle = ha === 1 ? up.b : up.a;
    const [busy0, idle0] = [await chats(busy), await chats(idle)];
    for (let i = 0; i < 4; i++) {
      const r = await request(`${gw.url}${CHAT}`, { json: chatBody('m1') });
      assert.equal(r.status, 200);
    }
    assert.equal((await chats(busy)) - busy0, 0, 'the busy node got nothing');
    assert.equal((await chats(idle)) - idle0, 4, 'the idle node got everything');
    assert.equal(await gw.metric('laneway_in_flight_requests', { node: busy.name }), 1);
    await busy.control({ release: true });
    await held.end(5000);
  });

  test('held streams are spread evenly', async () => {
    const { gw, up } = await startCluster({
      nodes: [
        { name: 'a', models: ['m1'] },
        { name: 'b', models: ['m1'] },
      ],
    });
    const streams = [];
    for (let i = 0; i < 4; i++) {
      streams.push(await holdStream(gw));
      await waitFor(async () => (await up.a.stats()).held + (await up.b.stats()).held === i + 1, 3000, `${i + 1} held`);
    }
    assert.equal((await up.a.stats()).held, 2);
    assert.equal((await up.b.stats()).held, 2);
    assert.equal(await gw.metric('laneway_in_flight_requests', { node: 'a' }), 2);
    assert.equal(await gw.metric('laneway_in_flight_requests', { node: 'b' }), 2);
    await Promise.all([up.a.control({ release: true }), up.b.control({ release: true })]);
    await Promise.all(streams.map((s) => s.end(5000)));
    for (const s of streams) assert.equal(s.events.at(-1).data, '[DONE]');
  });
});

describe('round_robin', () => {
  test('sequential requests alternate between the nodes', async () => {
    const { gw, up } = await startCluster({
      nodes: [
        { name: 'a', models: ['m1'] },
        { name: 'b', models: ['m1'] },
      ],
      routing: { policy: 'round_robin' },
    });
    const served = [];
    for (let i = 0; i < 6; i++) {
      const r = await request(`${gw.url}${CHAT}`, { json: chatBody('m1'), headers: { 'x-fake-chunks': '3' } });
      assert.equal(r.status, 200);
      served.push(r.json.choices[0].message.content.split(' ').at(-1));
    }
    for (let i = 1; i < served.length; i++) assert.notEqual(served[i], served[i - 1], `alternates: ${served}`);
    assert.equal(await chats(up.a), 3);
    assert.equal(await chats(up.b), 3);
  });
});
