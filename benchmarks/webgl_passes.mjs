// Where a WebGL package's time goes: runs a model's bundle in headless Chromium (SwiftShader)
// with Kiln's own runtime, then draws every pass again on its own, waiting for each to finish
// (a one-texel readPixels), and prints the median time per pass over RUNS rounds, its
// texture, the shader it ran and its share of the total, largest first (the TOP of them).
// The sum is larger than a steady-state inference (each pass is waited for), but the shares
// say which shaders to make faster.
//
//   node benchmarks/webgl_passes.mjs MODEL [RUNS] [TOP]   (MODEL: .onnx, or a TF.js model dir)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const build = process.env.KILN_BUILD ?? join(root, 'build/release');
const [model, runsArg, topArg] = process.argv.slice(2);
if (!model) {
  console.error('usage: node benchmarks/webgl_passes.mjs MODEL [RUNS] [TOP]');
  process.exit(2);
}
const runs = Number(runsArg ?? 3), top = Number(topArg ?? 25);
const work = mkdtempSync(join(tmpdir(), 'kiln-webgl-passes-'));
const bundle = join(work, 'kiln');
const c = spawnSync(join(build, 'bin/kiln'), ['compile', model, '--target', 'webgl', '--bundle', bundle], { encoding: 'utf8' });
if (c.status !== 0) throw new Error(c.stderr);

const page = `<!doctype html><meta charset="utf-8"><script type="module">
import { KilnModel } from '/kiln/kiln.js';
window.profile = async (runs) => {
  const m = await KilnModel.load(new URL('/kiln/', location.href));
  const inputs = m.inputs.map((v) => Float32Array.from({ length: v.numel }, (_, i) => Math.sin(i * 0.013)));
  await m.run(inputs);
  const gl = m.gl;
  // The shader of every pass, in the runtime's order (one entry per drawn pass).
  const shaders = [];
  for (const step of m.manifest.steps)
    for (const p of m.manifest.kernels[step.kernel].passes) shaders.push([p.shader, step.node]);
  const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
  const px = new Float32Array(4);
  const whole = [];
  const times = m.passes.map(() => []);
  for (let r = 0; r < runs; ++r) {
    let t = performance.now();
    await m.run(inputs);
    whole.push(performance.now() - t);
    gl.bindFramebuffer(gl.FRAMEBUFFER, m.fbo);
    gl.bindVertexArray(m.vao);
    m.passes.forEach((p, i) => {
      // bound as KilnModel.run binds it
      gl.framebufferTexture2D(gl.FRAMEBUFFER, gl.COLOR_ATTACHMENT0, gl.TEXTURE_2D, p.out, 0);
      gl.viewport(0, 0, p.width, p.height);
      gl.useProgram(p.prog.handle);
      p.samplers.forEach(([name, tex], u) => {
        gl.activeTexture(gl.TEXTURE0 + u);
        gl.bindTexture(gl.TEXTURE_2D, tex);
        gl.uniform1i(gl.getUniformLocation(p.prog.handle, name), u);
      });
      gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.FLOAT, px);
      t = performance.now();
      gl.drawArrays(gl.TRIANGLES, 0, 3);
      gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.FLOAT, px);
      times[i].push(performance.now() - t);
    });
  }
  return { whole: median(whole), passes: times.map((t, i) => ({ ms: median(t), shader: shaders[i][0], node: shaders[i][1], w: m.passes[i].width, h: m.passes[i].height })) };
};
window.ready = true;
</script>`;

const { serveLocal } = await import(join(root, 'scripts/node/local_server.mjs'));
const server = await serveLocal((path) =>
  path === '/profile.html' ? { body: page } : path.startsWith('/kiln/') ? join(bundle, path.slice(6)) : null);
const { launchChromium, openReadyPage } = await import(join(root, 'scripts/node/chromium.mjs'));
const { context, profile } = await launchChromium();
try {
  const p = await openReadyPage(context, `http://127.0.0.1:${server.address().port}/profile.html`);
  const r = await p.evaluate((n) => window.profile(n), runs);
  const sum = r.passes.reduce((a, q) => a + q.ms, 0);
  console.log(`model: ${model}; ${r.passes.length} passes; inference ${r.whole.toFixed(1)} ms, passes one by one ${sum.toFixed(1)} ms (medians of ${runs})`);
  console.log(`${'ms'.padStart(8)} ${'share'.padStart(6)}  texture    shader (node)`);
  for (const q of [...r.passes].sort((a, b) => b.ms - a.ms).slice(0, top))
    console.log(`${q.ms.toFixed(2).padStart(8)} ${(100 * q.ms / sum).toFixed(1).padStart(5)}%  ${`${q.w}x${q.h}`.padEnd(10)} ${q.shader} (${q.node})`);
} finally {
  await context.close();
  server.close();
  rmSync(profile, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
}
