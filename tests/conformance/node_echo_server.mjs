// A Node `ws` echo server: the reference testee for run_suite.py's server mode
// (run_suite.py server --spawn 'node node_echo_server.mjs ...'). A case that fails here too
// is a bug in the suite, not in aerie.
//
//   node node_echo_server.mjs [--no-deflate] [--threshold N] [--server-no-context-takeover]
//        [--client-no-context-takeover] [--server-max-window-bits N]
//        [--client-max-window-bits N] [--max-payload BYTES] [--max-fragments N] [--port P]
//
// --max-fragments: ws's limit on the frames of one message (default 16384, 0: none); the
// suite's 4 MiB message in 64-byte fragments (9.3.1) has 65536.
//
// Prints "listening on ws://127.0.0.1:P" once listening; echoes every message with its
// type; stops on SIGTERM/SIGINT.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { WebSocketServer } = require('../interop/node/node_modules/ws');

const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const value = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};

let perMessageDeflate = false;
if (!flag('--no-deflate')) {
  perMessageDeflate = {
    // ws compresses only messages of at least `threshold` bytes (default 1024).
    threshold: value('--threshold', 1024),
  };
  // Only when asked: ws declines (with a 400) offers asking for what is set to false.
  if (flag('--server-no-context-takeover')) perMessageDeflate.serverNoContextTakeover = true;
  if (flag('--client-no-context-takeover')) perMessageDeflate.clientNoContextTakeover = true;
  // Unset = accept whatever the client offers (ws's defaults).
  if (args.includes('--server-max-window-bits')) {
    perMessageDeflate.serverMaxWindowBits = value('--server-max-window-bits');
  }
  if (args.includes('--client-max-window-bits')) {
    perMessageDeflate.clientMaxWindowBits = value('--client-max-window-bits');
  }
}

const wss = new WebSocketServer({
  host: '127.0.0.1',
  port: value('--port', 0),
  perMessageDeflate,
  maxPayload: value('--max-payload', 1 << 20),  // run_suite.py --limit's default
  maxFragments: value('--max-fragments', 16 * 1024),
});
wss.on('listening', () => {
  console.log(`listening on ws://127.0.0.1:${wss.address().port}`);
});
wss.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  ws.on('error', () => {});  // protocol errors close the connection; nothing to add
});
const stop = () => {
  for (const ws of wss.clients) ws.terminate();
  wss.close(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
