// Echo of text and binary from 0 B to 16 MiB and fragmented sends (`fin: false`), with the
// Node `ws` client against aerie-test-server's /echo.
import { randomBytes } from 'node:crypto';

import { check, checkEq, run } from './common.mjs';

const SIZES = [0, 1, 125, 126, 127, 65535, 65536, 65537, 100000, 1 << 20];
const MIB16 = 16 * 1024 * 1024;
// Defaults would refuse 16 MiB (maxMessageSize 2 MiB), pause reading after 8 MiB a minute
// (maxBytesPerMinute) and close a client with 16 MiB queued (maxBackpressure).
const BIG = ['--max-frame-size', MIB16, '--max-message-size', MIB16, '--max-bytes-per-minute', 0,
  '--max-backpressure', 4 * MIB16];

function textOf(size) {
  // Exactly `size` UTF-8 bytes with multi-byte characters: 'é' (2), '€' (3), '😀' (4).
  const block = 'aé€😀 '.repeat(1024); // 11 bytes per repetition
  const bytes = Buffer.byteLength(block);
  let text = block.repeat(Math.floor(size / bytes));
  return text + 'x'.repeat(size - Buffer.byteLength(text));
}

async function roundTrip(client, message, what) {
  await client.send(message);
  const reply = await client.next(`the echo of ${what}`, 30000);
  checkEq(typeof reply, typeof message, `${what}: type of the echo (text stays text)`);
  check(Buffer.isBuffer(message) ? reply.equals(message) : reply === message,
    `${what}: the echo differs (${reply.length} vs ${message.length})`);
}

const cases = {
  async sizes(ctx) {
    const server = await ctx.server('--heartbeat-ms', 0, '--max-bytes-per-minute', 0);
    // ws offers permessage-deflate here (its default): the server may decline or accept it.
    const client = await ctx.open(server.url('/echo'), { perMessageDeflate: true });
    for (const size of SIZES) {
      await roundTrip(client, textOf(size), `${size}-byte text`);
      await roundTrip(client, randomBytes(size), `${size}-byte binary`);
    }
    // Pipelined: all sent before any echo is read; echoes come back in order.
    const messages = SIZES.flatMap((size, i) => [textOf(size), randomBytes(size + i)]);
    await Promise.all(messages.map((m) => client.send(m)));
    for (const [i, message] of messages.entries()) {
      const reply = await client.next(`pipelined echo #${i}`, 30000);
      check(Buffer.isBuffer(message) ? Buffer.isBuffer(reply) && reply.equals(message) : reply === message,
        `pipelined echo #${i} differs or is out of order`);
    }
    await client.close();
  },

  async big(ctx) {
    const server = await ctx.server('--heartbeat-ms', 0, ...BIG);
    const client = await ctx.open(server.url('/echo'), { maxPayload: 0 });
    await roundTrip(client, textOf(MIB16), '16 MiB text');
    await roundTrip(client, randomBytes(MIB16), '16 MiB binary');
    await client.close();
  },

  async fragmented(ctx) {
    const server = await ctx.server('--heartbeat-ms', 0);
    const client = await ctx.open(server.url('/echo'));
    // ws: { fin: false } sends a frame that is not final; the next sends are continuations.
    await client.send('Hello, ', { fin: false });
    await client.send('', { fin: false });
    await client.send('wörld €😀', { fin: false });
    await client.send('!', { fin: true });
    checkEq(await client.next('the echo of 4 text fragments'), 'Hello, wörld €😀!', 'reassembled text');
    const chunks = Array.from({ length: 50 }, () => randomBytes(20000));
    for (const [i, chunk] of chunks.entries()) {
      await client.send(chunk, { binary: true, fin: i === chunks.length - 1 });
    }
    const reply = await client.next('the echo of 50 binary fragments');
    check(Buffer.isBuffer(reply) && reply.equals(Buffer.concat(chunks)), 'echo of 50 binary fragments differs');
    // A ping between fragments is answered at once; the message stays intact.
    await client.send('before ping ', { fin: false });
    const pong = new Promise((resolve) => client.ws.once('pong', resolve));
    client.ws.ping(Buffer.from('mid-message'));
    checkEq((await pong).toString(), 'mid-message', 'pong payload between fragments');
    await client.send('after ping', { fin: true });
    checkEq(await client.next('the echo around a ping'), 'before ping after ping', 'message around a ping');
    await client.close();
  },
};

await run(cases);
