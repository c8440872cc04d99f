// Privacy: a gateway with an API key table in front of a laneway worker, both at log level
// debug. Requests carry a distinctive prompt, key, user, stop string and header value (served,
// streamed, refused by the worker, refused by the gateway); none of them may appear in either
// log, while the access lines themselves are there (so the check looks at real log output).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import {
  cleanupAll, gatewayConfig, openStream, rawRequest, request, startGateway, startWorker, waitFor,
} from './harness.mjs';

after(cleanupAll);

const KEY = 'sk-privacy-4be1c0de9a7f';
const PROMPT = 'Zanzibar-prompt-canary-81c3 once upon a time';
const USER = 'user-canary-5d20';
const STOP = 'stop-canary-77e1';
const HEADER = 'header-canary-0b9e';
const CANARIES = [KEY, PROMPT, 'Zanzibar', USER, STOP, HEADER];

describe('logs carry no request content', () => {
  let gw;
  let worker;
  before(async () => {
    worker = await startWorker({ label: 'worker', args: ['--kv-memory', '16MiB', '--log-level', 'debug'] });
    const sha = crypto.createHash('sha256').update(KEY).digest('hex');
    gw = await startGateway({
      config: gatewayConfig({
        nodes: [{ name: 'w0', url: worker.url, kind: 'laneway' }],
        log: { level: 'debug' },
        raw: `[[lanes]]\nname = "default"\n\n[[keys]]\nname = "team"\nsha256 = "${sha}"\ntenant = "team"\n`,
      }),
    });
    await gw.waitHealthy(['w0']);
    await waitFor(async () => (await request(`${gw.url}/v1/models`, { headers: { authorization: `Bearer ${KEY}` } }))
      .json?.data?.some((m) => m.id === 'stories260K'), 10000, 'the gateway to list stories260K');
  });

  test('served, streamed and refused requests leave no prompt, key, user or header in the logs', async () => {
    const headers = { authorization: `Bearer ${KEY}`, 'x-team-note': HEADER };
    const body = { model: 'stories260K', messages: [{ role: 'user', content: PROMPT }], max_tokens: 8, temperature: 0,
      user: USER, stop: [STOP] };
    const plain = await request(`${gw.url}/v1/chat/completions`, { json: body, headers, timeoutMs: 30000 });
    assert.equal(plain.status, 200, plain.text);
    const completion = plain.json.choices[0].message.content;

    const s = await openStream(`${gw.url}/v1/chat/completions`, { json: { ...body, stream: true }, headers, timeoutMs: 30000 });
    assert.equal(s.status, 200);
    assert.equal((await s.end(30000)).ended, true);

    // Refused by the worker (an unknown role quoted in the error message) and by the gateway
    // (a wrong key, a wrong type, a malformed header carrying the canary).
    const badRole = await request(`${gw.url}/v1/chat/completions`, {
      json: { model: 'stories260K', messages: [{ role: PROMPT, content: PROMPT }] }, headers });
    assert.equal(badRole.status, 400, badRole.text);
    const badKey = await request(`${gw.url}/v1/chat/completions`, { json: body, headers: { authorization: `Bearer ${KEY}x` } });
    assert.equal(badKey.status, 401);
    const badType = await request(`${gw.url}/v1/chat/completions`, {
      json: { model: 'stories260K', messages: [{ role: 'user', content: 5 }], user: USER }, headers });
    assert.equal(badType.status, 400);
    const raw = await rawRequest(gw.port,
      `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${KEY}\r\nX-A: ${HEADER}\r\n folded\r\n\r\n`);
    assert.equal(raw.status, 400);

    // The access lines of these requests are in both logs (the worker's after the streams end).
    await waitFor(() => gw.logs.filter((l) => l.msg === 'request').length >= 6, 5000, 'gateway access lines');
    await waitFor(() => worker.logs.filter((l) => l.msg === 'request').length >= 3, 5000, 'worker access lines');
    assert.ok(gw.logs.some((l) => l.tenant === 'team'), 'the tenant is logged instead of the key');
    assert.ok(gw.logs.some((l) => l.msg === 'route candidates'), 'debug lines are there too');

    const texts = { gateway: gw.proc.stderrLines.join('\n'), worker: worker.proc.stderrLines.join('\n') };
    const words = completion.split(/\s+/).filter((w) => w.length >= 6);
    for (const [who, text] of Object.entries(texts)) {
      for (const c of CANARIES) assert.ok(!text.includes(c), `${who} log contains ${JSON.stringify(c)}`);
      if (completion.length >= 12) assert.ok(!text.includes(completion), `${who} log contains the completion`);
      for (const w of words) assert.ok(!text.includes(w), `${who} log contains the completion word ${JSON.stringify(w)}`);
    }
  });
});
