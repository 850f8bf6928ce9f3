// Node `ws` echo server with permessage-deflate, the peer of bench/deflate_echo.sh.
//   node bench/deflate/ws_deflate_echo.mjs PORT shared|dedicated|off
// shared: no context takeover both ways (what `aerie serve` answers by default);
// dedicated: ws's default (context kept both ways); off: no compression.
// zlib settings are ws's defaults (level 6, memLevel 8, 15-bit window), as aerie's.
import { createRequire } from 'node:module';

// `ws` comes from the interop tests' lockfile (tests/interop/node: npm ci).
const require = createRequire(new URL('../../tests/interop/node/package.json', import.meta.url));
const { WebSocketServer } = require('ws');

const port = Number(process.argv[2] || 9001);
const mode = process.argv[3] || 'shared';
const perMessageDeflate = mode === 'off' ? false : {
  threshold: 64, // aerie's compressionThreshold
  serverNoContextTakeover: mode === 'shared',
  clientNoContextTakeover: mode === 'shared',
};
const wss = new WebSocketServer({ host: '127.0.0.1', port, perMessageDeflate, maxPayload: 64 * 1024 * 1024 });
wss.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
});
wss.on('listening', () => console.log(`ws_deflate_echo listening on ${port} (${mode})`));
