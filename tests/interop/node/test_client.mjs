// The aerie CLIENT against Node's `ws` server (npm ws, lockfile in this folder).
//
// Each case starts a ws server on 127.0.0.1 port 0 and runs the aerie-interop-client driver
// (tests/interop/client_driver.cpp), which echoes every message with its type until the
// connection closes and then prints how it closed. The server checks what comes back.
//
//   node test_client.mjs --driver PATH --case NAME [--timeout S]
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { WebSocketServer } from 'ws';

const args = Object.fromEntries(
  process.argv.slice(2).reduce((pairs, v, i, a) => (i % 2 ? pairs : [...pairs, [a[i].replace(/^--/, ''), a[i + 1]]]), []));
const MIB = 1024 * 1024;

function check(condition, message) {
  if (!condition) throw new Error(message);
}

async function startServer(options = {}) {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, maxPayload: 0, ...options });
  await once(wss, 'listening');
  return { wss, url: `ws://127.0.0.1:${wss.address().port}/client` };
}

function runDriver(url, extra = []) {
  const child = spawn(args.driver, [url, ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => { stdout += d; });
  child.stderr.on('data', (d) => { stderr += d; });
  const done = new Promise((resolve) => child.on('exit', (code) => resolve({ code, stdout, get stderr() { return stderr; } })));
  return { child, done };
}

/** Resolves with the next message as [data, isBinary]. */
function nextMessage(ws) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no echo within 20 s')), 20000);
    ws.once('message', (data, isBinary) => { clearTimeout(timer); resolve([data, isBinary]); });
  });
}

async function echoCase(script) {
  const { wss, url } = await startServer();
  const driver = runDriver(url);
  try {
    const [ws] = await once(wss, 'connection');
    await script(ws);
    const result = await driver.done;
    check(result.code === 0, `driver exit ${result.code}: ${result.stdout} ${result.stderr}`);
    return result.stdout;
  } finally {
    driver.child.kill();
    wss.close();
  }
}

const cases = {
  async echo() {
    const out = await echoCase(async (ws) => {
      for (const size of [0, 1, 125, 126, 65535, 65536, MIB, 16 * MIB]) {
        const text = 'aerie-'.repeat(Math.ceil(size / 6) + 1).slice(0, size);
        const binary = Buffer.alloc(size, 0);
        for (let i = 0; i < size; i += 97) binary[i] = i % 251;
        for (const [payload, isBinary] of [[text, false], [binary, true]]) {
          ws.send(payload, { binary: isBinary });
          const [echo, echoBinary] = await nextMessage(ws);
          check(echoBinary === isBinary, `size ${size}: echo binary=${echoBinary}`);
          check(Buffer.compare(Buffer.from(echo), Buffer.from(payload)) === 0, `size ${size}: echo differs`);
        }
      }
      ws.close(1000, 'done');
    });
    check(out.includes('closed code=1000 reason=done'), `driver output: ${out}`);
  },

  async fragmented() {
    await echoCase(async (ws) => {
      ws.send('frag', { fin: false });
      ws.send('men', { fin: false });
      ws.send('ted', { fin: true });
      const [echo, isBinary] = await nextMessage(ws);
      check(!isBinary && echo.toString() === 'fragmented', `echo: ${echo}`);
      ws.close();
    });
  },

  async ping() {
    await echoCase(async (ws) => {
      ws.ping(Buffer.from('are you there'));
      const [data] = await once(ws, 'pong');
      check(data.toString() === 'are you there', `pong payload: ${data}`);
      ws.close();
    });
  },

  async server_close() {
    const out = await echoCase(async (ws) => {
      ws.close(4001, 'bye');
      const [code] = await once(ws, 'close');
      check(code === 4001, `the client answered with ${code}`);
    });
    check(out.includes('closed code=4001 reason=bye'), `driver output: ${out}`);
  },

  async deny() {
    const { wss, url } = await startServer({ verifyClient: (info, cb) => cb(false, 403, 'go away') });
    const driver = runDriver(url);
    try {
      const result = await driver.done;
      check(result.code === 1, `driver exit ${result.code}`);
      check(result.stdout.includes('HandshakeError status=403'), `driver output: ${result.stdout}`);
    } finally {
      wss.close();
    }
  },
};

const timer = setTimeout(() => { console.log(`FAIL: client ${args.case}: watchdog`); process.exit(1); }, Number(args.timeout || 60) * 1000);
try {
  const started = Date.now();
  check(cases[args.case], `unknown case ${args.case}`);
  await cases[args.case]();
  console.log(`PASS: client ${args.case} in ${((Date.now() - started) / 1000).toFixed(2)} s`);
  clearTimeout(timer);
  process.exit(0);
} catch (e) {
  console.log(`FAIL: client ${args.case}: ${e.stack || e}`);
  process.exit(1);
}
