// permessage-deflate (RFC 7692) with the aerie CLIENT against Node's `ws` server.
//
// Each case starts a ws WebSocketServer with perMessageDeflate (threshold 0: ws compresses
// every message) under one set of options, and runs the client against it as a subprocess:
// - cases without a prefix: the aerie-interop-client driver (tests/interop/client_driver.cpp)
//   with --deflate; it prints the answer it accepted ("open ... extensions=...");
// - "cat.*" cases: `aerie-cat --echo`, which offers permessage-deflate by default
//   (ClientOptions::perMessageDeflate), with its --no-deflate, --deflate-no-context-takeover
//   and --deflate-window-bits flags in the cases named after them.
// The server checks the client's offer and its own answer, sends compressible, repeated and
// random messages of several sizes one at a time, checks each echo byte-exactly, and reads
// the socket's byte count to see that the client compressed its echoes (and kept or dropped
// its context as agreed).
//
//   node test_client_deflate.mjs --driver PATH --case server_max_window_bits [--timeout S]
//   node test_client_deflate.mjs --cat PATH --case cat.default [--timeout S]
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { WebSocketServer } from 'ws';
import {
  check, clientArgs, messageQueue, runClient, runClientCase, TestFailure, withTimeout,
} from './common.mjs';

const args = clientArgs();
const KIB = 1024;
const BITS = [9, 10, 11, 12, 13, 14, 15];

/** "permessage-deflate; a; b=9" -> { a: true, b: 9 }; undefined for no header.
 * Exactly one extension, no parameter twice. */
function parseExtension(header, what) {
  if (header === undefined) return undefined;
  const extensions = header.split(',');
  check(extensions.length === 1, `${what}: one extension expected in ${JSON.stringify(header)}`);
  const [name, ...params] = extensions[0].split(';').map((s) => s.trim());
  check(name === 'permessage-deflate', `${what}: extension ${JSON.stringify(name)} in ${JSON.stringify(header)}`);
  const result = {};
  for (const param of params) {
    const [key, value] = param.split('=').map((s) => s.trim());
    check(!(key in result), `${what}: parameter ${key} twice in ${JSON.stringify(header)}`);
    result[key] = value === undefined ? true : Number(value.replace(/^"|"$/g, ''));
  }
  return result;
}

/** Same parameters (order does not matter), or both undefined. */
const canonical = (params) => params && Object.entries(params).sort(([a], [b]) => a.localeCompare(b));
const same = (a, b) => JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));

// --- the client programs ----------------------------------------------------------------------

/** The driver, which offers permessage-deflate only when asked (--deflate). */
function driverArgv(url) {
  check(args.driver, 'this case needs --driver PATH (aerie-interop-client)');
  return [args.driver, url, '--deflate'];
}

/** aerie-cat [flags] --echo --show-close URL. */
function catArgv(url, ...flags) {
  check(args.cat, 'this case needs --cat PATH (aerie-cat)');
  return [args.cat, ...flags, '--echo', '--show-close', url];
}

// --- payloads ---------------------------------------------------------------------------------

/** JSON-like text of about `size` bytes: compresses well with any window (9 bits too). */
function jsonText(size) {
  const records = [];
  let length = 2;
  for (let i = 0; length < size; i++) {
    const record = { id: i, name: `user-${i}`, active: i % 3 === 0, tags: ['alpha', 'beta'], score: i * 7 };
    records.push(record);
    length += JSON.stringify(record).length + 1;
  }
  return JSON.stringify(records);
}

const base64 = (size) => randomBytes(Math.ceil((size * 3) / 4) + 3).toString('base64').slice(0, size);

/** Random blocks, each repeated three times, from 600 B to 24 000 B long: the repeats lie
 * beyond small windows, so a client compressing with a larger window than agreed produces
 * distances ws's inflater (set to the agreed client window) refuses. */
function repeatedText() {
  return [600, 1500, 3000, 6000, 12000, 24000].map((size) => base64(size).repeat(3)).join('|');
}

function payloads() {
  const list = [];
  for (const size of [0, 1, 125, 126, 65535, 65536, 300 * KIB]) {
    list.push({ what: `${size} B JSON-like text`, data: Buffer.from(jsonText(size).slice(0, size)), isBinary: false,
      compressible: size >= 4 * KIB });
    list.push({ what: `${size} B random binary`, data: randomBytes(size), isBinary: true });
  }
  list.push({ what: 'repeated random blocks', data: Buffer.from(repeatedText()), isBinary: false });
  list.push({ what: 'repeated random blocks (binary)', data: Buffer.from(repeatedText()), isBinary: true });
  return list;
}

// --- the server side ------------------------------------------------------------------------

/** Sends one message, checks its echo byte-exactly; returns the bytes the echo took on the
 * socket (frame header included: nothing else crosses it meanwhile). */
async function roundTrip(ws, next, { what, data, isBinary }) {
  const read = ws._socket.bytesRead;
  ws.send(data, { binary: isBinary });
  const echo = await next(`the echo of ${what}`);
  const kind = (binary) => (binary ? 'binary' : 'text');
  check(echo.isBinary === isBinary, `${what}: the echo came back as ${kind(echo.isBinary)}`);
  check(echo.data.equals(data), `${what}: the echo differs (${echo.data.length} B back for ${data.length} B)`);
  return ws._socket.bytesRead - read;
}

/**
 * Runs the client program against a ws server with `perMessageDeflate` options (null: off)
 * and checks: the client's offer is `expectedOffer` (undefined: none), the server's answer
 * is `expectedAnswer`, the driver accepted that answer, the echoes, compression and context.
 */
async function session(makeArgv, perMessageDeflate, expectedOffer, expectedAnswer) {
  const label = `ws server perMessageDeflate ${JSON.stringify(perMessageDeflate)}`;
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, maxPayload: 0,
    perMessageDeflate: perMessageDeflate && { threshold: 0, ...perMessageDeflate } });
  await once(wss, 'listening');
  let answerHeader;
  wss.on('headers', (headers) => {
    const line = headers.find((h) => /^sec-websocket-extensions:/i.test(h));
    answerHeader = line && line.slice(line.indexOf(':') + 1).trim();
  });
  const client = runClient(makeArgv(`ws://127.0.0.1:${wss.address().port}/deflate`));
  try {
    const first = await withTimeout(Promise.race([once(wss, 'connection'), client.done]), 10000, 'connection');
    check(Array.isArray(first), `${label}: the client ended before connecting: ${client.result.describe()}`);
    const [ws, request] = first;
    const offerHeader = request.headers['sec-websocket-extensions'];
    const offer = parseExtension(offerHeader, `${label}: the client's offer`);
    check(same(offer, expectedOffer),
      `${label}: the client offered ${JSON.stringify(offerHeader)}, expected ${JSON.stringify(expectedOffer)}`);
    const answer = parseExtension(answerHeader, `${label}: ws's answer`);
    check(same(answer, expectedAnswer),
      `${label}: ws answered ${JSON.stringify(answerHeader)}, expected ${JSON.stringify(expectedAnswer)}`);
    const next = messageQueue(ws);
    try {
      for (const payload of payloads()) {
        const bytes = await roundTrip(ws, next, payload);
        if (payload.compressible && answer) {
          check(bytes < payload.data.length / 4,
            `${label}: the client's echo of ${payload.what} took ${bytes} B: not compressed`);
        } else if (!answer) {
          check(bytes >= payload.data.length, `${label}: ${payload.what} came back in ${bytes} B without deflate`);
        }
      }
      if (answer) {
        // The same 100-byte random text twice (below zlib's 250-byte reach with 9 bits): a
        // compressor that keeps its context sends the second as a back-reference to the first.
        const probe = { what: 'context probe', data: Buffer.from(base64(100)), isBinary: false };
        const sizes = [await roundTrip(ws, next, probe), await roundTrip(ws, next, probe)];
        if (answer.client_no_context_takeover) {
          check(sizes[1] > sizes[0] * 0.8,
            `${label}: client_no_context_takeover agreed, but the client's repeated echo took ${sizes[1]} B after ${sizes[0]} B`);
        } else {
          check(sizes[1] < sizes[0] / 2,
            `${label}: context takeover allowed, but the client's repeated echo took ${sizes[1]} B after ${sizes[0]} B`);
        }
      }
    } catch (error) {
      if (error instanceof TestFailure) error.message += `; ${client.result.describe()}`;
      throw error;
    }
    const closed = once(ws, 'close');
    ws.close(1000, 'done');
    const [answered] = await withTimeout(closed, 5000, 'close handshake');
    check(answered === 1000, `${label}: the client answered the close with ${answered}`);
    const result = await withTimeout(client.done, 10000, `exit of the client: ${client.result.describe()}`);
    check(result.code === 0, `${label}: expected exit 0: ${result.describe()}`);
    if (result.stdout.startsWith('open ')) {
      // The driver prints the answer it accepted: the one ws sent.
      const accepted = /^open subprotocol=\S* extensions=(.*)$/m.exec(result.stdout)?.[1];
      check(same(parseExtension(accepted || undefined, 'the driver'), answer),
        `${label}: the driver accepted ${JSON.stringify(accepted)}, ws answered ${JSON.stringify(answerHeader)}`);
    }
  } finally {
    client.child.kill('SIGKILL');
    wss.close();
  }
}

/** The offer of a client with default deflate options: a bare client_max_window_bits (it
 * accepts any window the server sets for it) and nothing else. */
const DEFAULT_OFFER = { client_max_window_bits: true };

/** The five server option sets, each as (ws options, the answer ws gives DEFAULT_OFFER). */
const serverOptions = {
  default: () => [[{}, {}]],
  server_no_context_takeover: () => [[{ serverNoContextTakeover: true }, { server_no_context_takeover: true }]],
  client_no_context_takeover: () => [[{ clientNoContextTakeover: true }, { client_no_context_takeover: true }]],
  server_max_window_bits: () => BITS.map((bits) => [{ serverMaxWindowBits: bits }, { server_max_window_bits: bits }]),
  // ws answers client_max_window_bits only because the client offered the parameter.
  client_max_window_bits: () => BITS.map((bits) => [{ clientMaxWindowBits: bits }, { client_max_window_bits: bits }]),
};

const cases = {};
for (const [name, variants] of Object.entries(serverOptions)) {
  cases[name] = async () => {
    for (const [options, answer] of variants()) await session(driverArgv, options, DEFAULT_OFFER, answer);
  };
  cases[`cat.${name}`] = async () => {
    for (const [options, answer] of variants()) await session((url) => catArgv(url), options, DEFAULT_OFFER, answer);
  };
}

Object.assign(cases, {
  async 'cat.no_deflate'() {
    // --no-deflate: no offer, so no answer, even from a server that would compress.
    await session((url) => catArgv(url, '--no-deflate'), {}, undefined, undefined);
  },

  async 'cat.server_off'() {
    // A server without permessage-deflate ignores the offer; the client goes on uncompressed.
    await session((url) => catArgv(url), null, DEFAULT_OFFER, undefined);
  },

  async 'cat.deflate_no_context_takeover'() {
    // Asks the server not to keep context, and promises the same for its own messages.
    const offer = { client_max_window_bits: true, client_no_context_takeover: true, server_no_context_takeover: true };
    await session((url) => catArgv(url, '--deflate-no-context-takeover'), {}, offer,
      { client_no_context_takeover: true, server_no_context_takeover: true });
  },

  async 'cat.deflate_window_bits'() {
    // The client's own window, offered as client_max_window_bits=N (bare for 15; 8 is
    // offered as 9, the smallest window zlib compresses with); ws confirms it.
    for (const bits of [8, ...BITS]) {
      const offered = Math.max(bits, 9);
      const offer = { client_max_window_bits: offered < 15 ? offered : true };
      const answer = offered < 15 ? { client_max_window_bits: offered } : {};
      await session((url) => catArgv(url, '--deflate-window-bits', bits), {}, offer, answer);
    }
  },
});

await runClientCase(cases, args);
