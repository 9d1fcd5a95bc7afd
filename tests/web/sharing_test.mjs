// Programs shared between passes, and nothing stale across models, in headless Chromium's
// WebGL2 (SwiftShader). Model A has passes with the same shader source (the package stores it
// once); model B, compiled with --shape-uniforms, has passes of different shapes that share one
// shader, each pass setting its shape values (the uniform kiln_u) from the manifest. In one page: A loads and links one program per distinct
// source (fewer than its passes) and gives the reference's answer; A is disposed (no texture
// or program left, and it refuses to run); B loads and gives its own answer; A loads again
// (the browser's program cache now holds A's programs) and B, still loaded, runs again: both
// give their reference's answers (max |webgl - ref| <= 1e-4 * max |ref|, docs/webgl.md).
//
//   node sharing_test.mjs KILN MODEL_A.onnx MODEL_B.onnx WORKDIR
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const { readNpy, writeNpy } = await import(join(root, 'scripts/node/npy.mjs'));

const [kiln, modelA, modelB, work] = process.argv.slice(2);
if (!work) {
  console.error('usage: node sharing_test.mjs KILN MODEL_A.onnx MODEL_B.onnx WORKDIR');
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

// Each model's bundle, a seeded input, and the reference executor's answer.
const models = [modelA, modelB].map((model, m) => {
  const bundle = join(work, `bundle_${m}`);
  rmSync(bundle, { recursive: true, force: true });
  run(['compile', model, '--target', 'webgl', '--shape-uniforms', '--bundle', bundle]);
  const manifest = JSON.parse(readFileSync(join(bundle, 'manifest.json'), 'utf8'));
  const input = manifest.values[manifest.inputs[0]];
  const x = new Float32Array(input.shape.reduce((a, b) => a * b, 1));
  let seed = 777 + m;
  for (let i = 0; i < x.length; ++i) {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    x[i] = (seed / 2147483648) * 2 - 1;
  }
  writeNpy(join(work, `input_${m}.npy`), 'float32', input.shape, x);
  run(['run', model, '--input', join(work, `input_${m}.npy`), '--output', join(work, `ref_${m}.npy`)]);
  const passes = manifest.kernels.flatMap((k, i) => manifest.steps.filter((s) => s.kernel === i).flatMap(() => k.passes));
  // shader file -> the distinct shape values its passes set
  const values = new Map();
  for (const p of passes) {
    if (!values.has(p.shader)) values.set(p.shader, new Set());
    values.get(p.shader).add(JSON.stringify(p.uniforms ?? null));
  }
  return { bundle, x, want: readNpy(join(work, `ref_${m}.npy`)).data, passes: passes.length,
    files: values.size, shapeShared: [...values.values()].filter((v) => v.size > 1).length };
});
const [A, B] = models;
console.log(`A ${modelA}: ${A.passes} passes, ${A.files} distinct shader files; B ${modelB}: ${B.passes} passes, ${B.files} files`);
if (!(A.files < A.passes)) fail(`model A should have passes that share a shader (${A.files} files for ${A.passes} passes)`);
console.log(`B: ${B.shapeShared} shader(s) shared by passes with different shape values`);
if (!(B.shapeShared >= 1)) fail('model B should have a shader shared by passes of different shapes (set per pass as uniforms)');

const { serveLocal } = await import(join(root, 'scripts/node/local_server.mjs'));
const server = await serveLocal((path) => {
  const m = /^\/([ab])\/(.*)$/.exec(path);
  return m ? join(models[m[1] === 'a' ? 0 : 1].bundle, m[2] || 'index.html') : null;
});
const { launchChromium } = await import(join(root, 'scripts/node/chromium.mjs'));
const { context, profile } = await launchChromium();
try {
  const page = context.pages()[0] ?? (await context.newPage());
  await page.goto(`http://127.0.0.1:${server.address().port}/a/index.html`);
  await page.waitForFunction(() => window.kiln, null, { timeout: 120000 });
  const r = await page.evaluate(async ([xa, xb]) => {
    const { KilnModel } = await import('/a/kiln.js');
    window.kiln.model?.dispose();  // the bundle page's own copy
    const out = {};
    const base = (b) => new URL(`/${b}/`, location.href);
    let a = await KilnModel.load(base('a'));
    out.programs = a.programCount;
    out.passes = a.passes.length;
    out.a1 = Array.from((await a.run([new Float32Array(xa)]))[0]);
    a.dispose();
    out.disposed = { textures: a.textureCount, programs: a.programCount };
    out.afterDispose = await a.run([new Float32Array(xa)]).then(() => 'no error', (e) => e.message);
    const b = await KilnModel.load(base('b'));
    out.b1 = Array.from((await b.run([new Float32Array(xb)]))[0]);
    a = await KilnModel.load(base('a'));
    out.programs2 = a.programCount;
    out.a2 = Array.from((await a.run([new Float32Array(xa)]))[0]);
    out.b2 = Array.from((await b.run([new Float32Array(xb)]))[0]);
    a.dispose();
    b.dispose();
    return out;
  }, [Array.from(A.x), Array.from(B.x)]);

  console.log(`A in the page: ${r.programs} programs for ${r.passes} passes; after a reload ${r.programs2}`);
  if (!(r.programs < r.passes)) fail(`A linked ${r.programs} programs for ${r.passes} passes: none shared`);
  if (r.programs !== A.files) fail(`A linked ${r.programs} programs for ${A.files} distinct shader files`);
  if (r.programs2 !== r.programs) fail(`A reloaded linked ${r.programs2} programs, first ${r.programs}`);
  if (r.disposed.textures !== 0 || r.disposed.programs !== 0)
    fail(`a disposed model still holds ${r.disposed.textures} textures and ${r.disposed.programs} programs`);
  console.log(`run after dispose: ${r.afterDispose}`);
  if (!/disposed/.test(r.afterDispose)) fail('running a disposed model was not refused');
  const check = (what, got, want) => {
    let diff = 0, scale = 0;
    for (let i = 0; i < want.length; ++i) {
      diff = Math.max(diff, Math.abs(got[i] - want[i]));
      scale = Math.max(scale, Math.abs(want[i]));
    }
    console.log(`${what}: max |webgl - ref| ${diff.toExponential(2)}, max |ref| ${scale.toFixed(4)}`);
    if (got.length !== want.length) fail(`${what}: ${got.length} values, the reference has ${want.length}`);
    else if (!(diff <= 1e-4 * scale)) fail(`${what}: max |webgl - ref| ${diff} exceeds 1e-4 * ${scale}`);
  };
  check('A, first load', r.a1, A.want);
  check('B, after A was disposed', r.b1, B.want);
  check('A, loaded again', r.a2, A.want);
  check('B, run again beside the new A', r.b2, B.want);
} catch (e) {
  fail(e.message);
} finally {
  await context.close();
  server.close();
  rmSync(profile, { recursive: true, force: true });
}
if (!process.exitCode) console.log('PASS');
