// HTTPS and wss:// with real Chromium: `aerie serve --tls-cert ... --tls-key ...` serves
// examples/public over HTTPS and an echo endpoint over WSS; the page loads from
// https://127.0.0.1:P/ and exchanges text and binary messages of several sizes over
// wss:// from page.evaluate. The certificates are made at test time
// (tests/support/make_test_certs.sh); Chromium does not know the test CA, hence
// --ignore-certificate-errors, but the test checks (DevTools Network events) that the page
// really came over TLS and which certificate the server presented.
// Usage: node tls.test.mjs AERIE_BINARY EXAMPLES_PUBLIC_DIR MAKE_TEST_CERTS_SCRIPT
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchChromium, startAerie, stopAerie } from './harness.mjs';

const [aerie, publicDir, certsScript] = process.argv.slice(2);
const certs = mkdtempSync(join(tmpdir(), 'aerie-browser-tls-'));
let server;
let port;
const fail = (why) => {
  console.error('FAIL: ' + why);
  server?.kill('SIGKILL');
  rmSync(certs, { recursive: true, force: true });
  process.exit(1);
};
setTimeout(() => fail('timed out after 55 s'), 55_000).unref();
if (!certsScript) fail('usage: node tls.test.mjs AERIE_BINARY EXAMPLES_PUBLIC_DIR MAKE_TEST_CERTS_SCRIPT');
execFileSync(certsScript, [certs], { timeout: 30_000 });

({ server, port } = await startAerie(aerie, ['--workers', '2', '--root', publicDir,
  '--ws', '/echo=echo', '--max-frames-per-second', '0', '--max-bytes-per-minute', '0',
  '--tls-cert', join(certs, 'server.pem'), '--tls-key', join(certs, 'server.key')],
{ scheme: 'https' }).catch((e) => fail(e.message)));

const browser = await launchChromium(['--ignore-certificate-errors']);
try {
  const page = await browser.newPage();
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  let security;
  cdp.on('Network.responseReceived', (event) => {
    if (event.type === 'Document') security = event.response.securityDetails;
  });
  const response = await page.goto(`https://127.0.0.1:${port}/`);
  if (!response || response.status() !== 200) fail(`GET / over HTTPS: status ${response?.status()}`);
  const html = await response.text();
  if (!/<html/i.test(html)) fail(`GET / over HTTPS: not the example page: ${html.slice(0, 200)}`);
  if (!security) fail('DevTools reported no TLS details for the page');
  if (!/^TLS 1\.[23]$/.test(security.protocol)) fail(`page protocol ${security.protocol}`);
  if (security.subjectName !== 'localhost') fail(`certificate subject ${security.subjectName}`);
  if (!security.sanList.includes('127.0.0.1')) fail(`certificate SANs ${security.sanList}`);

  const result = await page.evaluate(async (url) => {
    const random = (n) => {
      const bytes = new Uint8Array(n);
      for (let i = 0; i < n; i += 65536) crypto.getRandomValues(bytes.subarray(i, Math.min(n, i + 65536)));
      return bytes;
    };
    const messages = ['hello over wss', '', 'é✓𝄞'.repeat(10_000), random(1), random(16_390),
      random(1_000_000), 'x'.repeat(300_000)];
    const ws = new WebSocket(url);
    ws.binaryType = 'arraybuffer';
    await new Promise((resolve, reject) => { ws.onopen = resolve; ws.onerror = () => reject(new Error('wss:// failed')); });
    const same = (a, b) => {
      if (typeof a === 'string') return a === b;
      if (typeof b === 'string') return false;
      const x = new Uint8Array(b);
      return x.length === a.length && x.every((v, i) => v === a[i]);
    };
    const results = [];
    for (const message of messages) {
      const echo = await new Promise((resolve) => { ws.onmessage = (e) => resolve(e.data); ws.send(message); });
      results.push(same(message, echo));
    }
    ws.close(1000, 'bye');
    const close = await new Promise((resolve) => { ws.onclose = (e) => resolve(e); });
    return { results, url: ws.url, code: close.code, clean: close.wasClean };
  }, `wss://127.0.0.1:${port}/echo`).catch((e) => fail(`page.evaluate: ${e.message}`));

  if (!result.results.every(Boolean)) fail(`echoes differ: ${JSON.stringify(result.results)}`);
  if (result.code !== 1000 || !result.clean) fail(`close: code ${result.code}, clean ${result.clean}`);
  console.log(`ok: page over ${security.protocol} (${security.cipher}), ${result.results.length} wss:// echoes matched`);
} finally {
  await browser.close();
  const code = await stopAerie(server);
  rmSync(certs, { recursive: true, force: true });
  if (code !== 0) fail(`server exited with ${code} after SIGTERM`);
}
process.exit(0);
