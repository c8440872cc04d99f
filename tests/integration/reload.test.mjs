// SIGHUP reloads the config without dropping connections: a stream in flight across the reload
// completes, a keep-alive client keeps its connection; new nodes, keys and lanes take effect and
// removed ones stop. A bad new config is rejected with the reason logged and the old one kept.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import { chatBody, cleanupAll, errorOf, gatewayConfig, openStream, request, startGateway, startUpstream, waitFor } from './harness.mjs';

after(cleanupAll);

const sha = (k) => crypto.createHash('sha256').update(k).digest('hex');
const CHAT = '/v1/chat/completions';
const keyToml = (name, key, lane = '') => `[[keys]]\nname = "${name}"\nsha256 = "${sha(key)}"\n${lane ? `lane = "${lane}"\n` : ''}`;

describe('config reload on SIGHUP', () => {
  let gw;
  let a;
  let b;
  before(async () => {
    [a, b] = await Promise.all([startUpstream({ name: 'a', models: ['m'] }), startUpstream({ name: 'b', models: ['m'] })]);
    gw = await startGateway({ config: gatewayConfig({ nodes: [{ name: 'a', url: a.url }], raw: keyToml('old', 'sk-old') }) });
    await gw.waitHealthy(['a']);
  });

  const reloads = (result) => gw.metric('laneway_config_reloads_total', { result });

  test('a good config: nodes, keys and lanes change; a stream and a keep-alive connection survive', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const auth = (k) => ({ authorization: `Bearer ${k}` });
    const before1 = await request(`${gw.url}${CHAT}`, { json: chatBody('m'), headers: auth('sk-old'), agent });
    assert.equal(before1.status, 200);
    let sockets = 0;
    const countSocket = () => { sockets += 1; };
    agent.createConnection = ((orig) => function (...args) { countSocket(); return orig.apply(this, args); })(http.Agent.prototype.createConnection);

    const stream = await openStream(`${gw.url}${CHAT}`, {
      json: chatBody('m', { stream: true }),
      headers: { ...auth('sk-old'), 'x-fake-behavior': 'hold-after-first' },
    });
    assert.equal(stream.status, 200);
    await a.waitHeld(1);

    fs.writeFileSync(gw.configFile, gatewayConfig({
      nodes: [{ name: 'b', url: b.url }],
      raw: `[[lanes]]\nname = "vip"\npriority = 5\n\n[[lanes]]\nname = "default"\n\n${keyToml('new', 'sk-new', 'vip')}`,
    }));
    gw.proc.kill('SIGHUP');
    const line = await gw.waitForLog((l) => l.msg === 'config reloaded', 5000);
    assert.equal(line.generation, 2);
    assert.deepEqual(line.added, ['b']);
    assert.deepEqual(line.removed, ['a']);
    assert.equal(await reloads('ok'), 1);

    // The stream that started before the reload finishes on its node.
    await a.control({ release: true });
    await stream.end(10000);
    assert.equal(stream.events.at(-1).data, '[DONE]');

    await gw.waitHealthy(['b']);
    const old = await request(`${gw.url}${CHAT}`, { json: chatBody('m'), headers: auth('sk-old'), agent });
    assert.equal(old.status, 401, 'the removed key no longer works');
    const fresh = await request(`${gw.url}${CHAT}`, { json: chatBody('m'), headers: { ...auth('sk-new'), 'x-request-id': 'rl-1' }, agent });
    assert.equal(fresh.status, 200, fresh.text);
    const log = await gw.waitForLog((l) => l.msg === 'request' && l.request_id === 'rl-1', 5000);
    assert.equal(log.node, 'b');
    assert.equal(log.lane, 'vip');
    assert.equal(sockets, 0, 'the keep-alive connection from before the reload was reused');
    agent.destroy();
  });

  test('a bad config is rejected with the reason logged, and the running one kept', async () => {
    fs.writeFileSync(gw.configFile, gatewayConfig({
      nodes: [{ name: 'b', url: b.url }],
      raw: keyToml('new', 'sk-new', 'no-such-lane'),
    }));
    gw.proc.kill('SIGHUP');
    const line = await gw.waitForLog((l) => l.msg === 'config reload rejected; the running config is kept', 5000);
    assert.match(line.error, /keys\[0\]\.lane/);
    assert.equal(await reloads('rejected'), 1);
    const r = await request(`${gw.url}${CHAT}`, { json: chatBody('m'), headers: { authorization: 'Bearer sk-new' } });
    assert.equal(r.status, 200, r.text);

    fs.writeFileSync(gw.configFile, '[server\n');
    gw.proc.kill('SIGHUP');
    await waitFor(async () => (await reloads('rejected')) === 2, 5000, 'the syntax error rejected');
    const still = await request(`${gw.url}${CHAT}`, { json: chatBody('m') });
    assert.equal(still.status, 401);
    assert.equal(errorOf(still).code, 'invalid_api_key');
    assert.equal(gw.proc.exited, false);
  });
});
