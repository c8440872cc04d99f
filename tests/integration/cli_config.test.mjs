// The command line and configuration checking: --version, help, `gateway -c FILE --check` on the
// shipped example configs and on a table of bad ones (each rejected with exit 2, the key named),
// and `gateway --listen ... --node URL` without a file.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  SOURCE_DIR,
  chatBody,
  cleanupAll,
  request,
  runLaneway,
  startGateway,
  startUpstream,
  writeTempFile,
} from './harness.mjs';

after(cleanupAll);

const NODE = '[[nodes]]\nname = "a"\nurl = "http://127.0.0.1:9"\n';

async function check(toml) {
  const file = writeTempFile('check.toml', toml);
  const r = await runLaneway(['gateway', '-c', file, '--check']);
  return { ...r, file };
}

describe('command line', () => {
  test('--version prints the version and exits 0', async () => {
    const r = await runLaneway(['--version']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^laneway \d+\.\d+\.\d+/);
  });

  test('help lists the gateway subcommand and exits 0', async () => {
    const r = await runLaneway(['help']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /usage: laneway/);
    assert.match(r.stdout, /^\s+gateway\s/m);
  });

  test('gateway --help names its options and exits 0', async () => {
    const r = await runLaneway(['gateway', '--help']);
    assert.equal(r.code, 0, r.stderr);
    const text = r.stdout + r.stderr;
    for (const opt of ['-c', '--node', '--listen', '--check']) assert.ok(text.includes(opt), `gateway --help mentions ${opt}:\n${text}`);
  });

  test('an unknown subcommand exits 2', async () => {
    const r = await runLaneway(['no-such-subcommand']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /no-such-subcommand/);
  });
});

describe('config --check', () => {
  test('the shipped gateway configs pass --check', async () => {
    const dir = path.join(SOURCE_DIR, 'conf');
    const files = fs.readdirSync(dir).filter((f) => /^gateway.*\.toml$/.test(f));
    assert.ok(files.includes('gateway.toml'), `conf/gateway.toml exists (found: ${files.join(', ')})`);
    for (const f of files) {
      const r = await runLaneway(['gateway', '-c', path.join(dir, f), '--check']);
      assert.equal(r.code, 0, `conf/${f} --check: exit ${r.code}\n${r.stderr}`);
      assert.match(r.stdout, /configuration ok/, `conf/${f}: says so`);
    }
  });

  test('a complete config with every documented key passes --check', async () => {
    const r = await check(`
[server]
listen = "127.0.0.1:0"
io_threads = 2
max_connections = 1024
max_header_bytes = 16384
max_body_bytes = 16777216
header_timeout = "10s"
body_timeout = "30s"
idle_timeout = "60s"
shutdown_grace = "30s"
[upstream]
connect_timeout = "2s"
response_timeout = "300s"
stream_idle_timeout = "60s"
max_idle_per_node = 32
pool_idle_timeout = "30s"
max_connection_age = "300s"
retries = 1
[health]
path = "/health"
interval = "2s"
timeout = "1s"
unhealthy_threshold = 2
healthy_threshold = 1
circuit_failures = 3
circuit_cooldown = "10s"
models_refresh = "30s"
[routing]
policy = "least_in_flight"
[log]
level = "info"
[[nodes]]
name = "a"
url = "http://127.0.0.1:8081"
kind = "openai"
health_path = "/health"
models = ["m1", "m2"]
[[nodes]]
name = "b"
url = "http://127.0.0.1:8082"
`);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /configuration ok: 2 node/, r.stdout);
  });

  // [what, TOML, the key the message must name]
  const bad = [
    ['io_threads 0', '[server]\nio_threads = 0\n' + NODE, 'server.io_threads'],
    ['io_threads not an integer', '[server]\nio_threads = "two"\n' + NODE, 'server.io_threads'],
    ['listen without a port', '[server]\nlisten = "nonsense"\n' + NODE, 'server.listen'],
    ['max_header_bytes too small', '[server]\nmax_header_bytes = 10\n' + NODE, 'server.max_header_bytes'],
    ['max_body_bytes negative', '[server]\nmax_body_bytes = -5\n' + NODE, 'server.max_body_bytes'],
    ['duration with a bad unit', '[server]\nheader_timeout = "10 parsecs"\n' + NODE, 'server.header_timeout'],
    ['duration not a number', '[upstream]\nconnect_timeout = "fast"\n' + NODE, 'upstream.connect_timeout'],
    ['negative duration', '[server]\nidle_timeout = "-1s"\n' + NODE, 'server.idle_timeout'],
    ['retries negative', '[upstream]\nretries = -1\n' + NODE, 'upstream.retries'],
    ['pool idle longer than max age', '[upstream]\npool_idle_timeout = "10m"\nmax_connection_age = "1m"\n' + NODE, 'upstream.pool_idle_timeout'],
    ['unhealthy_threshold 0', '[health]\nunhealthy_threshold = 0\n' + NODE, 'health.unhealthy_threshold'],
    ['health path without a slash', '[health]\npath = "health"\n' + NODE, 'health.path'],
    ['probe timeout longer than the interval', '[health]\ninterval = "1s"\ntimeout = "5s"\n' + NODE, 'health.timeout'],
    ['unknown routing policy', '[routing]\npolicy = "random_walk"\n' + NODE, 'routing.policy'],
    ['unknown log level', '[log]\nlevel = "loud"\n' + NODE, 'log.level'],
    ['node url with a bad scheme', '[[nodes]]\nname = "a"\nurl = "ftp://127.0.0.1:21"\n', 'nodes[0].url'],
    ['node without a url', '[[nodes]]\nname = "a"\n', 'nodes[0].url'],
    ['unknown node kind', NODE + 'kind = "magic"\n', 'nodes[0].kind'],
    ['node models not strings', NODE + 'models = [1, 2]\n', 'nodes[0].models'],
    ['duplicate node names', NODE + NODE, 'nodes[1].name'],
    ['no nodes at all', '[server]\nio_threads = 2\n', 'nodes'],
    ['unknown key in a table', '[server]\ncolour = "blue"\n' + NODE, 'server.colour'],
    ['unknown key in a node', NODE + 'flavour = "vanilla"\n', 'nodes[0].flavour'],
    ['unknown top-level table', '[frobnicate]\nx = 1\n' + NODE, 'frobnicate'],
    ['server not a table', 'server = 3\n' + NODE, 'server'],
  ];
  for (const [what, toml, key] of bad) {
    test(`rejects: ${what} (${key})`, async () => {
      const r = await check(toml);
      assert.equal(r.code, 2, `exit code for ${what}: ${r.code}\nstderr: ${r.stderr}`);
      assert.ok(r.stderr.includes(key), `stderr names ${key}: ${r.stderr}`);
    });
  }

  test('a TOML syntax error exits 2 and names the file', async () => {
    const r = await check('[server\nio_threads = 2\n');
    assert.equal(r.code, 2, r.stderr);
    assert.ok(r.stderr.includes(path.basename(r.file)), r.stderr);
  });

  test('a missing config file exits 2', async () => {
    const r = await runLaneway(['gateway', '-c', '/nonexistent/laneway.toml', '--check']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /nonexistent/);
  });

  test('a bad config also stops a real start with exit 2', async () => {
    const file = writeTempFile('bad.toml', '[server]\nio_threads = 0\n' + NODE);
    const r = await runLaneway(['gateway', '-c', file], { timeoutMs: 5000 });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /server\.io_threads/);
  });
});

describe('command-line overrides', () => {
  const cases = [
    ['--listen without a port', ['--listen', 'nonsense', '--node', 'http://127.0.0.1:8081'], '--listen'],
    ['--node with a bad scheme', ['--node', 'ftp://127.0.0.1:21'], '--node'],
    ['--policy unknown', ['--node', 'http://127.0.0.1:8081', '--policy', 'coin_flip'], '--policy'],
    ['--log-level unknown', ['--node', 'http://127.0.0.1:8081', '--log-level', 'chatty'], '--log-level'],
    ['--io-threads 0', ['--node', 'http://127.0.0.1:8081', '--io-threads', '0'], '--io-threads'],
    ['no node at all', ['--listen', '127.0.0.1:0'], 'nodes'],
    ['an unknown flag', ['--node', 'http://127.0.0.1:8081', '--frobnicate'], '--frobnicate'],
  ];
  for (const [what, args, key] of cases) {
    test(`rejects ${what} with exit 2`, async () => {
      const r = await runLaneway(['gateway', ...args, '--check']);
      assert.equal(r.code, 2, `exit ${r.code}: ${r.stderr}`);
      assert.ok((r.stderr + r.stdout).includes(key), `names ${key}: ${r.stderr}`);
    });
  }

  test('flags override the file', async () => {
    const file = writeTempFile('over.toml', '[server]\nlisten = "127.0.0.1:1"\n' + NODE);
    const r = await runLaneway(['gateway', '-c', file, '--listen', '127.0.0.1:0', '--check']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /listen 127\.0\.0\.1:0\b/, `the flag wins over the file: ${r.stdout}`);
  });

  test('a listen address already in use fails the start with a message', async () => {
    const net = await import('node:net');
    const srv = net.createServer();
    await new Promise((res) => srv.listen(0, '127.0.0.1', res));
    const port = srv.address().port;
    try {
      const r = await runLaneway(['gateway', '--listen', `127.0.0.1:${port}`, '--node', 'http://127.0.0.1:9'], { timeoutMs: 5000 });
      assert.notEqual(r.code, 0, 'a non-zero exit');
      assert.ok(r.code !== null, `exited on its own (signal ${r.signal})`);
      assert.match(r.stderr, /in use|cannot start|bind/i, r.stderr);
    } finally {
      srv.close();
    }
  });
});

describe('gateway without a config file', () => {
  test('--listen and --node start a working gateway', async () => {
    const up = await startUpstream({ name: 'solo' });
    const gw = await startGateway({ args: ['--listen', '127.0.0.1:0', '--node', up.url] });
    const r = await request(`${gw.url}/v1/chat/completions`, { json: chatBody() });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.choices[0].message.content, 'Hello from solo Hello from');
    const code = await gw.stop();
    assert.equal(code.code, 0);
  });
});
