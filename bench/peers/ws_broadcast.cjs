'use strict';
// ws_broadcast: the Node `ws` fan-out peer of bench/fanout.sh. Every message goes to every
// other open client, the way a Node application does it: a loop over wss.clients calling
// send() (ws frames the payload again for each client). permessage-deflate off, as the
// aerie side (aerie-bench does not offer it).
// Usage: NODE_PATH=tests/interop/node/node_modules node bench/peers/ws_broadcast.cjs PORT
const { WebSocketServer, WebSocket } = require('ws');

const port = Number(process.argv[2] || 9001);
const wss = new WebSocketServer({ host: '127.0.0.1', port, perMessageDeflate: false });

wss.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => {
    for (const client of wss.clients) {
      if (client !== ws && client.readyState === WebSocket.OPEN) client.send(data, { binary: isBinary });
    }
  });
});
wss.on('listening', () => console.log(`ws_broadcast listening on 127.0.0.1:${port}`));
