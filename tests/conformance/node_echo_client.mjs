// A Node `ws` echo client: the reference testee for run_suite.py's client mode
// (run_suite.py client --client-cmd 'node node_echo_client.mjs {url}'). A case that
// fails here too is a bug in the suite, not in aerie.
//
//   node node_echo_client.mjs URL [--no-deflate] [--max-payload BYTES]
//
// Echoes every message with its type until the server closes; exits 0 once the
// connection closed (whatever the code: the suite judges it), 1 if it never opened.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const WebSocket = require('../interop/node/node_modules/ws');

const args = process.argv.slice(2);
const url = args.find((a) => a.startsWith('ws://'));
const i = args.indexOf('--max-payload');
const ws = new WebSocket(url, {
  perMessageDeflate: !args.includes('--no-deflate'),
  maxPayload: i >= 0 ? Number(args[i + 1]) : 1 << 20,  // run_suite.py --limit's default
});
let opened = false;
ws.on('open', () => { opened = true; });
ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
ws.on('error', (err) => console.error(`node_echo_client: ${err.message}`));
ws.on('close', (code) => {
  console.error(`node_echo_client: closed ${code}`);
  process.exit(opened ? 0 : 1);
});
