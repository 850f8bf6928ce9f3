// Node `ws` echo server over TLS (https.createServer) or plain HTTP, the peer of
// bench/tls_echo.sh.
//   node bench/tls/ws_tls_echo.mjs PORT tls CERT KEY     (PORT 0: any free port)
//   node bench/tls/ws_tls_echo.mjs PORT plain
// perMessageDeflate off: the benchmark measures TLS and framing, not zlib (aerie-client-echo
// does not offer compression either). Node's TLS defaults otherwise (TLS 1.2-1.3, session
// tickets on), as a Node deployment would run.
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createRequire } from 'node:module';

// `ws` comes from the interop tests' lockfile (tests/interop/node: npm ci).
const require = createRequire(new URL('../../tests/interop/node/package.json', import.meta.url));
const { WebSocketServer } = require('ws');

const [portArg, mode = 'tls', certFile, keyFile] = process.argv.slice(2);
const port = Number(portArg || 0);
let server;
if (mode === 'tls') {
  if (!certFile || !keyFile) throw new Error('usage: ws_tls_echo.mjs PORT tls CERT KEY');
  server = createHttpsServer({ cert: readFileSync(certFile), key: readFileSync(keyFile) });
} else if (mode === 'plain') {
  server = createHttpServer();
} else {
  throw new Error(`unknown mode ${mode}: tls or plain`);
}
const wss = new WebSocketServer({ server, perMessageDeflate: false, maxPayload: 64 * 1024 * 1024 });
wss.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
});
// Port 0: any free port; the line below says which (bench/tls_echo.sh reads it).
server.listen(port, '127.0.0.1', () =>
  console.log(`ws_tls_echo listening on 127.0.0.1:${server.address().port} (${mode})`));
