// The aerie CLIENT against Node's `ws` server (npm ws, lockfile in this folder).
//
// Each case starts a ws server on 127.0.0.1 port 0 and runs one of two programs built on the
// client against it, as a subprocess:
// - the aerie-interop-client driver (tests/interop/client_driver.cpp), cases without a
//   prefix: it echoes every message with its type until the connection closes, then prints
//   how it closed on stdout;
// - aerie-cat --echo (tools/aerie-cat, docs/client-cli.md), cases "cat.*".
// The server decides what happens and checks what comes back.
//
//   node test_client.mjs --driver PATH --case echo [--timeout S]
//   node test_client.mjs --cat PATH --case cat.echo [--timeout S]
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { WebSocketServer } from 'ws';
import {
  check, clientArgs, messageQueue, runClient, runClientCase, TestFailure, withTimeout,
} from './common.mjs';

// --cli is accepted for symmetry with the server tests; no case needs it yet.
const args = clientArgs({ cli: { type: 'string' } });
const MIB = 1024 * 1024;

async function startServer(options = {}) {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, maxPayload: 0, ...options });
  await once(wss, 'listening');
  return { wss, url: `ws://127.0.0.1:${wss.address().port}/client` };
}

function driverArgv(url, ...flags) {
  check(args.driver, 'this case needs --driver PATH (aerie-interop-client)');
  return [args.driver, url, ...flags];
}

/** aerie-cat [options] URL, the order docs/client-cli.md shows. */
function catArgv(url, ...flags) {
  check(args.cat, 'this case needs --cat PATH (aerie-cat)');
  return [args.cat, ...flags, url];
}

const catEchoArgv = (url) => catArgv(url, '--echo', '--show-close');

/** Serves one connection: `script(ws, next)` runs on it while the program `makeArgv(url)`
 * runs; returns the program's result (exit code, stdout, stderr). */
async function runScript(makeArgv, script) {
  const { wss, url } = await startServer();
  const client = runClient(makeArgv(url));
  try {
    const connected = once(wss, 'connection');
    const first = await withTimeout(Promise.race([connected, client.done]), 10000, 'connection');
    check(Array.isArray(first), `the client ended before connecting: ${client.result.describe()}`);
    const [ws] = first;
    try {
      await script(ws, messageQueue(ws));
    } catch (error) {
      if (error instanceof TestFailure) error.message += `; ${client.result.describe()}`;
      throw error;
    }
    await withTimeout(client.done, 10000, `exit of the client: ${client.result.describe()}`);
    return client.result;
  } finally {
    client.child.kill('SIGKILL');
    wss.close();
  }
}

/** Resolves with the close code the client answered with. */
async function closeAndWait(ws, code, reason) {
  const closed = once(ws, 'close');
  ws.close(code, reason);
  const [answered] = await withTimeout(closed, 5000, 'close handshake');
  return answered;
}

function asciiText(size) {
  // Printable, without a period, so a moved or repeated chunk changes the content.
  return randomBytes(Math.ceil((size * 3) / 4) + 3).toString('base64').slice(0, size);
}

async function echoScript(ws, next) {
  const payloads = [];
  for (const size of [0, 1, 125, 126, 65535, 65536, MIB, 16 * MIB]) {
    payloads.push({ data: Buffer.from(asciiText(size)), isBinary: false });
    payloads.push({ data: randomBytes(size), isBinary: true });
  }
  payloads.push({ data: Buffer.from('aerie \u00e9\u2713\u{1d11e} '.repeat(1000)), isBinary: false });
  // Everything is sent before any echo is read, so the order is checked, not just content.
  for (const { data, isBinary } of payloads) ws.send(data, { binary: isBinary });
  for (const [i, { data, isBinary }] of payloads.entries()) {
    const echo = await next(`echo #${i} (${data.length} B)`);
    const kind = (binary) => (binary ? 'binary' : 'text');
    check(echo.isBinary === isBinary, `echo #${i} (${data.length} B ${kind(isBinary)}) came back as ${kind(echo.isBinary)}`);
    check(echo.data.equals(data), `echo #${i} (${data.length} B ${kind(isBinary)}) differs: ${echo.data.length} B`);
  }
  const answered = await closeAndWait(ws, 1000, 'done');
  check(answered === 1000, `the client answered the close with ${answered}`);
}

async function fragmentedScript(ws, next) {
  // "✓" is split between two frames: UTF-8 is checked over the message, not per frame.
  const tick = Buffer.from('\u2713');
  ws.send('frag', { fin: false });
  ws.ping(Buffer.from('between fragments')); // a control frame inside the message (RFC 6455 5.4)
  ws.send(Buffer.alloc(0), { binary: false, fin: false });
  ws.send(Buffer.concat([Buffer.from('mented '), tick.subarray(0, 1)]), { binary: false, fin: false });
  ws.send(tick.subarray(1), { binary: false, fin: true });
  const [pong] = await withTimeout(once(ws, 'pong'), 5000, 'pong between fragments');
  check(pong.toString() === 'between fragments', `pong payload: ${pong}`);
  const text = await next('the fragmented text echo', 5000);
  check(!text.isBinary && text.data.toString() === 'fragmented \u2713', `fragmented text echo: ${text.data}`);

  const chunks = [randomBytes(MIB), randomBytes(MIB), randomBytes(MIB)];
  chunks.forEach((chunk, i) => ws.send(chunk, { binary: true, fin: i === chunks.length - 1 }));
  const binary = await next('the 3 MiB fragmented echo', 10000);
  check(binary.isBinary && binary.data.equals(Buffer.concat(chunks)),
    `3 MiB fragmented binary echo: ${binary.isBinary ? 'binary' : 'text'}, ${binary.data.length} B`);
  await closeAndWait(ws, 1000);
}

async function pingScript(ws, next) {
  for (const payload of [Buffer.from('data'), Buffer.alloc(0), randomBytes(125)]) {
    const pong = once(ws, 'pong');
    ws.ping(payload);
    const [data] = await withTimeout(pong, 5000, `pong to a ${payload.length} B ping`);
    check(data.equals(payload), `pong payload ${data.toString('hex')}, ping was ${payload.toString('hex')}`);
  }
  ws.send('after the pings');
  const echo = await next('the echo after the pings', 5000);
  check(echo.data.toString() === 'after the pings', `echo after the pings: ${echo.data}`);
  await closeAndWait(ws, 1000);
}

async function serverCloseScript(ws, next) {
  ws.send('one');
  const echo = await next('the echo before the close', 5000);
  check(echo.data.toString() === 'one', `echo before the close: ${echo.data}`);
  const answered = await closeAndWait(ws, 4001, 'bye');
  check(answered === 4001, `the client answered the close with ${answered}`);
}

async function runDenied(makeArgv) {
  const { wss, url } = await startServer({ verifyClient: (info, cb) => cb(false, 403, 'go away') });
  const client = runClient(makeArgv(url));
  try {
    return await withTimeout(client.done, 10000, 'exit of the client');
  } finally {
    client.child.kill('SIGKILL');
    wss.close();
  }
}

const cases = {
  async echo() {
    const result = await runScript((url) => driverArgv(url), echoScript);
    check(result.code === 0, result.describe());
    check(result.stdout.includes('closed code=1000 reason=done'), result.describe());
  },

  async fragmented() {
    const result = await runScript((url) => driverArgv(url), fragmentedScript);
    check(result.code === 0, result.describe());
  },

  async ping() {
    const result = await runScript((url) => driverArgv(url), pingScript);
    check(result.code === 0, result.describe());
  },

  async server_close() {
    const result = await runScript((url) => driverArgv(url), serverCloseScript);
    check(result.code === 0, result.describe());
    check(result.stdout.includes('closed code=4001 reason=bye'), result.describe());
  },

  async deny() {
    const result = await runDenied((url) => driverArgv(url));
    check(result.code === 1, result.describe());
    check(result.stdout.includes('HandshakeError status=403'), result.describe());
  },

  async 'cat.echo'() {
    const result = await runScript(catEchoArgv, echoScript);
    check(result.code === 0, `expected exit 0: ${result.describe()}`);
    check(result.stderr.split('\n').includes('closed: 1000 done'),
      `expected the line 'closed: 1000 done' on stderr: ${result.describe()}`);
  },

  async 'cat.fragmented'() {
    const result = await runScript(catEchoArgv, fragmentedScript);
    check(result.code === 0, `expected exit 0: ${result.describe()}`);
  },

  async 'cat.ping'() {
    const result = await runScript(catEchoArgv, pingScript);
    check(result.code === 0, `expected exit 0: ${result.describe()}`);
  },

  async 'cat.server_close'() {
    const result = await runScript(catEchoArgv, serverCloseScript);
    check(result.code === 0, `--echo exits 0 whatever the code: ${result.describe()}`);
    check(result.stderr.split('\n').includes('closed: 4001 bye'),
      `expected the line 'closed: 4001 bye' on stderr: ${result.describe()}`);
  },

  async 'cat.deny'() {
    const result = await runDenied((url) => catArgv(url, '--echo'));
    check(result.code === 1, `expected exit 1: ${result.describe()}`);
    check(result.stderr.includes('403'), `expected 403 on stderr: ${result.describe()}`);
  },
};

await runClientCase(cases, args);
