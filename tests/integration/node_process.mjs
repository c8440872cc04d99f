// What the scripted nodes (fake_upstream.mjs, faults_node.mjs) share as processes: the common
// command-line options, stopping on SIGTERM/SIGINT or when stdin closes (the harness keeps their
// stdin open, so a test runner that dies takes them along), and the one `listening` line on
// stdout the harness waits for. Kept apart from harness.mjs, which installs the test process's
// own signal handlers.
import { parseArgs } from 'node:util';

// Parses argv: --port (0), --host (127.0.0.1), --name, --models (comma list), --exit-on-stdin-close,
// plus `options` (node:util parseArgs specs). Unknown options are an error.
export function parseNodeArgs({ name, options = {} }) {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '0' },
      host: { type: 'string', default: '127.0.0.1' },
      name: { type: 'string', default: name },
      models: { type: 'string', default: 'fake-model' },
      'exit-on-stdin-close': { type: 'boolean', default: false },
      ...options,
    },
    strict: true,
  });
  return values;
}

// Calls `shutdown` (once) on SIGTERM, SIGINT and, with --exit-on-stdin-close, when stdin ends.
export function stopOnSignals(args, shutdown) {
  let stopping = false;
  const once = () => {
    if (stopping) return;
    stopping = true;
    shutdown();
  };
  process.on('SIGTERM', once);
  process.on('SIGINT', once);
  if (args['exit-on-stdin-close']) {
    process.stdin.on('end', once);
    process.stdin.on('close', once);
    process.stdin.on('error', once);
    process.stdin.resume();
  }
}

// Listens on --host/--port and prints {"event":"listening","port","host","name",...fields};
// a listen error is printed on stderr and ends the process with status 1.
export function listenAndAnnounce(server, args, fields = {}) {
  server.on('error', (err) => {
    process.stderr.write(`${args.name}: ${err.message}\n`);
    process.exit(1);
  });
  server.listen(Number(args.port), args.host, () => {
    const { port } = server.address();
    process.stdout.write(`${JSON.stringify({ event: 'listening', port, host: args.host, name: args.name, ...fields })}\n`);
  });
}
