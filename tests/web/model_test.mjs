// A whole model in headless Chromium's WebGL2 (SwiftShader) against the reference executor:
// `kiln compile MODEL --target webgl --bundle`, the bundle run in the page on a seeded random
// tensor by scripts/node/bench_webgl.mjs (served from 127.0.0.1 only), and its output compared
// with `kiln run MODEL` (the reference executor): max |webgl - ref| <= 1e-4 * max |ref|, the
// project's float32 bound (docs/webgl.md, "Tolerance").
//
//   node model_test.mjs KILN MODEL.onnx WORKDIR
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const { readNpy, writeNpy } = await import(join(root, 'scripts/node/npy.mjs'));

const [kiln, model, work] = process.argv.slice(2);
if (!work) {
  console.error('usage: node model_test.mjs KILN MODEL.onnx WORKDIR');
  process.exit(2);
}
const run = (cmd, args) => {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr || r.stdout}`);
  return r.stdout;
};

const bundle = join(work, 'bundle');
rmSync(bundle, { recursive: true, force: true });
console.log(run(kiln, ['compile', model, '--target', 'webgl', '--bundle', bundle]).trim());
const manifest = JSON.parse(readFileSync(join(bundle, 'manifest.json'), 'utf8'));
const input = manifest.values[manifest.inputs[0]];
const numel = input.shape.reduce((a, b) => a * b, 1);
const x = new Float32Array(numel);
let seed = 2024;
for (let i = 0; i < numel; ++i) {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  x[i] = (seed / 2147483648) * 2 - 1;
}
writeNpy(join(work, 'input.npy'), 'float32', input.shape, x);
run(kiln, ['run', model, '--input', join(work, 'input.npy'), '--output', join(work, 'ref.npy')]);
const want = readNpy(join(work, 'ref.npy')).data;

const line = run('node', [join(root, 'scripts/node/bench_webgl.mjs'), bundle, join(work, 'input.npy'),
  join(work, 'webgl.npy'), '--runs', '1', '--warmup', '0']);
const r = JSON.parse(line);
const got = readNpy(join(work, 'webgl.npy')).data;
let diff = 0, scale = 0;
for (let i = 0; i < want.length; ++i) {
  diff = Math.max(diff, Math.abs(got[i] - want[i]));
  scale = Math.max(scale, Math.abs(want[i]));
}
console.log(`${model}: ${r.renderer}; first inference ${r.first_inference_ms.toFixed(0)} ms ` +
  `(load ${r.model_load_ms.toFixed(0)} ms, first run ${r.first_ms.toFixed(0)} ms), second run ` +
  `${r.times_ms[0].toFixed(0)} ms; ${r.programs} programs for ${r.passes} passes`);
console.log(`max |webgl - ref| = ${diff.toExponential(2)}, max |ref| = ${scale.toFixed(3)}`);
if (got.length !== want.length) {
  console.error(`FAIL: the page returned ${got.length} values, the reference ${want.length}`);
  process.exitCode = 1;
} else if (!(diff <= 1e-4 * scale)) {
  console.error(`FAIL: max |webgl - ref| ${diff} exceeds 1e-4 * max |ref| = ${1e-4 * scale}`);
  process.exitCode = 1;
} else {
  console.log('PASS');
}
