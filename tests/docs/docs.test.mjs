// docs/ checked against the code (ctest docs.check):
// (a) every config key in docs/configuration.md's key tables is accepted by the loaders, and
//     every key the loaders look up is in those tables: a file is built from the tables (each
//     key with its documented value), loaded by `laneway gateway|worker --print-keys -c FILE`,
//     and the printed keys compared with the documented ones. The loaders reject unknown keys,
//     so a documented key they do not know fails the load;
// (b) every `laneway SUBCOMMAND --flag` written in docs/*.md and README.md is in that
//     subcommand's --help;
// (c) every metric name in docs/metrics.md is exported by a live gateway or worker, or named in
//     the code (families that only appear after a rare event, and the foreign servers' names the
//     gateway reads);
// (d) every route in docs/api.md's route tables is served (no 404 not_found) by a live gateway
//     or worker.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { cleanupAll, makeTempDir, runLaneway, SOURCE_DIR } from '../integration/harness.mjs';
import { startFleet } from '../deploy/live_fleet.mjs';

after(cleanupAll);

const DOCS = path.join(SOURCE_DIR, 'docs');
const readDoc = (f) => fs.readFileSync(path.join(DOCS, f), 'utf8');

// ---- (a) config keys ---------------------------------------------------------------------------

// The key tables of one "## ... keys" section: [{table: "server" | "nodes", array, key, value}].
export function documentedKeys(markdown, section) {
  const start = markdown.indexOf(`\n## ${section}\n`);
  assert.ok(start >= 0, `docs/configuration.md has a "## ${section}" section`);
  const rest = markdown.slice(start + 1);
  const end = rest.indexOf('\n## ', 1);
  const body = end < 0 ? rest : rest.slice(0, end);
  const out = [];
  let table = null;
  let array = false;
  for (const line of body.split('\n')) {
    const h = /^### (\[\[?)([a-z_.]+)\]\]?/.exec(line);
    if (h) {
      table = h[2];
      array = h[1] === '[[';
      continue;
    }
    const row = /^\| `([a-z0-9_]+)` \|/.exec(line);
    if (!row || !table) continue;
    const cells = line.split(' | ');
    const value = /`([^`]+)`/.exec(cells[2] ?? '');
    assert.ok(value, `configuration.md: ${table}.${row[1]} has a value in backticks in its default column`);
    out.push({ table, array, key: row[1], value: value[1] });
  }
  return out;
}

function tomlFrom(keys) {
  const tables = new Map();
  for (const k of keys) {
    const head = k.array ? `[[${k.table}]]` : `[${k.table}]`;
    if (!tables.has(head)) tables.set(head, []);
    tables.get(head).push(`${k.key} = ${k.value}`);
  }
  return [...tables].map(([head, lines]) => `${head}\n${lines.join('\n')}\n`).join('\n');
}

const dotted = (k) => `${k.table}${k.array ? '[]' : ''}.${k.key}`;

async function checkLoader(command, section) {
  const keys = documentedKeys(readDoc('configuration.md'), section);
  assert.ok(keys.length > 10, `${section}: keys found`);
  const file = path.join(makeTempDir('laneway-docs-'), `${command}.toml`);
  fs.writeFileSync(file, tomlFrom(keys));
  const r = await runLaneway([command, '--print-keys', '-c', file], { timeoutMs: 20000 });
  assert.equal(r.code, 0, `the ${command} loader refuses a documented key or value:\n${r.stderr}\n--- ${file}:\n${fs.readFileSync(file, 'utf8')}`);
  const printed = new Set(r.stdout.split('\n').filter(Boolean));
  const documented = new Set([...keys.map(dotted), ...keys.map((k) => k.table)]);
  const undocumented = [...printed].filter((k) => !documented.has(k));
  assert.deepEqual(undocumented, [], `keys the ${command} loader accepts that docs/configuration.md ("## ${section}") does not list`);
  const unread = keys.map(dotted).filter((k) => !printed.has(k));
  assert.deepEqual(unread, [], `documented keys the ${command} loader never looks up`);
  return file;
}

describe('(a) docs/configuration.md lists exactly the keys the loaders accept', () => {
  // The comparison means something only because unknown keys are refused, by name: the last two
  // fields are a table the loader does not know and the error it must give.
  for (const [command, section, unknown, error] of [
    ['gateway', 'Gateway keys', '[[nodes]]\nurl = "http://127.0.0.1:1"\nno_such_key = 1', /nodes\[1\]\.no_such_key: unknown key/],
    ['worker', 'Worker keys', '[tuning]\nx = 1', /tuning: unknown key/],
  ]) {
    test(command, async () => {
      const file = await checkLoader(command, section);
      fs.appendFileSync(file, `\n${unknown}\n`);
      const r = await runLaneway([command, '--print-keys', '-c', file]);
      assert.equal(r.code, 2);
      assert.match(r.stderr, error);
    });
  }
});

describe('(a) dotted key names written anywhere in the docs exist', () => {
  test('docs/*.md and README.md', () => {
    const conf = readDoc('configuration.md');
    const known = new Set([...documentedKeys(conf, 'Gateway keys'), ...documentedKeys(conf, 'Worker keys')].map((k) => `${k.table}.${k.key}`));
    const tables = [...new Set([...known].map((k) => k.split('.')[0]))].join('|');
    const re = new RegExp(`\`(${tables})(?:\\[\\d*\\])?\\.([a-z_]+)\``, 'g');
    const files = [...fs.readdirSync(DOCS).filter((f) => f.endsWith('.md')).map((f) => path.join(DOCS, f)), path.join(SOURCE_DIR, 'README.md')];
    const problems = [];
    let seen = 0;
    for (const file of files) {
      for (const line of fs.readFileSync(file, 'utf8').split('\n')) for (const m of line.matchAll(re)) {
        if (/^(md|cpp|hpp|toml|mjs|json|py|sh)$/.test(m[2])) continue;  // a file name such as `routing.md`
        if (/\bctest\b/.test(line)) continue;  // a ctest entry such as `routing.sim_smoke`
        seen++;
        if (!known.has(`${m[1]}.${m[2]}`)) problems.push(`${path.relative(SOURCE_DIR, file)}: \`${m[0].slice(1, -1)}\` is not a config key`);
      }
    }
    assert.ok(seen > 30, `dotted keys seen: ${seen}`);
    assert.deepEqual([...new Set(problems)], []);
  });
});

// ---- (b) flags -------------------------------------------------------------------------------

// Code in a markdown file: fenced blocks line by line, and inline `spans`.
function codeFragments(markdown) {
  const out = [];
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (/^\s*```/.test(line)) {
      fenced = !fenced;
      continue;
    }
    if (fenced) out.push(line);
    else for (const m of line.matchAll(/`([^`]+)`/g)) out.push(m[1]);
  }
  return out;
}

// `laneway SUB args` uses in a code fragment: [{sub, flags}]; a shell separator or a comment
// ends the command (what follows a pipe is another program's flags).
export function lanewayUses(fragment) {
  const out = [];
  for (const m of fragment.matchAll(/(?:^|[\s(])(\S*\/)?laneway\s+([a-z][a-z0-9-]*|--?[a-zA-Z-]+)([^|;&#>]*)/g)) {
    if (m[1]?.includes('=')) continue;  // LANEWAY_BIN=build/tools/cli/laneway node ...: a path, not a command
    const flags = [...m[3].matchAll(/(?:^|\s)(--[a-z][a-z0-9-]*)/g)].map((f) => f[1]);
    out.push({ sub: m[2], flags });
  }
  return out;
}

describe('(b) every `laneway SUBCOMMAND --flag` in the docs exists', () => {
  test('docs/*.md and README.md', async () => {
    const top = await runLaneway(['help']);
    const subs = new Set([...top.stdout.matchAll(/^ {2}([a-z][a-z0-9-]*)\s/gm)].map((m) => m[1]));
    assert.ok(subs.has('gateway') && subs.has('worker') && subs.has('kv'), `subcommands: ${[...subs]}`);
    const helps = new Map();
    const helpOf = async (sub) => {
      if (!helps.has(sub)) {
        const r = await runLaneway([sub, '--help']);
        helps.set(sub, new Set([...`${r.stdout}\n${r.stderr}`.matchAll(/--[a-z][a-z0-9-]*/g)].map((m) => m[0])));
      }
      return helps.get(sub);
    };
    const files = [...fs.readdirSync(DOCS).filter((f) => f.endsWith('.md')).map((f) => path.join(DOCS, f)),
      path.join(SOURCE_DIR, 'README.md')];
    const problems = [];
    let checked = 0;
    for (const file of files) {
      const where = path.relative(SOURCE_DIR, file);
      for (const frag of codeFragments(fs.readFileSync(file, 'utf8'))) {
        for (const use of lanewayUses(frag)) {
          if (use.sub.startsWith('-')) {
            if (!/^(--version|-V|--help|-h)$/.test(use.sub)) problems.push(`${where}: \`laneway ${use.sub}\` is not a top-level flag`);
            continue;
          }
          if (use.sub === 'help') continue;
          if (!subs.has(use.sub)) {
            problems.push(`${where}: \`laneway ${use.sub}\` is not a subcommand (laneway help lists ${[...subs].join(', ')})`);
            continue;
          }
          const known = await helpOf(use.sub);
          for (const f of use.flags) {
            checked++;
            if (!known.has(f)) problems.push(`${where}: \`laneway ${use.sub} ${f}\` is not in \`laneway ${use.sub} --help\``);
          }
        }
      }
    }
    assert.ok(checked > 20, `flags checked: ${checked}`);
    assert.deepEqual([...new Set(problems)], []);
  });

  test('the extractor', () => {
    assert.deepEqual(lanewayUses('laneway kv -m x.gguf --ctx 8192 --seqs 8 | grep --color fits'), [{ sub: 'kv', flags: ['--ctx', '--seqs'] }]);
    assert.deepEqual(lanewayUses('curl --data x && laneway gateway -c f --check  # --nope'), [{ sub: 'gateway', flags: ['--check'] }]);
    assert.deepEqual(lanewayUses('/usr/local/bin/laneway worker --port 0'), [{ sub: 'worker', flags: ['--port'] }]);
    assert.deepEqual(lanewayUses('laneway_requests_total'), []);
    assert.deepEqual(lanewayUses('LANEWAY_BIN=build/tools/cli/laneway node bench.mjs --model x'), []);
  });
});

// ---- (c) metric names ------------------------------------------------------------------------

function sourceText() {
  let text = '';
  const walk = (dir) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.(cpp|hpp)$/.test(e.name)) text += fs.readFileSync(p, 'utf8');
    }
  };
  for (const d of ['gateway', 'backends', 'routing', 'tools']) walk(path.join(SOURCE_DIR, d));
  return text;
}

// The status of METHOD url, resolved on the response head (an SSE route never ends by itself).
function statusOf(url, method) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers: { 'content-type': 'application/json' }, timeout: 10000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => {
        body += d;
      });
      const done = () => {
        req.destroy();
        let code = null;
        try {
          code = JSON.parse(body).error?.code ?? null;
        } catch { /* not JSON */ }
        resolve({ status: res.statusCode, code });
      };
      if (/event-stream/.test(res.headers['content-type'] ?? '')) done();
      else res.on('end', done);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${url}: no answer within 10 s`)));
    req.on('error', reject);
    req.end(method === 'POST' ? '{}' : undefined);
  });
}

// [{path, method}] of the route table under "## SECTION" in docs/api.md.
function documentedRoutes(markdown, section) {
  const start = markdown.indexOf(`\n## ${section}\n`);
  assert.ok(start >= 0, `docs/api.md has "## ${section}"`);
  const body = markdown.slice(start + 1).split('\n## ')[0];
  return [...body.matchAll(/^\| `(\/[^`]*)` \| (GET|POST) \|/gm)].map((m) => ({ path: m[1], method: m[2] }));
}

describe('live gateway and worker', () => {
  let fleet;
  let names;
  before(async () => {
    fleet = await startFleet();
    names = (await fleet.scrape()).names;
  });

  test('(c) every metric in docs/metrics.md is exported or named in the code', () => {
    const doc = readDoc('metrics.md');
    const mentioned = [...new Set([...doc.matchAll(/`((?:laneway|vllm|llamacpp)[_:][a-z0-9_:]+)`/g)].map((m) => m[1]))];
    assert.ok(mentioned.length > 25, `metric names found: ${mentioned.length}`);
    const code = sourceText();
    const live = mentioned.filter((n) => names.has(n));
    assert.ok(live.length > 15, `live: ${live.length}`);
    const missing = mentioned.filter((n) => !names.has(n) && !code.includes(`"${n}`));
    assert.deepEqual(missing, [], 'metric names in docs/metrics.md that neither a live process exports nor the code names');
  });

  test('(d) every route in docs/api.md is served', async () => {
    const doc = readDoc('api.md');
    const problems = [];
    for (const [section, base] of [['Gateway routes', fleet.gw.url], ['Worker routes', fleet.worker.url]]) {
      const routes = documentedRoutes(doc, section);
      assert.ok(routes.length >= 8, `${section}: ${routes.length} routes`);
      for (const r of routes) {
        const url = base + r.path.replace('{id}', 'stories260K');
        const got = await statusOf(url, r.method);
        if (got.status === 404 && got.code !== 'model_not_found') problems.push(`${section}: ${r.method} ${r.path} → 404 ${got.code}`);
        if (got.status === 405) problems.push(`${section}: ${r.method} ${r.path} → 405`);
      }
    }
    assert.deepEqual(problems, []);
    // Live: an undocumented path is a 404 not_found on both.
    assert.deepEqual(await statusOf(`${fleet.gw.url}/v1/nope`, 'GET'), { status: 404, code: 'not_found' });
  });
});
