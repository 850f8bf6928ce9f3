// TLS against Node (node:tls/node:https, `ws` 8) and curl, in both roles. Each case makes a
// throwaway CA and certificates at test time (tests/support/make_test_certs.sh) in its own
// temporary directory and starts its own servers on port 0.
//
// Server role (`aerie serve --tls-cert ... --tls-key ...`):
//   echo   a ws client trusting the test CA echoes over wss:// (with and without
//          permessage-deflate); one that does not trust it is refused by Node's verification
//   https  curl fetches static files over HTTPS, two URLs reusing one connection
// Client role (aerie-cat against a ws server on https.createServer({cert, key})):
//   cat.echo      aerie-cat --echo --cacert ca.pem succeeds and echoes
//   cat.wrong_ca  trusting another CA, aerie-cat exits 1 and says why
//
//   node test_tls.mjs --cli build/bin/aerie --cat build/bin/aerie-cat \
//     --certs-script tests/support/make_test_certs.sh --workers 2 --case echo
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { WebSocketServer } from 'ws';
import { WebSocket, TestFailure, check, checkEq, withTimeout } from './common.mjs';

const { values: args } = parseArgs({
  options: {
    cli: { type: 'string' },
    cat: { type: 'string' },
    'certs-script': { type: 'string' },
    workers: { type: 'string', default: '1' },
    case: { type: 'string' },
    timeout: { type: 'string', default: '55' },
  },
});
const MIB = 1024 * 1024;
const run = promisify(execFile);
const tmp = mkdtempSync(join(tmpdir(), 'aerie-tls-'));
const children = new Set(); // killed at the end and by the watchdog

/** make_test_certs.sh DIR; returns paths by name. */
async function makeCerts(dir) {
  await run(args['certs-script'], [dir], { timeout: 30000 });
  const pem = (name) => join(dir, `${name}.pem`);
  const key = (name) => join(dir, `${name}.key`);
  return { dir, pem, key, ca: pem('ca'), read: (file) => readFileSync(file) };
}

/** `aerie serve` over TLS; resolves with the port of its "https://" listening line. */
async function serve(certs, ...extra) {
  const argv = ['serve', '--host', '127.0.0.1', '--port', '0', '--workers', args.workers,
    '--tls-cert', certs.pem('server'), '--tls-key', certs.key('server'), ...extra.map(String)];
  const proc = spawn(args.cli, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(proc);
  const server = { proc, log: '' };
  proc.stderr.on('data', (d) => { server.log += d; });
  let out = '';
  server.port = await withTimeout(new Promise((resolve, reject) => {
    proc.stdout.on('data', (d) => {
      out += d;
      const match = /aerie listening on (https?):\/\/127\.0\.0\.1:(\d+) \((\d+) workers\)/.exec(out);
      if (!match) return;
      if (match[1] !== 'https') reject(new TestFailure(`listening line says ${match[1]}:// with --tls-cert`));
      if (match[3] !== args.workers) reject(new TestFailure(`${match[3]} workers, expected ${args.workers}`));
      resolve(Number(match[2]));
    });
    proc.on('exit', (code) => reject(new TestFailure(`aerie serve exited (${code}) before listening: ${server.log}`)));
  }), 10000, 'the listening line of aerie serve');
  server.stop = async () => {
    check(proc.exitCode === null, `aerie serve died during the case: ${server.log}`);
    proc.kill('SIGTERM');
    const [code] = await withTimeout(once(proc, 'exit'), 10000, 'aerie serve to exit after SIGTERM');
    checkEq(code, 0, 'exit code of aerie serve after SIGTERM');
  };
  return server;
}

/** A ws client; resolves once open, rejects with the handshake's error. */
function open(url, options) {
  const ws = new WebSocket(url, options);
  const messages = [];
  const waiters = [];
  ws.on('message', (data, isBinary) => {
    const message = isBinary ? data : data.toString();
    const waiter = waiters.shift();
    if (waiter) waiter(message); else messages.push(message);
  });
  const next = (what) => (messages.length ? Promise.resolve(messages.shift())
    : withTimeout(new Promise((resolve) => waiters.push(resolve)), 20000, what));
  return withTimeout(new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ ws, next }));
    ws.once('error', reject);
  }), 5000, `the handshake with ${url}`);
}

async function echoAll(client, payloads) {
  for (const payload of payloads) {
    client.ws.send(payload);
    const echo = await client.next(`the echo of ${payload.length} bytes`);
    check(typeof echo === typeof payload, `echo of ${payload.length} bytes came back as ${typeof echo}`);
    const same = typeof payload === 'string' ? echo === payload : payload.equals(echo);
    check(same, `echo of ${payload.length} bytes differs (${echo.length} back)`);
  }
}

const PAYLOADS = ['', 'hello over TLS', 'é✓𝄞 '.repeat(3000), randomBytes(16 * 1024 + 5),
  'x'.repeat(300_000), randomBytes(3 * MIB)];
const UNLIMITED = ['--max-message-size', 8 * MIB, '--max-frame-size', 8 * MIB, '--heartbeat-ms', 0,
  '--max-frames-per-second', 0, '--max-bytes-per-minute', 0];

/** aerie-cat as a subprocess: { code, stdout, stderr, describe() }. */
async function runCat(...argv) {
  check(args.cat, 'this case needs --cat PATH (aerie-cat)');
  const child = spawn(args.cat, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  const result = { stdout: '', stderr: '' };
  child.stdout.on('data', (d) => { result.stdout += d; });
  child.stderr.on('data', (d) => { result.stderr += d; });
  [result.code] = await withTimeout(once(child, 'close'), 15000, 'aerie-cat to exit');
  result.describe = () => `aerie-cat exit ${result.code}; stdout ${JSON.stringify(result.stdout.slice(-1500))}`
    + `; stderr ${JSON.stringify(result.stderr.slice(-1500))}`;
  return result;
}

/** A ws server on https.createServer with the test server certificate; it sends messages,
 * checks aerie-cat --echo returns each with its type, then closes 1000. */
async function wsOverHttps(certs) {
  const https = createServer({ cert: certs.read(certs.pem('server')), key: certs.read(certs.key('server')) });
  const wss = new WebSocketServer({ server: https, maxPayload: 0 });
  https.listen(0, '127.0.0.1');
  await once(https, 'listening');
  const state = { connections: 0, errors: [] };
  wss.on('connection', async (ws) => {
    state.connections += 1;
    const queue = [];
    const waiters = [];
    ws.on('message', (data, isBinary) => {
      const message = isBinary ? data : data.toString();
      const waiter = waiters.shift();
      if (waiter) waiter(message); else queue.push(message);
    });
    try {
      checkEq(ws._socket.encrypted, true, 'the ws server socket is TLS');
      await echoAll({ ws, next: (what) => (queue.length ? Promise.resolve(queue.shift())
        : withTimeout(new Promise((resolve) => waiters.push(resolve)), 10000, what)) },
      ['hello from node https', randomBytes(7), 'é✓'.repeat(20_000), randomBytes(MIB + 3)]);
      ws.close(1000, 'done');
    } catch (error) {
      state.errors.push(error.message);
      ws.terminate();
    }
  });
  state.port = https.address().port;
  state.close = () => { for (const ws of wss.clients) ws.terminate(); https.close(); };
  return state;
}

const cases = {
  async echo() {
    const certs = await makeCerts(join(tmp, 'certs'));
    const server = await serve(certs, '--ws', '/echo=echo', ...UNLIMITED);
    const url = `wss://localhost:${server.port}/echo`;
    const ca = certs.read(certs.ca);
    for (const perMessageDeflate of [false, true]) {
      const client = await open(url, { ca, perMessageDeflate, maxPayload: 0 });
      const socket = client.ws._socket;
      checkEq(socket.authorized, true, 'Node verified the certificate');
      checkEq(socket.getPeerCertificate().subject.CN, 'localhost', 'certificate subject');
      check(['TLSv1.2', 'TLSv1.3'].includes(socket.getProtocol()), `TLS version ${socket.getProtocol()}`);
      checkEq(client.ws.extensions, perMessageDeflate ? 'permessage-deflate' : '',
        'negotiated extensions');
      await echoAll(client, PAYLOADS);
      client.ws.close(1000, 'bye');
      const [code] = await withTimeout(once(client.ws, 'close'), 5000, 'the close');
      checkEq(code, 1000, 'close code');
    }
    // Without the test CA Node refuses the server: it really is verified, by Node.
    const error = await open(url, {}).then(({ ws }) => { ws.terminate(); return null; }, (e) => e);
    checkEq(error?.code, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'error without the CA');
    // ...and by name: other.test is not in the certificate.
    const wrongName = await open(url, { ca, servername: 'other.test' })
      .then(({ ws }) => { ws.terminate(); return null; }, (e) => e);
    checkEq(wrongName?.code, 'ERR_TLS_CERT_ALTNAME_INVALID', 'error for another name');
    await server.stop();
  },

  async https() {
    const certs = await makeCerts(join(tmp, 'certs'));
    const root = join(tmp, 'www');
    mkdirSync(root);
    const big = randomBytes(MIB + 777);
    writeFileSync(join(root, 'hello.txt'), 'hello over https\n');
    writeFileSync(join(root, 'big.bin'), big);
    const server = await serve(certs, '--root', root);
    const base = `https://localhost:${server.port}`;
    const out = join(tmp, 'out');
    mkdirSync(out);
    const { stderr } = await run('curl', ['-v', '-sS', '--fail', '--cacert', certs.ca,
      `${base}/hello.txt`, '-o', join(out, '1'), `${base}/big.bin`, '-o', join(out, '2')],
    { timeout: 20000 }).catch((e) => { throw new TestFailure(`curl failed: ${e.message}`); });
    checkEq(readFileSync(join(out, '1'), 'utf8'), 'hello over https\n', 'body of /hello.txt');
    check(readFileSync(join(out, '2')).equals(big), 'body of /big.bin differs');
    check(/Re-using existing connection/i.test(stderr),
      `curl did not reuse the connection for the second URL:\n${stderr}`);
    check(/SSL certificate verify ok/.test(stderr), `curl did not verify the certificate:\n${stderr}`);
    // Without the CA, curl refuses (exit 60: peer certificate cannot be authenticated).
    const refused = await run('curl', ['-sS', `${base}/hello.txt`], { timeout: 10000 })
      .then(() => 0, (e) => e.code);
    checkEq(refused, 60, 'curl exit code without --cacert');
    await server.stop();
  },

  async 'cat.echo'() {
    const certs = await makeCerts(join(tmp, 'certs'));
    const peer = await wsOverHttps(certs);
    try {
      const result = await runCat('--echo', '--show-close', '--cacert', certs.ca,
        `wss://localhost:${peer.port}/`);
      checkEq(peer.errors, [], `the server's checks (${result.describe()})`);
      checkEq(peer.connections, 1, 'connections the server saw');
      check(result.code === 0, `expected exit 0: ${result.describe()}`);
      check(result.stderr.includes('closed: 1000 done'), `no close line: ${result.describe()}`);
    } finally {
      peer.close();
    }
  },

  async 'cat.wrong_ca'() {
    const certs = await makeCerts(join(tmp, 'certs'));
    const stranger = await makeCerts(join(tmp, 'other-ca')); // another CA, same names
    const peer = await wsOverHttps(certs);
    try {
      const result = await runCat('--echo', '--cacert', stranger.ca, `wss://localhost:${peer.port}/`);
      checkEq(result.code, 1, `exit code trusting another CA (${result.describe()})`);
      check(/aerie-cat: TLS handshake with localhost:\d+: certificate verification failed: unable to get local issuer certificate/
        .test(result.stderr), `stderr should name the unknown issuer: ${result.describe()}`);
      checkEq(peer.connections, 0, 'WebSocket connections the server saw');
      // The right CA still works against the same server (the failure was the CA).
      const ok = await runCat('--echo', '--cacert', certs.ca, `wss://localhost:${peer.port}/`);
      check(ok.code === 0 && peer.connections === 1, `with the right CA: ${ok.describe()}`);
    } finally {
      peer.close();
    }
  },
};

const finish = (failure) => {
  for (const child of children) child.kill('SIGKILL');
  rmSync(tmp, { recursive: true, force: true });
  const name = `test_tls.mjs ${args.case} (workers ${args.workers})`;
  console.log(failure ? `FAIL: ${name}: ${failure}` : `PASS: ${name} in ${((Date.now() - started) / 1000).toFixed(2)} s`);
  process.exit(failure ? 1 : 0);
};
const started = Date.now();
if (!(args.case in cases) || !args['certs-script']) {
  console.log(`FAIL: usage: --cli PATH --cat PATH --certs-script PATH --case ${Object.keys(cases).join('|')}`);
  process.exit(1);
}
const watchdog = setTimeout(() => finish(`watchdog: still running after ${args.timeout} s`),
  Number(args.timeout) * 1000);
try {
  await cases[args.case]();
  clearTimeout(watchdog);
  finish(null);
} catch (error) {
  clearTimeout(watchdog);
  finish(error instanceof TestFailure ? error.message : `unexpected exception: ${error.stack ?? error}`);
}
