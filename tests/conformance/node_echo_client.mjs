// A Node `ws` echo client: the reference testee for run_suite.py's client mode
// (run_suite.py client --client-cmd 'node node_echo_client.mjs {url}'). A case that
// fails here too is a bug in the suite, not in aerie.
//
//   node node_echo_client.mjs URL [--no-deflate] [--max-payload BYTES] [--max-fragments N]
//        [--loop]
//
// --loop: connect again to URL after each connection ends (run_suite.py --client-loop: one
// process for all cases, not one Node start per case); exits 0 once a connection fails to
// open (the suite stopped listening).
//
// --max-fragments: ws's limit on the frames of one message (0: none); the suite's 4 MiB
// message in 64-byte fragments (9.3.1) has 65536.
//
// Echoes every message with its type until the server closes; exits 0 once the
// connection closed (whatever the code: the suite judges it), 1 if it never opened.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const WebSocket = require('../interop/node/node_modules/ws');

const args = process.argv.slice(2);
const url = args.find((a) => a.startsWith('ws://'));
const value = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const options = {
  perMessageDeflate: !args.includes('--no-deflate'),
  maxPayload: value('--max-payload', 1 << 20),  // run_suite.py --limit's default
};
if (args.includes('--max-fragments')) options.maxFragments = value('--max-fragments');
const loop = args.includes('--loop');
let connections = 0;

function connect() {
  const ws = new WebSocket(url, options);
  let opened = false;
  ws.on('open', () => { opened = true; connections += 1; });
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  ws.on('error', (err) => console.error(`node_echo_client: ${err.message}`));
  ws.on('close', (code) => {
    console.error(`node_echo_client: closed ${code}`);
    if (loop && opened) connect();
    else process.exit(opened || (loop && connections > 0) ? 0 : 1);
  });
}
connect();
