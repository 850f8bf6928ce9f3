// permessage-deflate (RFC 7692) with Node `ws` clients against `aerie serve --ws /echo=echo`.
//
// Every case runs one kind of `ws` offer (perMessageDeflate options, threshold 0 so ws
// compresses even small messages) against the server in each of its modes, checks the
// Sec-WebSocket-Extensions answer against what that mode must say, echoes compressible,
// repeated, random, empty and 300 KiB messages byte-exactly several times over, and reads
// the socket's byte counts to see that the server really compressed (and kept or dropped its
// context as agreed). Plus: compression turned off, no offer, and a decompression bomb.
//
// --server is the `aerie` binary, not aerie-test-server: only `aerie serve` has the deflate
// flags (common.mjs's run() knows no other option name).
//
//   node test_deflate.mjs --server build/release/bin/aerie --workers 2 --case default
import { randomBytes } from 'node:crypto';

import { Client, Server, WebSocket, check, checkEq, run, withTimeout, TestFailure } from './common.mjs';

const KIB = 1024;
const MIB = 1024 * KIB;
const LIMITS = ['--heartbeat-ms', 0, '--max-frames-per-second', 0, '--max-bytes-per-minute', 0];
const BITS = [9, 10, 11, 12, 13, 14, 15];

/**
 * The server modes every offer meets. `noContextTakeover`: the server always answers both
 * *_no_context_takeover (shared compressors); `windowBits`: --deflate-window-bits, the
 * largest window the server compresses with (stated in the answer when below 15).
 */
const MODES = [
  { name: 'shared', flags: [], noContextTakeover: true, windowBits: 15 },
  { name: 'shared, 10-bit window', flags: ['--deflate-window-bits', 10], noContextTakeover: true, windowBits: 10 },
  { name: 'dedicated', flags: ['--deflate-context-takeover'], noContextTakeover: false, windowBits: 15 },
  { name: 'dedicated, 11-bit window', flags: ['--deflate-context-takeover', '--deflate-window-bits', 11],
    noContextTakeover: false, windowBits: 11 },
];

async function serve(ctx, ...flags) {
  const args = ['serve', '--port', 0, '--host', '127.0.0.1', '--workers', ctx.workers, '--ws', '/echo=echo',
    ...LIMITS, ...flags].map(String);
  const server = new Server(ctx.args.server, args, ctx.workers);
  ctx.servers.push(server);
  return server.started();
}

/** Like ctx.open, but keeps the handshake response's Sec-WebSocket-Extensions header. */
async function open(ctx, url, perMessageDeflate) {
  const ws = new WebSocket(url, { perMessageDeflate, maxPayload: 0 });
  ctx.sockets.push(ws);
  const client = new Client(ws);
  client.answer = await withTimeout(new Promise((resolve, reject) => {
    let answer;
    ws.once('upgrade', (res) => { answer = res.headers['sec-websocket-extensions']; });
    ws.once('open', () => resolve(answer));
    ws.once('error', reject);
    ws.once('unexpected-response', (req, res) => reject(new TestFailure(`handshake answered ${res.statusCode}`)));
  }), 5000, `the handshake with ${url}`);
  return client;
}

/** "permessage-deflate; a; b=9" -> { a: true, b: 9 }; undefined for no header. Exactly one
 * extension, no parameter twice. */
function parseAnswer(header) {
  if (header === undefined) return undefined;
  const extensions = header.split(',');
  check(extensions.length === 1, `one extension expected in the answer ${JSON.stringify(header)}`);
  const [name, ...params] = extensions[0].split(';').map((s) => s.trim());
  checkEq(name, 'permessage-deflate', `extension named in the answer ${JSON.stringify(header)}`);
  const result = {};
  for (const param of params) {
    const [key, value] = param.split('=').map((s) => s.trim());
    check(!(key in result), `parameter ${key} twice in ${JSON.stringify(header)}`);
    result[key] = value === undefined ? true : Number(value.replace(/^"|"$/g, ''));
  }
  return result;
}

const sorted = (params) => Object.fromEntries(Object.entries(params).sort(([a], [b]) => a.localeCompare(b)));

/**
 * What `mode` must answer to a ws offer made with `offer` (ws perMessageDeflate options; ws
 * always offers client_max_window_bits, bare unless clientMaxWindowBits is a number).
 * The server window is the smaller of the client's request and the server's own limit, and
 * is stated when either exists; the client's window is only limited when the client named
 * one, and the answer repeats it.
 */
function expectedAnswer(mode, offer) {
  const params = {};
  if (mode.noContextTakeover || offer.serverNoContextTakeover) params.server_no_context_takeover = true;
  if (mode.noContextTakeover || offer.clientNoContextTakeover) params.client_no_context_takeover = true;
  if (offer.serverMaxWindowBits !== undefined || mode.windowBits < 15) {
    params.server_max_window_bits = Math.min(offer.serverMaxWindowBits ?? 15, mode.windowBits);
  }
  if (typeof offer.clientMaxWindowBits === 'number') params.client_max_window_bits = offer.clientMaxWindowBits;
  return params;
}

// --- payloads ------------------------------------------------------------------------------

/** JSON-like text of about `size` bytes: compresses well with any window (9 bits too). */
function jsonText(size) {
  const records = [];
  let length = 2;
  for (let i = 0; length < size; i++) {
    const record = JSON.stringify({ id: i, name: `user-${i}`, active: i % 3 === 0, tags: ['alpha', 'beta'], score: i * 7 });
    records.push(record);
    length += record.length + 1;
  }
  return JSON.stringify(records.map((r) => JSON.parse(r)));
}

const base64 = (size) => randomBytes(Math.ceil((size * 3) / 4) + 3).toString('base64').slice(0, size);

/** Random blocks, each repeated three times, from 600 B to 24 000 B long: the repeats lie
 * beyond small windows, so a peer compressing with a larger window than agreed produces
 * distances the other side's inflater (set to the agreed window) refuses. */
function repeatedText() {
  return [600, 1500, 3000, 6000, 12000, 24000].map((size) => base64(size).repeat(3)).join('|');
}

function payloads() {
  return [
    { what: 'JSON-like text (20 KB)', data: jsonText(20000), compressible: true },
    { what: 'repeated random blocks', data: repeatedText() },
    { what: 'random binary (50 KB)', data: randomBytes(50000) },
    { what: 'empty text', data: '' },
    { what: 'empty binary', data: Buffer.alloc(0) },
    { what: '300 KiB JSON-like text', data: jsonText(300 * KIB), compressible: true },
    { what: '300 KiB random binary', data: randomBytes(300 * KIB) },
  ];
}

const sizeOf = (data) => (Buffer.isBuffer(data) ? data.length : Buffer.byteLength(data));

/** Sends `data`, checks the echo byte-exactly; returns the bytes that crossed the socket each
 * way (frame headers included; heartbeats are off, so nothing else does). */
async function roundTrip(client, data, what) {
  const socket = client.ws._socket;
  const read = socket.bytesRead;
  const written = socket.bytesWritten;
  await client.send(data, { binary: Buffer.isBuffer(data) });
  const echo = await client.next(`the echo of ${what}`, 20000);
  checkEq(typeof echo, typeof data, `${what}: type of the echo (text stays text)`);
  check(Buffer.isBuffer(data) ? echo.equals(data) : echo === data,
    `${what}: the echo differs (${sizeOf(echo)} B back for ${sizeOf(data)} B)`);
  return { in: socket.bytesRead - read, out: socket.bytesWritten - written };
}

/** Echo of every payload, `rounds` times, on a connection where deflate was agreed. */
async function echoCompressed(client, rounds, label) {
  const all = payloads();
  for (let round = 1; round <= rounds; round++) {
    for (const { what, data, compressible } of all) {
      const bytes = await roundTrip(client, data, `${what}, round ${round} (${label})`);
      if (compressible) {
        // ws compressed its message, so the server had to inflate; its echo must be
        // compressed too: JSON-like text shrinks far below a quarter with any window.
        check(bytes.out < sizeOf(data) / 4, `${label}: ws sent ${bytes.out} B for ${what}: not compressed?`);
        check(bytes.in < sizeOf(data) / 4,
          `${label}: the server's echo of ${what} (${sizeOf(data)} B) took ${bytes.in} B: not compressed`);
      }
    }
  }
}

/** The same 100-byte random text twice: a compressor that keeps its context sends the second
 * as a back-reference to the first; one without context sends both alike. (zlib reaches back
 * at most the window minus 262 bytes: 250 bytes with 9 bits.) */
async function checkServerContext(client, keepsContext, label) {
  const text = base64(100);
  const first = (await roundTrip(client, text, `context probe 1 (${label})`)).in;
  const second = (await roundTrip(client, text, `context probe 2 (${label})`)).in;
  if (keepsContext) {
    check(second < first / 2, `${label}: server context takeover agreed, but the repeated message took ${second} B after ${first} B`);
  } else {
    check(second > first * 0.8, `${label}: server_no_context_takeover agreed, but the repeated message took ${second} B after ${first} B`);
  }
}

/** One offer against every server mode: the answer, then echoes and context. */
async function offerAgainstModes(ctx, offer, rounds = 3) {
  for (const mode of MODES) {
    const server = await serve(ctx, ...mode.flags);
    const label = `offer ${JSON.stringify(offer)}, ${mode.name} mode`;
    const client = await open(ctx, server.url('/echo'), { threshold: 0, ...offer });
    const answer = parseAnswer(client.answer);
    check(answer !== undefined, `${label}: no Sec-WebSocket-Extensions answer`);
    checkEq(sorted(answer), sorted(expectedAnswer(mode, offer)), `${label}: the answer ${JSON.stringify(client.answer)}`);
    checkEq(client.ws.extensions, 'permessage-deflate', `${label}: extensions ws agreed to`);
    await echoCompressed(client, rounds, label);
    await checkServerContext(client, !answer.server_no_context_takeover, label);
    await client.close();
    checkEq(client.closeInfo.code, 1000, `${label}: close code`);
    const code = await server.terminate();
    checkEq(code, 0, `${label}: server exit code after SIGTERM`);
  }
}

const cases = {
  async default(ctx) {
    await offerAgainstModes(ctx, {});
  },

  async client_no_context_takeover(ctx) {
    await offerAgainstModes(ctx, { clientNoContextTakeover: true });
  },

  async server_no_context_takeover(ctx) {
    await offerAgainstModes(ctx, { serverNoContextTakeover: true });
  },

  async server_max_window_bits(ctx) {
    for (const bits of BITS) await offerAgainstModes(ctx, { serverMaxWindowBits: bits }, 2);
  },

  async client_max_window_bits(ctx) {
    for (const bits of BITS) await offerAgainstModes(ctx, { clientMaxWindowBits: bits }, 2);
  },

  async off(ctx) {
    // Compression turned off: the offer is ignored, the echo works uncompressed.
    const off = await serve(ctx, '--no-per-message-deflate');
    const client = await open(ctx, off.url('/echo'), { threshold: 0 });
    checkEq(client.answer, undefined, 'answer of a server with --no-per-message-deflate');
    checkEq(client.ws.extensions, '', 'extensions ws agreed to with --no-per-message-deflate');
    for (const { what, data } of payloads()) {
      const bytes = await roundTrip(client, data, `${what} (compression off)`);
      check(bytes.in >= sizeOf(data), `${what} came back in ${bytes.in} B with compression off`);
    }
    await client.close();
    // Compression on, nothing offered: no answer either.
    const on = await serve(ctx);
    const plain = await open(ctx, on.url('/echo'), false);
    checkEq(plain.answer, undefined, 'answer to a client that offered nothing');
    for (const { what, data } of payloads()) {
      const bytes = await roundTrip(plain, data, `${what} (not offered)`);
      check(bytes.in >= sizeOf(data), `${what} came back in ${bytes.in} B without an offer`);
    }
    await plain.close();
  },

  async bomb(ctx) {
    // 64 MiB of zeros deflate to ~64 KiB: the server must stop inflating at 1 MiB and close
    // with 1009 (message too big), in both compressor modes, and keep serving.
    for (const flags of [[], ['--deflate-context-takeover']]) {
      const server = await serve(ctx, '--max-message-size', MIB, '--max-frame-size', MIB, ...flags);
      const client = await open(ctx, server.url('/echo'), { threshold: 0 });
      check(parseAnswer(client.answer) !== undefined, 'permessage-deflate not agreed for the bomb');
      client.send(Buffer.alloc(64 * MIB)).catch(() => {}); // the server may close while ws still writes
      await client.expectClosed(1009, undefined, `the decompression bomb (${flags.join(' ') || 'shared'})`, 20000);
      const after = await open(ctx, server.url('/echo'), { threshold: 0 });
      await roundTrip(after, 'still here', 'a message after the bomb');
      await after.close();
    }
  },
};

await run(cases);
