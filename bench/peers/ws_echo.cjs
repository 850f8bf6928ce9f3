'use strict';
// ws_echo: the Node `ws` echo peer of bench/suite.sh. Every message goes back with its type
// (text stays text). permessage-deflate off (aerie-bench does not offer it); a message limit
// large enough for every workload. ws's optional native add-ons (bufferutil, utf-8-validate)
// are not installed here, as in a default `npm install ws`.
// Usage: NODE_PATH=tests/interop/node/node_modules node bench/peers/ws_echo.cjs PORT
const { WebSocketServer } = require('ws');

const port = Number(process.argv[2] || 9001);
const wss = new WebSocketServer({
  host: '127.0.0.1', port, perMessageDeflate: false, maxPayload: 128 * 1024 * 1024,
});

wss.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
});
wss.on('listening', () => console.log(`ws echo listening on 127.0.0.1:${port}`));
