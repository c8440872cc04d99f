// A real `laneway worker` killed (SIGKILL) while it streams: its clients get an SSE error event
// and a properly ended stream, the streams on the other worker finish untouched, the gateway
// ejects the dead node (metrics and /ready show it) and keeps serving from the other, and a
// worker started again on the same port rejoins and serves.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  cleanupAll, openStream, request, startGatewayOver, startWorker, startWorkers, waitFor,
} from './harness.mjs';

after(cleanupAll);

const MODEL = 'stories260K';
// Long enough that every stream is still running when the worker dies (ignore_eos: no early stop).
const LONG = { model: MODEL, prompt: 'Once upon a time', max_tokens: 2000, ignore_eos: true, temperature: 0, stream: true,
  stream_options: { include_usage: true } };
const SHORT = { model: MODEL, messages: [{ role: 'user', content: 'Tell me a story' }], max_tokens: 8, temperature: 0 };

async function running(w) {
  return (await w.load()).running;
}

describe('a worker killed mid-stream', () => {
  test('SSE error for its clients, the other worker untouched, ejection, rejoin on the same port', async () => {
    const args = ['--kv-memory', '32MiB'];
    const workers = await startWorkers(2, { args });
    const gw = await startGatewayOver(workers, { model: MODEL, upstream: { retries: 1 } });

    // Two streams on each worker: least_in_flight puts each new one on the less busy node.
    const streams = [];
    for (let i = 0; i < 4; i++) {
      const s = await openStream(`${gw.url}/v1/completions`, { json: LONG, headers: { 'x-request-id': `kill-${i}` } });
      assert.equal(s.status, 200);
      assert.ok(await s.nextEvent(10000), `stream ${i} started`);
      streams.push(s);
    }
    await waitFor(async () => (await running(workers[0])) === 2 && (await running(workers[1])) === 2, 10000,
      'two streams running on each worker');

    const ejectionsBefore = await gw.metric('laneway_node_ejections_total', { node: 'w0' });
    await workers[0].stop('SIGKILL');
    const ends = await Promise.all(streams.map((s) => s.end(60000)));

    const failed = streams.filter((s) => s.events.some((e) => e.event === 'error'));
    const finished = streams.filter((s) => s.events.at(-1)?.data === '[DONE]');
    assert.equal(failed.length, 2, `the killed worker's two clients got an error event: ${streams.map((s) => s.events.at(-1)?.raw).join(' | ')}`);
    assert.equal(finished.length, 2, "the other worker's two streams finished");
    for (const s of failed) {
      const last = s.events.at(-1);
      assert.equal(last.event, 'error', 'the error event is the last one');
      const err = JSON.parse(last.data).error;
      assert.equal(err.code, 'upstream_reset', `an OpenAI error object: ${last.data}`);
      assert.match(err.message, /node w0/);
      assert.ok(!s.events.some((e) => e.data === '[DONE]'));
    }
    ends.forEach((e, i) => assert.equal(e.ended, true, `stream ${i} ended properly (chunked terminator): ${e.error?.message}`));
    for (const s of finished) {
      const chunks = s.events.filter((e) => e.data !== '[DONE]').map((e) => JSON.parse(e.data));
      assert.equal(chunks.find((c) => c.choices?.[0]?.finish_reason)?.choices[0].finish_reason, 'length');
      assert.equal(chunks.find((c) => c.usage)?.usage.completion_tokens, LONG.max_tokens, 'every token of the untouched stream arrived');
    }

    // The dead node is ejected and shown as such; the other serves every request meanwhile.
    await gw.waitHealthy(['w0'], 0);
    assert.ok((await gw.metric('laneway_node_ejections_total', { node: 'w0' })) > ejectionsBefore, 'the ejection is counted');
    assert.ok((await gw.metric('laneway_upstream_errors_total', { node: 'w0' })) >= 2, 'the cut streams count against w0');
    assert.equal(await gw.ready(), 200, 'still ready: w1 is healthy');
    for (let i = 0; i < 4; i++) {
      const r = await request(`${gw.url}/v1/chat/completions`, { json: SHORT, timeoutMs: 20000 });
      assert.equal(r.status, 200, r.text);
    }

    // A worker started again on the same port rejoins and gets traffic.
    const again = await startWorker({ label: 'worker-0b', args, port: workers[0].port });
    await gw.waitHealthy(['w0'], 1, 15000);
    await waitFor(async () => {
      const r = await request(`${gw.url}/v1/chat/completions`, { json: SHORT, timeoutMs: 20000 });
      assert.equal(r.status, 200, r.text);
      return again.logs.some((l) => l.msg === 'request');
    }, 20000, 'a request served by the restarted worker');
    await waitFor(async () => (await running(workers[1])) === 0 && (await running(again)) === 0, 10000, 'both workers idle');
  });
});
