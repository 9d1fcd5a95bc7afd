// The WebGL bundle in headless Chromium (SwiftShader), served by a static server on
// 127.0.0.1 with every other request refused: `kiln compile MODEL --target webgl --bundle`,
// then the page runs the model on a seeded random tensor (compared with `kiln run`'s
// reference executor: max |webgl - ref| <= 1e-4 * max |ref|, the project's float32 bound),
// runs it again (same answer, no new textures), classifies a photo picked through the file
// input, takes a screenshot of the page, and checks that a lost WebGL context, a missing
// EXT_color_buffer_float and a shader the browser rejects are reported as such.
//
//   node bundle_test.mjs KILN MODEL.onnx WORKDIR PHOTO
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const { readNpy, writeNpy } = await import(join(root, 'scripts/node/npy.mjs'));

const [kiln, model, work, photo] = process.argv.slice(2);
if (!photo) {
  console.error('usage: node bundle_test.mjs KILN MODEL.onnx WORKDIR PHOTO');
  process.exit(2);
}
const fail = (msg) => {
  console.error(`FAIL: ${msg}`);
  process.exitCode = 1;
};
const run = (args) => {
  const r = spawnSync(kiln, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`kiln ${args.join(' ')}: ${r.stderr || r.stdout}`);
  return r.stdout;
};

// The bundle, and the reference answer for a seeded tensor.
const bundle = join(work, 'bundle');
rmSync(bundle, { recursive: true, force: true });
console.log(run(['compile', model, '--target', 'webgl', '--bundle', bundle]).trim());
const manifest = JSON.parse(await (await import('node:fs/promises')).readFile(join(bundle, 'manifest.json'), 'utf8'));
const input = manifest.values[manifest.inputs[0]];
const numel = input.shape.reduce((a, b) => a * b, 1);
const x = new Float32Array(numel);
let seed = 12345;
for (let i = 0; i < numel; ++i) {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  x[i] = (seed / 2147483648) * 2 - 1;
}
writeNpy(join(work, 'input.npy'), 'float32', input.shape, x);
run(['run', model, '--input', join(work, 'input.npy'), '--output', join(work, 'ref.npy')]);
const want = readNpy(join(work, 'ref.npy')).data;

// A static server for the bundle folder, on loopback only.
const { serveLocal } = await import(join(root, 'scripts/node/local_server.mjs'));
const server = await serveLocal((path) => join(bundle, path === '/' ? 'index.html' : path));
const url = `http://127.0.0.1:${server.address().port}/index.html`;

const { launchChromium } = await import(join(root, 'scripts/node/chromium.mjs'));
const { context, profile } = await launchChromium();
try {
  const page = context.pages()[0] ?? (await context.newPage());
  const offsite = [];
  await page.route('**/*', (route) => {
    const u = new URL(route.request().url());
    if (u.hostname === '127.0.0.1' || u.protocol === 'blob:' || u.protocol === 'data:') return route.continue();
    offsite.push(u.href);
    return route.abort();
  });
  page.on('console', (m) => console.log(`[page] ${m.text()}`));
  page.on('pageerror', (e) => fail(`page error: ${e.message}`));
  await page.goto(url);
  await page.waitForFunction(() => window.kiln, null, { timeout: 120000 });
  const loaded = await page.evaluate(() => window.kiln.error ?? null);
  if (loaded) throw new Error(`the page could not load the model: ${loaded}`);
  console.log(await page.textContent('#status'));

  // The seeded tensor, twice: the answer matches the reference and no texture is added.
  const result = await page.evaluate(async (data) => {
    const m = window.kiln.model;
    const feed = { [m.inputs[0].name]: new Float32Array(data) };
    const textures = m.textureCount;
    let t = performance.now();
    const [a] = await m.run(feed);
    const first = performance.now() - t;
    t = performance.now();
    const [b] = await m.run(feed);
    const second = performance.now() - t;
    return { a: Array.from(a), same: a.every((v, i) => v === b[i]), grew: m.textureCount - textures, first, second,
      renderer: (() => { const gl = m.gl; const d = gl.getExtension('WEBGL_debug_renderer_info');
        return d ? gl.getParameter(d.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER); })() };
  }, Array.from(x));
  let maxAbs = 0, maxRef = 0;
  for (let i = 0; i < want.length; ++i) {
    maxAbs = Math.max(maxAbs, Math.abs(result.a[i] - want[i]));
    maxRef = Math.max(maxRef, Math.abs(want[i]));
  }
  console.log(`webgl on ${result.renderer}: run ${result.first.toFixed(1)} ms, again ${result.second.toFixed(1)} ms; ` +
    `max|webgl - ref| ${maxAbs.toExponential(3)} / max|ref| ${maxRef.toFixed(4)}`);
  if (result.a.length !== want.length) fail(`${result.a.length} outputs, the reference has ${want.length}`);
  if (!(maxAbs <= 1e-4 * maxRef)) fail(`max abs diff ${maxAbs} above 1e-4 * ${maxRef}`);
  if (!result.same) fail('a second run gave a different answer');
  if (result.grew !== 0) fail(`a run created ${result.grew} textures`);

  // A photo through the file input: the page shows the top-5 and the time per inference.
  await page.setInputFiles('#file', photo);
  await page.waitForFunction(() => window.kiln.top5 || document.querySelector('#status.error'), null, { timeout: 300000 });
  const status = await page.textContent('#status');
  const top5 = await page.evaluate(() => window.kiln.top5);
  if (!top5) fail(`classifying the photo failed: ${status}`);
  else console.log(`top-5: ${top5.map((t) => `${t.class} ${t.score.toFixed(3)} ${t.label}`).join(' | ')}`);
  console.log(await page.textContent('#time'));
  if (top5 && top5.length !== 5) fail(`the page shows ${top5.length} classes`);
  await page.screenshot({ path: join(work, 'bundle.png'), fullPage: true });
  console.log(`screenshot ${join(work, 'bundle.png')}`);
  if (offsite.length) fail(`the page asked the network for ${offsite.join(', ')}`);

  // Failures a user must be told about: a lost context, and WebGL2 without float render
  // targets (simulated by hiding the extension).
  const errors = await page.evaluate(async () => {
    const m = window.kiln.model;
    m.gl.getExtension('WEBGL_lose_context').loseContext();
    const lost = await m.run([new Float32Array(m.inputs[0].numel)]).then(() => 'no error', (e) => e.message);
    const { KilnModel } = await import('./kiln.js');
    const real = WebGL2RenderingContext.prototype.getExtension;
    WebGL2RenderingContext.prototype.getExtension = function (name) {
      return name === 'EXT_color_buffer_float' ? null : real.call(this, name);
    };
    const noFloat = await KilnModel.load(new URL('./', location.href)).then(() => 'no error', (e) => e.message);
    WebGL2RenderingContext.prototype.getExtension = real;
    // A shader the browser rejects (one line of the package's last shader broken): reported
    // at load with its file name and the browser's log.
    const manifest = await (await fetch('manifest.json')).json();
    const names = ['manifest.json', manifest.params, manifest.vertex_shader,
      ...new Set(manifest.kernels.flatMap((k) => k.passes.map((p) => p.shader)))];
    const files = new Map(await Promise.all(names.map(async (n) => [n, await (await fetch(n)).arrayBuffer()])));
    const bad = names.at(-1);
    const text = new TextDecoder().decode(files.get(bad)).replace('out vec4 kiln_out;', 'out vec4 kiln_out; int broken = ;');
    files.set(bad, new TextEncoder().encode(text).buffer);
    const badShader = await KilnModel.fromFiles(files).then(() => 'no error', (e) => e.message);
    return { lost, noFloat, badShader, bad };
  });
  console.log(`context lost: ${errors.lost}`);
  console.log(`no EXT_color_buffer_float: ${errors.noFloat}`);
  if (!/context was lost/.test(errors.lost)) fail('a lost context was not reported');
  if (!/EXT_color_buffer_float/.test(errors.noFloat)) fail('a missing EXT_color_buffer_float was not reported');
  console.log(`broken shader: ${errors.badShader}`);
  if (!errors.badShader.includes(`WebGL rejected shader ${errors.bad}`)) fail('a shader the browser rejects was not reported by name');
} catch (e) {
  fail(e.message);
} finally {
  await context.close();
  server.close();
  rmSync(profile, { recursive: true, force: true });
}
if (!process.exitCode) console.log('PASS');
