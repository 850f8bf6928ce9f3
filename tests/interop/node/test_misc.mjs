// broadcast / multicast, close codes both ways, a denied handshake and ping/pong, with the
// Node `ws` client against aerie-test-server.
import { WebSocket, check, checkEq, eventsDump, run, sleep, waitUntil, withTimeout } from './common.mjs';

async function idOf(client) {
  const hello = await client.next('the id:N greeting');
  check(hello.startsWith('id:'), `first message ${JSON.stringify(hello)}, expected id:N`);
  return Number(hello.slice(3));
}

const cases = {
  async broadcast(ctx) {
    const server = await ctx.server('--heartbeat-ms', 0, '--connections-per-ip', 100);
    const clients = await Promise.all(Array.from({ length: 30 }, () => ctx.open(server.url('/broadcast'))));
    await clients[0].send('from #0');
    await clients[29].send(Buffer.from([0, 1, 2, 255]));
    // Two senders, possibly on two worker threads: the two broadcasts may reach a client in
    // either order (each sender's own messages stay in order; across senders nothing orders them).
    for (const [i, client] of clients.entries()) {
      const expected = [];
      if (i !== 0) expected.push('from #0');
      if (i !== 29) expected.push('000102ff');
      const got = [];
      for (let k = 0; k < expected.length; ++k) {
        const message = await client.next(`broadcast ${k + 1} of ${expected.length} at #${i}`);
        got.push(typeof message === 'string' ? message : message.toString('hex'));
      }
      checkEq(got.sort().join('|'), expected.sort().join('|'), `client #${i}: the two broadcasts`);
    }
    // Nobody got its own message: the next broadcast is everyone's next message.
    await clients[5].send('marker');
    for (const [i, client] of clients.entries()) {
      if (i !== 5) checkEq(await client.next(`the marker at #${i}`), 'marker', `client #${i}: next message`);
    }
    // multicast and broadcast with exceptIds on /multicast.
    const members = await Promise.all(Array.from({ length: 6 }, () => ctx.open(server.url('/multicast'))));
    const ids = [];
    for (const member of members) ids.push(await idOf(member));
    await members[0].send(`to:${ids[1]},${ids[4]}:for 1 and 4`);
    await members[0].send(`binexcept:${ids[0]},${ids[2]}:not for 0 and 2`);
    await members[0].send('all:end');
    for (const [i, member] of members.entries()) {
      if (i === 1 || i === 4) checkEq(await member.next(`multicast at #${i}`), 'for 1 and 4', `member #${i}: multicast`);
      if (i !== 0 && i !== 2) {
        checkEq(await member.next(`broadcast at #${i}`), Buffer.from('not for 0 and 2'), `member #${i}: binary broadcast with exceptIds`);
      }
      checkEq(await member.next(`'end' at #${i}`), 'end', `member #${i}: nothing else before 'end'`);
    }
    await Promise.all([...clients, ...members].map((c) => c.close()));
  },

  async close_codes(ctx) {
    const server = await ctx.server('--heartbeat-ms', 0);
    // Server-initiated: Endpoint::close(id, code, reason).
    for (const [code, reason] of [[1000, 'bye'], [1001, 'going'], [1011, 'error'], [4321, 'custom ünïcode']]) {
      const client = await ctx.open(server.url('/close'));
      await client.send(`${code} ${reason}`);
      const extra = await client.expectClosed(code, reason, `close(${code}, ${reason})`);
      checkEq(extra, [], `close(${code}): messages after close()`);
    }
    // Client-initiated: the server echoes the code; onClose sees code and reason.
    const client = await ctx.open(server.url('/events'));
    const id = await idOf(client);
    client.ws.close(4002, 'node says bye');
    await client.expectClosed(4002, undefined, 'the echo of a client close');
    const lines = await waitUntil(async () => {
      const found = (await eventsDump(ctx, server)).filter((l) => l.startsWith(`close events ${id} `));
      return found.length ? found : null;
    }, 5000, `onClose of client ${id}`);
    checkEq(lines, [`close events ${id} 4002 node says bye`], 'onClose after the client closed');
    // Abrupt end (no close frame): onClose with 1006.
    const dropped = await ctx.open(server.url('/events'));
    const droppedId = await idOf(dropped);
    dropped.ws.terminate();
    await waitUntil(async () => (await eventsDump(ctx, server)).some((l) => l.startsWith(`close events ${droppedId} 1006`)),
      5000, `onClose(1006) of terminated client ${droppedId}`);
    // A protocol error from the client side is not possible with ws; a too-big message is.
    const limited = await ctx.server('--heartbeat-ms', 0, '--max-message-size', 100);
    const big = await ctx.open(limited.url('/echo'));
    await big.send('x'.repeat(101));
    await big.expectClosed(1009, undefined, 'a 101-byte message with maxMessageSize 100');
  },

  async deny(ctx) {
    const server = await ctx.server('--heartbeat-ms', 0);
    const ws = new WebSocket(server.url('/deny'));
    ctx.sockets.push(ws);
    const { status, header, body } = await withTimeout(new Promise((resolve, reject) => {
      ws.on('open', () => reject(new Error('the handshake to /deny succeeded; onHandshake set 403')));
      ws.on('error', () => {});
      ws.on('unexpected-response', (req, res) => {
        let text = '';
        res.on('data', (chunk) => { text += chunk; });
        res.on('end', () => resolve({ status: res.statusCode, header: res.headers['x-denied'], body: text }));
      });
    }), 5000, 'the unexpected-response event');
    checkEq(status, 403, 'status of the denied handshake');
    checkEq(header, 'yes', 'header set by onHandshake');
    checkEq(body, 'denied by test', 'body of the denied handshake');
    const allowed = await ctx.open(server.url('/deny?allow=1'));
    await allowed.send('in');
    checkEq(await allowed.next(), 'in', 'echo on an allowed /deny handshake');
    await allowed.close();
  },

  async ping_pong(ctx) {
    const server = await ctx.server('--heartbeat-ms', 200, '--queued-ping-limit', 2);
    const client = await ctx.open(server.url('/echo'));
    // Our ping: the server's pong carries the same payload.
    for (const payload of [Buffer.alloc(0), Buffer.from('hello'), Buffer.alloc(125, 7)]) {
      const pong = new Promise((resolve) => client.ws.once('pong', resolve));
      client.ws.ping(payload);
      const got = await withTimeout(pong, 3000, `the pong to a ${payload.length}-byte ping`);
      check(got.equals(payload), `pong payload: ${got.length} bytes, expected the ping's ${payload.length}`);
    }
    // The server's heartbeat pings: ws answers them, so the client outlives the ping limit.
    let pings = 0;
    client.ws.on('ping', () => { pings += 1; });
    await sleep(1200);
    check(pings >= 3, `${pings} heartbeat pings in 1.2 s with heartbeatPeriod 200 ms`);
    check(client.ws.readyState === WebSocket.OPEN, 'a client answering pings was closed');
    await client.send('alive');
    checkEq(await client.next(), 'alive', 'echo after the heartbeats');
    await client.close();
  },
};

await run(cases);
