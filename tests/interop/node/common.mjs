// Shared harness of the Node `ws` interop tests (not a test itself).
//
// A test file exports its cases to run(cases, knownBugs); a run executes one case against
// aerie-test-server processes it starts itself (port 0, the port parsed from the
// "aerie listening on http://127.0.0.1:P (N workers)" line):
//
//   node test_echo.mjs --server build/bin/aerie-test-server --workers 2 --case sizes
//
// Exit codes: 0 pass, 1 failure (what the peer saw, what was expected), 77 skip: a known
// server bug listed in knownBugs (AERIE_INTEROP_STRICT=1 makes those fail instead).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';

let WebSocket;
try {
  ({ default: WebSocket } = await import('ws'));
} catch (error) {
  console.log(`FAIL: the ws package is missing (npm ci in ${import.meta.dirname ?? '.'}): ${error.message}`);
  process.exit(1);
}
export { WebSocket };

export const SKIP = 77;

export class TestFailure extends Error {}

export function check(condition, message) {
  if (!condition) throw new TestFailure(message);
}

function show(value) {
  if (Buffer.isBuffer(value)) {
    return value.length > 64 ? `<Buffer ${value.length} bytes>` : `<Buffer ${value.toString('hex')}>`;
  }
  const text = JSON.stringify(value);
  return text !== undefined && text.length > 200 ? `${text.slice(0, 200)}... (${text.length})` : text;
}

export function checkEq(actual, expected, what) {
  const same = Buffer.isBuffer(actual) && Buffer.isBuffer(expected)
    ? actual.equals(expected)
    : JSON.stringify(actual) === JSON.stringify(expected);
  if (!same) throw new TestFailure(`${what}: got ${show(actual)}, expected ${show(expected)}`);
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new TestFailure(`timed out after ${ms / 1000} s waiting for ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

const LISTENING = /aerie listening on http:\/\/([0-9.]+):(\d+) \((\d+) workers\)/;

export class Server {
  constructor(binary, args, workers) {
    this.workers = workers;
    this.stderr = '';
    this.exitCode = null;
    this.proc = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc.stderr.on('data', (chunk) => { this.stderr += chunk.toString(); });
    this.exited = new Promise((resolve) => this.proc.on('exit', (code, signal) => {
      this.exitCode = code ?? signal;
      resolve(this.exitCode);
    }));
    this.cmd = [binary, ...args].join(' ');
  }

  async started() {
    let out = '';
    this.port = await withTimeout(new Promise((resolve, reject) => {
      this.proc.stdout.on('data', (chunk) => {
        out += chunk.toString();
        const match = LISTENING.exec(out);
        if (match) {
          if (Number(match[3]) !== this.workers) {
            reject(new TestFailure(`server reports ${match[3]} workers, expected ${this.workers}`));
          }
          resolve(Number(match[2]));
        }
      });
      this.proc.on('exit', (code) => reject(new TestFailure(`server exited (${code}) before listening: ${this.cmd}`)));
    }), 10000, `the server's listening line (${this.cmd})`);
    return this;
  }

  url(path) { return `ws://127.0.0.1:${this.port}${path}`; }

  alive() { return this.exitCode === null; }

  async terminate(ms = 10000) {
    if (this.alive()) this.proc.kill('SIGTERM');
    return withTimeout(this.exited, ms, 'the server to exit after SIGTERM');
  }

  kill() { if (this.alive()) this.proc.kill('SIGKILL'); }

  stderrTail(lines = 40) {
    const all = this.stderr.trimEnd().split('\n');
    return `--- aerie-test-server stderr (last ${Math.min(lines, all.length)} lines) ---\n${all.slice(-lines).join('\n')}`;
  }
}

export class Context {
  constructor(args) {
    this.args = args;
    this.workers = Number(args.workers);
    this.servers = [];
    this.sockets = [];
    this.tmp = mkdtempSync(join(tmpdir(), 'aerie-interop-'));
  }

  /** Starts aerie-test-server with --workers N and `extra` flags. */
  async server(...extra) {
    const args = ['--port', '0', '--host', '127.0.0.1', '--workers', String(this.workers), ...extra.map(String)];
    const server = new Server(this.args.server, args, this.workers);
    this.servers.push(server);
    return server.started();
  }

  /** A connected client (rejects on handshake failure); closed at the end of the case. */
  async open(url, options = {}) {
    const ws = new WebSocket(url, { perMessageDeflate: false, ...options });
    this.sockets.push(ws);
    const client = new Client(ws);
    await withTimeout(new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
      ws.once('unexpected-response', (req, res) => reject(new TestFailure(`handshake answered ${res.statusCode}`)));
    }), 5000, `the handshake with ${url}`);
    return client;
  }
}

/** Queues messages so a test can await them one by one. */
export class Client {
  constructor(ws) {
    this.ws = ws;
    this.queue = [];
    this.waiters = [];
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => {
      this.closeInfo = { code, reason: reason.toString() };
      resolve(this.closeInfo);
      for (const waiter of this.waiters.splice(0)) waiter.reject(new TestFailure(`connection closed (${code} ${JSON.stringify(reason.toString())})`));
    }));
    ws.on('error', (error) => { this.error = error; });
    ws.on('message', (data, isBinary) => {
      const message = { data: isBinary ? data : data.toString(), isBinary };
      const waiter = this.waiters.shift();
      if (waiter) waiter.resolve(message); else this.queue.push(message);
    });
  }

  /** The next message: a string (text) or a Buffer (binary). */
  async next(what = 'a message', ms = 5000) {
    if (this.queue.length) return this.queue.shift().data;
    if (this.closeInfo) throw new TestFailure(`connection closed (${this.closeInfo.code}) while waiting for ${what}`);
    const message = await withTimeout(new Promise((resolve, reject) => this.waiters.push({ resolve, reject })), ms, what)
      .catch((error) => { throw new TestFailure(`${error.message} (waiting for ${what})`); });
    return message.data;
  }

  send(data, options = {}) {
    return new Promise((resolve, reject) => this.ws.send(data, options, (error) => (error ? reject(error) : resolve())));
  }

  /** Waits for the close; checks the code (and reason); returns messages received meanwhile. */
  async expectClosed(code, reason, what = 'the close', ms = 5000) {
    const info = await withTimeout(this.closed, ms, `${what} (code ${code})`);
    checkEq(info.code, code, `${what}: close code seen by the client`);
    if (reason !== undefined) checkEq(info.reason, reason, `${what}: close reason seen by the client`);
    return this.queue.splice(0).map((m) => m.data);
  }

  async close(code = 1000, reason = '') {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.close(code, reason);
    return withTimeout(this.closed, 5000, 'the close handshake');
  }
}

export async function eventsDump(ctx, server) {
  const client = await ctx.open(server.url('/events'));
  await client.next('the id greeting');
  await client.send('dump');
  const dump = await client.next('the event dump');
  await client.close();
  return dump.split('\n');
}

export async function waitUntil(predicate, ms, what, interval = 50) {
  const deadline = Date.now() + ms;
  let last;
  while (Date.now() < deadline) {
    last = await predicate();
    if (last) return last;
    await sleep(interval);
  }
  throw new TestFailure(`timed out after ${ms / 1000} s waiting for ${what}; last value ${show(last)}`);
}

export async function run(cases, knownBugs = {}) {
  const { values: args } = parseArgs({
    options: {
      server: { type: 'string' },
      workers: { type: 'string', default: '1' },
      case: { type: 'string' },
      timeout: { type: 'string', default: '60' },
    },
  });
  const name = `${basename(process.argv[1])} ${args.case} (workers ${args.workers})`;
  if (!args.server || !(args.case in cases)) {
    console.log(`FAIL: usage: --server PATH --workers N --case ${Object.keys(cases).join('|')}`);
    process.exit(1);
  }
  const limit = Math.max(Number(args.timeout), 10) * 1000;
  const ctx = new Context(args);
  const finish = (failure) => {
    for (const ws of ctx.sockets) ws.terminate();
    for (const server of ctx.servers) server.kill();
    rmSync(ctx.tmp, { recursive: true, force: true });
    const bug = process.env.AERIE_INTEROP_STRICT === '1' ? undefined : knownBugs[args.case];
    if (!failure) {
      console.log(bug ? `PASS: ${name} -- note: listed as known bug (${bug}) but passed: remove it from knownBugs`
        : `PASS: ${name} in ${((Date.now() - started) / 1000).toFixed(2)} s`);
      process.exit(0);
    }
    for (const server of ctx.servers) console.log(server.stderrTail());
    if (bug) {
      console.log(`SKIP: bug ${bug}\n  (${name}: ${failure})`);
      process.exit(SKIP);
    }
    console.log(`FAIL: ${name}: ${failure}`);
    process.exit(1);
  };
  const started = Date.now();
  const watchdog = setTimeout(() => finish(`watchdog: still running after ${limit / 1000} s`), limit);
  try {
    await cases[args.case](ctx);
    // Every server left running must still be alive and stop cleanly with exit code 0.
    for (const server of ctx.servers) {
      if (server.exitCode !== null) continue;
      const code = await server.terminate();
      checkEq(code, 0, 'server exit code after SIGTERM');
    }
    clearTimeout(watchdog);
    finish(null);
  } catch (error) {
    clearTimeout(watchdog);
    finish(error instanceof TestFailure ? error.message : `unexpected exception: ${error.stack ?? error}`);
  }
}

// --- The client tests (test_client*.mjs): an aerie client program against a ws server ------

/** The client tests' options: --driver PATH (aerie-interop-client), --cat PATH (aerie-cat),
 * --case NAME, --timeout S, and `extra` (parseArgs option specs). */
export function clientArgs(extra = {}) {
  return parseArgs({
    options: {
      driver: { type: 'string' },
      cat: { type: 'string' },
      case: { type: 'string' },
      timeout: { type: 'string', default: '60' },
      ...extra,
    },
  }).values;
}

const clientPrograms = new Set(); // killed by the watchdog too

/** A client program as a subprocess; `done` resolves with its exit code and output. */
export function runClient(argv) {
  const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  clientPrograms.add(child);
  const result = { code: null, stdout: '', stderr: '' };
  child.stdout.on('data', (d) => { result.stdout += d; });
  child.stderr.on('data', (d) => { result.stderr += d; });
  result.describe = () => `${basename(argv[0])} ${result.code === null ? 'running' : `exit ${result.code}`}`
    + `; stdout ${JSON.stringify(result.stdout.slice(-2000))}; stderr ${JSON.stringify(result.stderr.slice(-2000))}`;
  // 'close', not 'exit': the output is complete only once the pipes are closed too.
  const done = new Promise((resolve) => child.on('close', (code, signal) => {
    result.code = code ?? signal;
    resolve(result);
  }));
  return { child, result, done };
}

/** Queues the messages of a server-side ws socket as {data: Buffer, isBinary}; returns
 * next(what, ms), which awaits the next one and rejects once the connection has closed. */
export function messageQueue(ws) {
  const queue = [];
  const waiters = [];
  let closed;
  ws.on('message', (data, isBinary) => {
    const message = { data: Buffer.from(data), isBinary };
    const waiter = waiters.shift();
    if (waiter) waiter.resolve(message); else queue.push(message);
  });
  ws.on('close', (code) => {
    closed = code;
    for (const waiter of waiters.splice(0)) waiter.reject(code);
  });
  return (what, ms = 20000) => {
    const gone = (code) => new TestFailure(`the connection closed (${code}) while waiting for ${what}`);
    if (queue.length) return Promise.resolve(queue.shift());
    if (closed !== undefined) return Promise.reject(gone(closed));
    return withTimeout(new Promise((resolve, reject) => waiters.push({ resolve, reject: (code) => reject(gone(code)) })),
      ms, what);
  };
}

/** Runs cases[args.case]() under a watchdog of args.timeout seconds; prints PASS or FAIL and
 * exits 0 or 1. */
export async function runClientCase(cases, args) {
  const timer = setTimeout(() => {
    console.log(`FAIL: client ${args.case}: watchdog after ${args.timeout} s`);
    for (const child of clientPrograms) child.kill('SIGKILL');
    process.exit(1);
  }, Number(args.timeout) * 1000);
  try {
    const started = Date.now();
    check(cases[args.case], `unknown case ${args.case}; one of ${Object.keys(cases).join(' ')}`);
    await cases[args.case]();
    console.log(`PASS: client ${args.case} in ${((Date.now() - started) / 1000).toFixed(2)} s`);
    clearTimeout(timer);
    process.exit(0);
  } catch (e) {
    console.log(`FAIL: client ${args.case}: ${e instanceof TestFailure ? e.message : e.stack || e}`);
    process.exit(1);
  }
}
