// The demo chat page (examples/public/index.html) in real Chromium: two tabs connect to
// `aerie serve --ws /ws=chat`, one types, both see the message; closing a tab is announced.
// Usage: node chat_page.test.mjs AERIE_BINARY EXAMPLES_PUBLIC_DIR
import { launchChromium, startAerie, stopAerie } from './harness.mjs';

const [aerie, publicDir] = process.argv.slice(2);
const fail = (why) => { console.error('FAIL: ' + why); process.exit(1); };
setTimeout(() => fail('timed out after 90 s'), 90_000).unref();

const { server, port } = await startAerie(aerie, ['--workers', '2', '--root', publicDir,
  '--ws', '/ws=chat'], { stderr: 'inherit' }).catch((e) => fail(e.message));
const browser = await launchChromium();
try {
  const url = `http://127.0.0.1:${port}/`;
  const alice = await browser.newPage();
  const bob = await browser.newPage();
  await alice.goto(url);
  await bob.goto(url);
  for (const page of [alice, bob]) {
    await page.waitForFunction(() => document.getElementById('status').textContent === 'connected',
      null, { timeout: 15_000 });
  }
  await alice.fill('#in', 'hello from alice ✓');
  await alice.click('#send');
  for (const [name, page] of [['alice', alice], ['bob', bob]]) {
    await page.waitForFunction(
      () => [...document.querySelectorAll('#log div')].some((d) => d.textContent.endsWith(': hello from alice ✓')),
      null, { timeout: 15_000 }).catch(() => fail(`${name} did not see alice's message`));
  }
  // Markup in a message is shown as text, never interpreted.
  await bob.fill('#in', '<b>bold?</b>');
  await bob.click('#send');
  await alice.waitForFunction(
    () => [...document.querySelectorAll('#log div')].some((d) => d.textContent.endsWith(': <b>bold?</b>')),
    null, { timeout: 15_000 }).catch(() => fail('alice did not see bob\'s message as text'));
  await bob.close();
  await alice.waitForFunction(
    () => [...document.querySelectorAll('#log div.system')].some((d) => / left \(100[01]\)$/.test(d.textContent)),
    null, { timeout: 15_000 }).catch(() => fail('alice was not told that bob left'));
  console.log('ok: chat page works in Chromium (messages, escaping, leave notice)');
} finally {
  await browser.close();
  const code = await stopAerie(server);
  if (code !== 0) fail(`server exited with ${code} after SIGTERM`);
}
process.exit(0);
