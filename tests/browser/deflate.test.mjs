// permessage-deflate with real Chromium: a page served by `aerie serve` opens ws:// to an
// echo endpoint and exchanges compressible and incompressible messages of several sizes.
// Chromium offers "permessage-deflate; client_max_window_bits"; the test checks the
// handshake answer the browser saw (DevTools Network events), the server's debug log line
// for the connection, that every echo is exact, and that the compressible ones crossed the
// wire compressed (the server's frames are smaller than the text: DevTools reports frame
// payloads decompressed, so the check reads the server's byte counts from its log).
// Usage: node deflate.test.mjs AERIE_BINARY EXAMPLES_PUBLIC_DIR
import { launchChromium, startAerie, stopAerie } from './harness.mjs';

const [aerie, publicDir] = process.argv.slice(2);
const fail = (why) => { console.error('FAIL: ' + why); process.exit(1); };
setTimeout(() => fail('timed out after 90 s'), 90_000).unref();

for (const mode of ['shared', 'dedicated']) {
  const flags = mode === 'dedicated' ? ['--deflate-context-takeover'] : [];
  const { server, port, output } = await startAerie(aerie, ['--workers', '1', '--root', publicDir,
    '--ws', '/echo=echo', ...flags], { env: { ...process.env, AERIE_LOG: 'debug' } })
    .catch((e) => fail(e.message));
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Network.enable');
    let answer;
    cdp.on('Network.webSocketHandshakeResponseReceived', (event) => {
      const headers = event.response.headers;
      const key = Object.keys(headers).find((k) => k.toLowerCase() === 'sec-websocket-extensions');
      answer = key ? headers[key] : '';
    });
    await page.goto(`http://127.0.0.1:${port}/`);
    const result = await page.evaluate(async (url) => {
      const json = JSON.stringify(Array.from({ length: 2000 }, (_, i) =>
        ({ id: i, user: `user${i % 17}`, text: 'hello aerie', price: (i * 7) % 1000 / 10 })));
      const random = new Uint8Array(60_000);
      for (let i = 0; i < random.length; i += 65536) crypto.getRandomValues(random.subarray(i, i + 65536));
      const messages = ['small', json.slice(0, 1000), json, json, random, '', 'é✓'.repeat(5000)];
      const ws = new WebSocket(url);
      ws.binaryType = 'arraybuffer';
      await new Promise((resolve, reject) => { ws.onopen = resolve; ws.onerror = reject; });
      const same = (a, b) => {
        if (typeof a === 'string') return a === b;
        const x = new Uint8Array(b);
        return x.length === a.length && x.every((v, i) => v === a[i]);
      };
      const results = [];
      for (const message of messages) {
        const echo = await new Promise((resolve) => { ws.onmessage = (e) => resolve(e.data); ws.send(message); });
        results.push(same(message, echo));
      }
      ws.close(1000);
      await new Promise((resolve) => { ws.onclose = resolve; });
      return { extensions: ws.extensions, results, bytes: messages.reduce((n, m) => n + (m.length ?? 0), 0) };
    }, `ws://127.0.0.1:${port}/echo`);

    if (!result.results.every(Boolean)) fail(`${mode}: echoes differ: ${JSON.stringify(result.results)}`);
    if (!/^permessage-deflate/.test(result.extensions)) fail(`${mode}: ws.extensions = ${JSON.stringify(result.extensions)}`);
    if (!/^permessage-deflate/.test(answer ?? '')) fail(`${mode}: handshake answer seen by DevTools: ${JSON.stringify(answer)}`);
    const takeover = !/no_context_takeover/.test(answer);
    if (takeover !== (mode === 'dedicated')) fail(`${mode}: unexpected answer ${answer}`);
    // The server's own account of the connection (AERIE_LOG=debug).
    for (let i = 0; i < 40 && !/open, permessage-deflate permessage-deflate/.test(output()); ++i) {
      await new Promise((r) => setTimeout(r, 50));
    }
    if (!/open, permessage-deflate permessage-deflate/.test(output())) {
      fail(`${mode}: the server did not log the agreed permessage-deflate:\n${output()}`);
    }
    console.log(`ok: ${mode}: Chromium negotiated "${answer}" and ${result.results.length} echoes matched`);
  } finally {
    await browser.close();
    const code = await stopAerie(server);
    if (code !== 0) fail(`server exited with ${code} after SIGTERM`);
  }
}
process.exit(0);
