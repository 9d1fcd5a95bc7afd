// RPC to a browser, end to end: `kiln rpc serve` on 127.0.0.1, headless Chromium
// (SwiftShader) opens its page with the token, then `kiln run PACKAGE --rpc ws://...`
// uploads a webgl package, runs it in the page and gets the outputs and the time back;
// they must match the reference executor (max |webgl - ref| <= 1e-4 * max |ref|). A client
// with a wrong token is refused while the page stays connected and keeps serving.
//
//   node rpc_test.mjs KILN MODEL.onnx WORKDIR
import { spawn, spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const require = createRequire(join(root, 'scripts/node/package.json'));
const { readNpy, writeNpy } = await import(join(root, 'scripts/node/npy.mjs'));

const [kiln, model, work] = process.argv.slice(2);
if (!work) {
  console.error('usage: node rpc_test.mjs KILN MODEL.onnx WORKDIR');
  process.exit(2);
}
const fail = (msg) => {
  console.error(`FAIL: ${msg}`);
  process.exitCode = 1;
};
const kilnRun = (args, env = {}) => spawnSync(kiln, args, { encoding: 'utf8', env: { ...process.env, ...env } });

const pkg = join(work, 'package');
rmSync(pkg, { recursive: true, force: true });
let r = kilnRun(['compile', model, '--target', 'webgl', '-o', pkg]);
if (r.status !== 0) throw new Error(r.stderr);
const manifest = JSON.parse(require('node:fs').readFileSync(join(pkg, 'manifest.json'), 'utf8'));
const input = manifest.values[manifest.inputs[0]];
const numel = input.shape.reduce((a, b) => a * b, 1);
const x = new Float32Array(numel);
for (let i = 0; i < numel; ++i) x[i] = Math.sin(i * 0.37) * 0.9;
writeNpy(join(work, 'input.npy'), 'float32', input.shape, x);
r = kilnRun(['run', model, '--input', join(work, 'input.npy'), '--output', join(work, 'ref.npy')]);
if (r.status !== 0) throw new Error(r.stderr);
const want = readNpy(join(work, 'ref.npy')).data;

const token = 'kiln-rpc-test-' + Math.random().toString(16).slice(2).padEnd(16, '0');
const tokenFile = join(work, 'token');
writeFileSync(tokenFile, token + '\n');
const server = spawn(kiln, ['rpc', 'serve', '--port', '0', '--token-file', tokenFile], { stdio: ['ignore', 'pipe', 'inherit'] });
let serverLog = '';
const port = await new Promise((res, rej) => {
  server.stdout.on('data', (d) => {
    serverLog += d;
    const m = /listening http:\/\/127\.0\.0\.1:(\d+)\//.exec(serverLog);
    if (m) res(Number(m[1]));
  });
  server.on('exit', (c) => rej(new Error(`kiln rpc serve exited (${c}): ${serverLog}`)));
});

const { launchChromium } = await import(join(root, 'scripts/node/chromium.mjs'));
const { context, profile } = await launchChromium();
try {
  const page = context.pages()[0] ?? (await context.newPage());
  page.on('pageerror', (e) => fail(`page error: ${e.message}`));
  await page.goto(`http://127.0.0.1:${port}/#token=${token}`);
  await page.waitForFunction(() => window.kiln?.connected, null, { timeout: 60000 });
  console.log(`page: ${await page.textContent('#status')}`);

  const bad = kilnRun(['run', pkg, '--rpc', `ws://127.0.0.1:${port}`, '--input', join(work, 'input.npy')],
    { KILN_RPC_TOKEN: 'wrong-token-wrong-token' });
  console.log(`wrong token: exit ${bad.status}: ${bad.stderr.trim()}`);
  if (bad.status === 0 || !/authentication failed/.test(bad.stderr)) fail('a wrong token was not refused');

  const run = kilnRun(['run', pkg, '--rpc', `ws://127.0.0.1:${port}`, '--rpc-token-file', tokenFile,
    '--input', join(work, 'input.npy'), '--output', join(work, 'rpc.npy'), '--repeat', '2']);
  console.log(run.stdout.trim());
  if (run.status !== 0) throw new Error(`kiln run --rpc failed: ${run.stderr}`);
  if (!/device +rpc ws:\/\/.*webgl on .*SwiftShader/.test(run.stdout)) fail('the run did not report the browser as its device');
  const got = readNpy(join(work, 'rpc.npy')).data;
  let maxAbs = 0, maxRef = 0;
  for (let i = 0; i < want.length; ++i) {
    maxAbs = Math.max(maxAbs, Math.abs(got[i] - want[i]));
    maxRef = Math.max(maxRef, Math.abs(want[i]));
  }
  console.log(`max|browser - ref| ${maxAbs.toExponential(3)} / max|ref| ${maxRef.toFixed(4)}`);
  if (got.length !== want.length || !(maxAbs <= 1e-4 * maxRef)) fail(`outputs differ: ${maxAbs} against ${maxRef}`);
  if (!(await page.evaluate(() => window.kiln.connected))) fail('the page lost its connection');
} catch (e) {
  fail(e.message);
} finally {
  await context.close();
  server.kill('SIGTERM');
  rmSync(profile, { recursive: true, force: true });
}
if (!process.exitCode) console.log('PASS');
