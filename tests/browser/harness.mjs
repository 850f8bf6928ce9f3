// What the browser tests share: starting `aerie serve` on a free port and launching the
// system's Chromium headless.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chromium } from 'playwright-core';

/// Starts `aerie serve --host 127.0.0.1 --port 0 ARGS...` and waits (up to 5 s) for its
/// "listening on SCHEME://127.0.0.1:PORT" line. Returns { server, port, output() }, where
/// output() is everything the server printed so far (stdout, and stderr unless it is
/// inherited). Throws, after killing the server, when no listening line appears.
export async function startAerie(aerie, args, { env = process.env, scheme = 'http', stderr = 'pipe' } = {}) {
  const server = spawn(aerie, ['serve', '--host', '127.0.0.1', '--port', '0', ...args],
    { stdio: ['ignore', 'pipe', stderr], env });
  let output = '';
  for (const stream of [server.stdout, server.stderr]) {
    if (!stream) continue;
    stream.setEncoding('utf8');
    stream.on('data', (chunk) => { output += chunk; });
  }
  const listening = new RegExp(`listening on ${scheme}://127\\.0\\.0\\.1:(\\d+)`);
  for (let i = 0; i < 100; ++i) {
    const match = output.match(listening);
    if (match) return { server, port: Number(match[1]), output: () => output };
    await new Promise((r) => setTimeout(r, 50));
  }
  server.kill('SIGKILL');
  throw new Error(`server did not print its ${scheme}:// listening line:\n${output}`);
}

/// Sends SIGTERM and returns the exit code (0 for a clean shutdown).
export async function stopAerie(server) {
  server.kill('SIGTERM');
  const [code] = await once(server, 'exit');
  return code;
}

/// Debian's Chromium, headless, without background traffic; extraArgs are added.
export function launchChromium(extraArgs = []) {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      ...extraArgs],
  });
}
