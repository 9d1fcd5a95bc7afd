// Kiln's browser runtime: runs a package compiled with `kiln compile MODEL --target webgl`
// (manifest.json, params.bin, shaders/*.frag) in WebGL2. No dependencies; an ES module.
//
//   const model = await KilnModel.load('./');            // fetch, compile, warm up (see below)
//   const [scores] = await model.run({ input: float32 }); // Float32Array per output
//   model.dispose();                                      // textures and programs released
//
// Every tensor is an RGBA32F texture (the layout is in the manifest: width x height texels,
// element i is component i % 4 of texel t = i / 4, at (t % width, t / width)); each kernel is
// a list of render passes drawing one fragment per output texel. Textures and programs are
// created once at load and reused by every run, so memory does not grow across runs. A lost
// context and a missing EXT_color_buffer_float are reported as errors that say so.
//
// The first inference is mostly the driver's compiling, so load() keeps it small and early:
// passes whose shader source is the same share one program (the package already stores each
// distinct source once); shaders are handed to the driver as they arrive, compiled in
// parallel where KHR_parallel_shader_compile is offered; and each program is drawn once at
// load (prepare()), because ANGLE and SwiftShader do the real compile at a program's first
// draw. { timing: true } records where the time went (timingReport()).

const VERSION = 1;

export class KilnError extends Error {}

async function fetchOk(url, kind) {
  let r;
  try {
    r = await fetch(url);
  } catch (e) {
    throw new KilnError(`cannot fetch ${url}: ${e.message}`);
  }
  if (!r.ok) throw new KilnError(`cannot fetch ${url}: HTTP ${r.status}`);
  return kind === 'json' ? r.json() : kind === 'text' ? r.text() : r.arrayBuffer();
}

export class KilnModel {
  // base: the package's URL (ending in '/'). options.canvas: a canvas to draw with (else an
  // OffscreenCanvas, or a detached <canvas>); options.timing: record where loading and the
  // first run spend their time (model.timing, printed by model.timingReport()); it adds a
  // synchronisation after every warm-up draw and every pass of the first run, so the times
  // it records are what each step costs, and the first run is a little slower.
  static async load(base, options = {}) {
    return KilnModel.open((name, kind) => fetchOk(new URL(name, base), kind), options);
  }

  // The package's files from memory (what the RPC page receives): name -> ArrayBuffer.
  static async fromFiles(files, options = {}) {
    return KilnModel.open(async (name, kind) => {
      const data = files.get(name);
      if (!data) throw new KilnError(`the package has no file ${name}`);
      if (kind === 'binary') return data;
      const text = new TextDecoder().decode(data);
      return kind === 'json' ? JSON.parse(text) : text;
    }, options);
  }

  // read(name, 'json' | 'text' | 'binary') -> the package file. Resolves once the model is
  // ready to run at full speed: every program compiled, linked and drawn once, every texture
  // made and the constants uploaded. The steps overlap: params.bin downloads while the
  // shaders arrive; each shader goes to the driver as it arrives (compiled on the driver's
  // threads where KHR_parallel_shader_compile is offered) and its program is drawn once as
  // soon as it is linked (see prepare()), while the rest still download.
  static async open(read, options = {}) {
    const t0 = performance.now();
    const manifest = await read('manifest.json', 'json');
    if (manifest.format !== 'kiln-package') throw new KilnError('manifest.json is not a Kiln package');
    if (manifest.version !== VERSION)
      throw new KilnError(`package format version ${manifest.version}; this runtime reads ${VERSION}`);
    if (manifest.target?.kind !== 'webgl')
      throw new KilnError(`the package targets '${manifest.target?.kind}'; compile it with --target webgl`);
    if (manifest.target.texel !== 'rgba32f')
      throw new KilnError('the package stores one float per texel (compiled by an older kiln); recompile it with --target webgl');
    const since = () => performance.now() - t0;
    const params = read(manifest.params, 'binary');
    params.catch(() => {});  // awaited below; a failure is reported there
    const model = new KilnModel(manifest, options);
    const timing = model.timing;
    try {
      if (timing) timing.manifest_ms = since();
      model.#bindPasses();
      const vertex = read(manifest.vertex_shader, 'text').then((source) => model.#compileVertex(source));
      const warm = await Promise.allSettled(
        [...model.firstPass.keys()].map(async (file) => {
          const source = await read(file, 'text');
          if (timing) timing.shaders_ms = since();
          await vertex;
          model.#compile(file, source);
          return model.#warm(file);
        }),
      );
      const failed = warm.find((w) => w.status === 'rejected');
      if (failed) throw failed.reason;
      await vertex;  // (a package with no pass awaits it only here)
      const data = await params;
      if (timing) timing.params_ms = since();
      model.#upload(data);
      await model.prepare();
    } catch (e) {
      model.dispose();
      throw e;
    }
    model.loadMs = since();
    if (timing) timing.load_ms = model.loadMs;
    return model;
  }

  // The renderer's name (what the RPC page reports as its device).
  get renderer() {
    const gl = this.gl;
    const d = gl.getExtension('WEBGL_debug_renderer_info');
    return d ? gl.getParameter(d.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER);
  }

  // Makes the context and one texture per tensor (empty). Use load / fromFiles / open.
  constructor(manifest, options = {}) {
    this.manifest = manifest;
    this.lost = false;
    this.timing = options.timing ? { programs: [], context_ms: 0, textures_ms: 0, compile_ms: 0, upload_ms: 0 } : null;
    const t = performance.now();
    const canvas =
      options.canvas ??
      (typeof OffscreenCanvas !== 'undefined' ? new OffscreenCanvas(1, 1) : document.createElement('canvas'));
    canvas.addEventListener?.('webglcontextlost', (e) => {
      e.preventDefault();
      this.lost = true;
    });
    const gl = canvas.getContext('webgl2', { antialias: false, depth: false, stencil: false, alpha: true });
    if (!gl) throw new KilnError('this browser has no WebGL2 (needed to run Kiln packages)');
    if (!gl.getExtension('EXT_color_buffer_float'))
      throw new KilnError('WebGL2 here cannot render into float textures (EXT_color_buffer_float is missing)');
    // Lets the driver compile and link on threads of its own: compile and link calls return at
    // once, and prepare() polls for completion instead of blocking on each program in turn.
    this.parallel = gl.getExtension('KHR_parallel_shader_compile');
    this.gl = gl;
    this.textures = [];
    this.programs = new Map();  // fragment shader source -> program, shared by every pass using it
    this.byFile = new Map();  // shader file -> program
    this.firstPass = new Map();  // shader file -> the first pass that draws it
    this.vs = null;
    this.vsName = manifest.vertex_shader;
    this.fbo = gl.createFramebuffer();
    this.vao = gl.createVertexArray();
    this.readBuffer = null;
    this.prepared = null;
    if (this.timing) this.timing.context_ms = performance.now() - t;
    this.#time('textures_ms', () => {
      this.values = manifest.values.map((v) => {
        const [w, h] = v.texture;
        const numel = v.shape.reduce((a, b) => a * b, 1);
        return { ...v, numel, width: w, height: h, tex: this.#texture(w, h) };
      });
    });
    this.inputs = manifest.inputs.map((i) => this.values[i]);
    this.outputs = manifest.outputs.map((i) => this.values[i]);
  }

  // Runs fn, adding its time to timing[key] when timing.
  #time(key, fn) {
    const t = performance.now();
    const r = fn();
    if (this.timing) this.timing[key] += performance.now() - t;
    return r;
  }

  #texture(w, h) {
    const gl = this.gl;
    const t = gl.createTexture();
    this.textures.push(t);
    gl.bindTexture(gl.TEXTURE_2D, t);
    gl.texStorage2D(gl.TEXTURE_2D, 1, gl.RGBA32F, w, h);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MIN_FILTER, gl.NEAREST);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MAG_FILTER, gl.NEAREST);
    return t;
  }

  #compileVertex(source) {
    const gl = this.gl;
    this.#time('compile_ms', () => {
      this.vs = gl.createShader(gl.VERTEX_SHADER);
      gl.shaderSource(this.vs, source);
      gl.compileShader(this.vs);
    });
  }

  // Starts compiling and linking the program of one fragment shader file, unless a file with
  // the same source already has one.
  #compile(file, source) {
    const gl = this.gl;
    this.#time('compile_ms', () => {
      let prog = this.programs.get(source);
      if (!prog) {
        const fs = gl.createShader(gl.FRAGMENT_SHADER);
        gl.shaderSource(fs, source);
        gl.compileShader(fs);
        const handle = gl.createProgram();
        gl.attachShader(handle, this.vs);
        gl.attachShader(handle, fs);
        gl.linkProgram(handle);
        prog = { handle, fs, name: file, passes: 0, locations: new Map(), warm: null };
        this.programs.set(source, prog);
      }
      this.byFile.set(file, prog);
    });
  }

  // The render passes in order, each with its program, the textures its samplers read and
  // the texture it writes; a kernel's temporaries get textures of their own.
  #bindPasses() {
    this.passes = [];
    this.#time('textures_ms', () => {
      for (const step of this.manifest.steps) {
        const k = this.manifest.kernels[step.kernel];
        if (!k || step.args.length !== k.params)
          throw new KilnError(`step for node '${step.node}' does not match its kernel`);
        const buffers = step.args.map((id) => this.values[id]);
        for (const tmp of k.temps) {
          const [w, h] = tmp.texture;
          buffers.push({ width: w, height: h, tex: this.#texture(w, h) });
        }
        for (const pass of k.passes) {
          const out = buffers[pass.output];
          const p = {
            file: pass.shader,
            prog: null,  // set when its shader has arrived
            samplers: pass.samplers.map(([u, b]) => [u, buffers[b].tex]),
            // a shader shared by layers of different shapes reads them from a uniform int array
            uniforms: pass.uniforms ? [pass.uniforms[0], Int32Array.from(pass.uniforms[1])] : null,
            out: out.tex,
            width: out.width,
            height: out.height,
          };
          if (!this.firstPass.has(p.file)) this.firstPass.set(p.file, p);
          this.passes.push(p);
        }
      }
    });
  }

  // Uploads the constants from params.bin into their textures.
  #upload(params) {
    const gl = this.gl;
    let bytes = 0;
    this.#time('upload_ms', () => {
      for (const v of this.values) {
        if (v.storage !== 'const') continue;
        if (v.offset + v.numel * 4 > params.byteLength)
          throw new KilnError(`value '${v.name}' lies outside params.bin (corrupt or truncated package)`);
        let data = new Float32Array(params, v.offset, v.numel);
        if (v.numel !== v.width * v.height * 4) {
          const p = new Float32Array(v.width * v.height * 4);  // the last texels' padding is zero
          p.set(data);
          data = p;
        }
        gl.bindTexture(gl.TEXTURE_2D, v.tex);
        gl.texSubImage2D(gl.TEXTURE_2D, 0, 0, 0, v.width, v.height, gl.RGBA, gl.FLOAT, data);
        bytes += data.byteLength;
      }
    });
    if (this.timing) this.timing.upload_bytes = bytes;
  }

  // Waits until every program is linked (a shader the browser rejects is reported with its
  // log) and has been drawn once, into a single texel of the first pass that uses it: ANGLE
  // and SwiftShader translate a program only when it is first drawn, and this makes them do
  // it now rather than in the first run. The texel is overwritten by every run (a pass writes
  // its whole output), so this changes no answer. load() does it as the shaders arrive.
  prepare() {
    this.prepared ??= (async () => {
      const t = performance.now();
      for (const file of this.firstPass.keys())
        if (!this.byFile.has(file)) throw new KilnError(`shader ${file} was never compiled`);
      await Promise.all([...this.firstPass.keys()].map((f) => this.#warm(f)));
      for (const p of this.passes) (p.prog = this.byFile.get(p.file)).passes += 1;
      for (const prog of this.programs.values()) {
        this.#checkLink(prog);
        this.gl.deleteShader(prog.fs);
        prog.fs = null;
      }
      if (this.vs) this.gl.deleteShader(this.vs);
      this.vs = null;
      await this.#finish();
      if (this.timing) this.timing.prepare_ms = performance.now() - t;
      this.checkContext();
    })();
    return this.prepared;
  }

  // Draws the program of one shader file once (once per program), without waiting for the
  // driver: no query that needs the link's result (a query would stall the page, and the
  // downloads with it, until the driver caught up), so its samplers keep their default
  // unit 0, where one of its textures is bound, and a shared shader's shape values (kiln_u)
  // their default 0 (the compiled code is the same whatever they read or hold: loop bounds
  // are never uniforms, and out-of-range fetches read zero in WebGL). prepare() checks the
  // links afterwards.
  #warm(file) {
    const prog = this.byFile.get(file);
    prog.warm ??= (async () => {
      const gl = this.gl;
      if (this.parallel)
        while (!gl.isContextLost() && !gl.getProgramParameter(prog.handle, this.parallel.COMPLETION_STATUS_KHR))
          await new Promise((r) => setTimeout(r, 1));
      this.checkContext();
      const t = performance.now();
      const p = this.firstPass.get(file);
      gl.bindFramebuffer(gl.FRAMEBUFFER, this.fbo);
      gl.bindVertexArray(this.vao);
      gl.disable(gl.BLEND);
      gl.disable(gl.DEPTH_TEST);
      gl.framebufferTexture2D(gl.FRAMEBUFFER, gl.COLOR_ATTACHMENT0, gl.TEXTURE_2D, p.out, 0);
      gl.viewport(0, 0, 1, 1);
      gl.useProgram(prog.handle);
      gl.activeTexture(gl.TEXTURE0);
      gl.bindTexture(gl.TEXTURE_2D, p.samplers[0]?.[1] ?? null);
      gl.drawArrays(gl.TRIANGLES, 0, 3);
      if (this.timing) {
        gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.FLOAT, new Float32Array(4));  // waits for the draw
        const ms = performance.now() - t;
        this.timing.programs.push({ shader: prog.name, warm_ms: ms, prog });
        this.timing.warm_ms = (this.timing.warm_ms ?? 0) + ms;
      }
    })();
    return prog.warm;
  }

  // Throws, with the browser's log, if a program did not link.
  #checkLink(prog) {
    const gl = this.gl;
    if (gl.getProgramParameter(prog.handle, gl.LINK_STATUS)) return;
    this.checkContext();
    if (!gl.getShaderParameter(this.vs, gl.COMPILE_STATUS))
      throw new KilnError(`WebGL rejected shader ${this.vsName}: ${gl.getShaderInfoLog(this.vs)}`);
    if (!gl.getShaderParameter(prog.fs, gl.COMPILE_STATUS))
      throw new KilnError(`WebGL rejected shader ${prog.name}: ${gl.getShaderInfoLog(prog.fs)}`);
    throw new KilnError(`WebGL cannot link ${prog.name}: ${gl.getProgramInfoLog(prog.handle)}`);
  }

  // Resolves when the driver has done everything asked of it so far, without blocking the
  // page meanwhile (a fence polled between tasks; downloads and input go on).
  async #finish() {
    const gl = this.gl;
    const sync = gl.fenceSync(gl.SYNC_GPU_COMMANDS_COMPLETE, 0);
    gl.flush();
    while (!gl.isContextLost() && gl.getSyncParameter(sync, gl.SYNC_STATUS) !== gl.SIGNALED)
      await new Promise((r) => setTimeout(r, 1));
    gl.deleteSync(sync);
  }

  // Draws pass p with program prog into its output over a viewport of w x h texels.
  #draw(p, prog, w, h) {
    const gl = this.gl;
    gl.framebufferTexture2D(gl.FRAMEBUFFER, gl.COLOR_ATTACHMENT0, gl.TEXTURE_2D, p.out, 0);
    gl.viewport(0, 0, w, h);
    gl.useProgram(prog.handle);
    if (p.uniforms) {
      const [name, values] = p.uniforms;
      let loc = prog.locations.get(name);
      if (loc === undefined) prog.locations.set(name, (loc = gl.getUniformLocation(prog.handle, name)));
      gl.uniform1iv(loc, values);  // (null, a no-op, if the driver found the values unused)
    }
    p.samplers.forEach(([name, tex], u) => {
      let loc = prog.locations.get(name);
      if (loc === undefined) prog.locations.set(name, (loc = gl.getUniformLocation(prog.handle, name)));
      gl.activeTexture(gl.TEXTURE0 + u);
      gl.bindTexture(gl.TEXTURE_2D, tex);
      gl.uniform1i(loc, u);
    });
    gl.drawArrays(gl.TRIANGLES, 0, 3);
  }

  checkContext() {
    if (!this.gl) throw new KilnError('the model was disposed');
    if (this.lost || this.gl.isContextLost())
      throw new KilnError('the WebGL context was lost (the GPU was reset or reclaimed); load the model again');
  }

  // The number of distinct programs the passes share (at most one per distinct shader source).
  get programCount() {
    return this.programs.size;
  }

  // inputs: { name: Float32Array } (or an array in input order). Resolves to one Float32Array
  // per output, in order.
  async run(inputs) {
    this.checkContext();
    await this.prepare();
    this.checkContext();
    const gl = this.gl;
    const timing = this.timing && !this.timing.first_run ? (this.timing.first_run = { passes: [] }) : null;
    let t = performance.now();
    const t0 = t;
    this.inputs.forEach((v, i) => {
      const data = Array.isArray(inputs) ? inputs[i] : inputs[v.name];
      if (!data) throw new KilnError(`no value given for input '${v.name}'`);
      if (!(data instanceof Float32Array) || data.length !== v.numel)
        throw new KilnError(`input '${v.name}' needs a Float32Array of ${v.numel} elements (shape ${v.shape.join('x')})`);
      gl.bindTexture(gl.TEXTURE_2D, v.tex);
      let full = data;
      if (data.length !== v.width * v.height * 4) {
        v.staging ??= new Float32Array(v.width * v.height * 4);  // padding stays zero
        v.staging.set(data);
        full = v.staging;
      }
      gl.texSubImage2D(gl.TEXTURE_2D, 0, 0, 0, v.width, v.height, gl.RGBA, gl.FLOAT, full);
    });
    gl.bindFramebuffer(gl.FRAMEBUFFER, this.fbo);
    gl.bindVertexArray(this.vao);
    gl.disable(gl.BLEND);
    gl.disable(gl.DEPTH_TEST);
    const probe = timing ? new Float32Array(4) : null;
    if (timing) {
      gl.framebufferTexture2D(gl.FRAMEBUFFER, gl.COLOR_ATTACHMENT0, gl.TEXTURE_2D, this.inputs[0].tex, 0);
      gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.FLOAT, probe);  // waits for the upload
      timing.upload_ms = performance.now() - t;
      t = performance.now();
    }
    for (const p of this.passes) {
      this.#draw(p, p.prog, p.width, p.height);
      if (timing) {
        gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.FLOAT, probe);  // waits for the pass
        const now = performance.now();
        timing.passes.push({ shader: p.prog.name, ms: now - t });
        t = now;
      }
    }
    if (timing) timing.draw_ms = timing.passes.reduce((a, p) => a + p.ms, 0);
    const results = this.outputs.map((v) => {
      gl.framebufferTexture2D(gl.FRAMEBUFFER, gl.COLOR_ATTACHMENT0, gl.TEXTURE_2D, v.tex, 0);
      const n = v.width * v.height * 4;
      if (!this.readBuffer || this.readBuffer.length < n) this.readBuffer = new Float32Array(n);
      gl.readPixels(0, 0, v.width, v.height, gl.RGBA, gl.FLOAT, this.readBuffer);
      return this.readBuffer.slice(0, v.numel);  // four elements per texel, in order
    });
    if (timing) {
      timing.read_ms = performance.now() - t;
      timing.total_ms = performance.now() - t0;
    }
    this.checkContext();
    const err = gl.getError();
    if (err !== gl.NO_ERROR) throw new KilnError(`WebGL error 0x${err.toString(16)} while running the model`);
    return results;
  }

  // With options.timing: where loading and the first run went, as lines of text.
  timingReport() {
    const tm = this.timing;
    if (!tm) return 'load the model with { timing: true } to record its timing';
    const f = (x) => (x ?? 0).toFixed(1).padStart(8);
    const mib = (tm.upload_bytes / 1048576).toFixed(1);
    const lines = [
      `load ${f(tm.load_ms)} ms; from its start: manifest at ${f(tm.manifest_ms)}, the last shader fetched at ` +
        `${f(tm.shaders_ms)}, params.bin at ${f(tm.params_ms)}, then ${f(tm.prepare_ms)} until every program is warm`,
      `  on the page's thread: context ${f(tm.context_ms)}, ${this.textures.length} textures made ${f(tm.textures_ms)}, ` +
        `compile/link calls ${f(tm.compile_ms)}, constants uploaded ${f(tm.upload_ms)} (${mib} MiB)`,
      `  in the driver: warm-up draws ${f(tm.warm_ms)} (its own compile, deferred to a program's first draw), ` +
        `as the shaders arrived; links ${this.parallel ? 'on its threads (KHR_parallel_shader_compile)' : 'one at a time'}`,
      `programs: ${this.programs.size} for ${this.passes.length} passes`,
    ];
    const r = tm.first_run;
    if (r) {
      lines.push(`first run ${f(r.total_ms)} ms: upload ${f(r.upload_ms)}, passes ${f(r.draw_ms)}, readback ${f(r.read_ms)}`);
      const byProgram = new Map();
      for (const p of r.passes) byProgram.set(p.shader, (byProgram.get(p.shader) ?? 0) + p.ms);
      lines.push('  program                                   passes  warm-up ms  first-run ms');
      for (const p of tm.programs)
        lines.push(`  ${p.shader.padEnd(40)} ${String(p.prog.passes).padStart(6)} ${f(p.warm_ms)}    ${f(byProgram.get(p.shader))}`);
    }
    return lines.join('\n');
  }

  // Frees every texture, program and buffer; the model cannot run afterwards.
  dispose() {
    const gl = this.gl;
    if (!gl) return;
    for (const t of this.textures) gl.deleteTexture(t);
    for (const p of this.programs.values()) {
      gl.deleteProgram(p.handle);
      if (p.fs) gl.deleteShader(p.fs);
    }
    if (this.vs) gl.deleteShader(this.vs);
    gl.deleteFramebuffer(this.fbo);
    gl.deleteVertexArray(this.vao);
    this.textures = [];
    this.programs.clear();
    this.gl = null;
  }

  // The number of live textures (what a test checks does not grow).
  get textureCount() {
    return this.textures.length;
  }
}

// Image -> input tensor, as `kiln run` prepares it. preset 'imagenet': shorter side to 256,
// centre 224 crop (of the model's size), /255, ImageNet mean/std, NCHW; 'tf': resized to
// the model's size, /255, NHWC.
export function imageToTensor(image, shape, preset) {
  const nhwc = shape.length === 4 && shape[3] === 3 && shape[1] !== 3;
  const [h, w] = nhwc ? [shape[1], shape[2]] : [shape[2], shape[3]];
  const canvas = document.createElement('canvas');
  canvas.width = w;
  canvas.height = h;
  const ctx = canvas.getContext('2d');
  const iw = image.naturalWidth ?? image.width, ih = image.naturalHeight ?? image.height;
  if (preset === 'imagenet') {
    const s = 256 / Math.min(iw, ih) * (Math.max(h, w) / 224);
    const rw = iw * s, rh = ih * s;
    ctx.drawImage(image, (w - rw) / 2, (h - rh) / 2, rw, rh);
  } else {
    ctx.drawImage(image, 0, 0, w, h);
  }
  const px = ctx.getImageData(0, 0, w, h).data;
  const mean = preset === 'imagenet' ? [0.485, 0.456, 0.406] : [0, 0, 0];
  const std = preset === 'imagenet' ? [0.229, 0.224, 0.225] : [1, 1, 1];
  const out = new Float32Array(h * w * 3);
  for (let y = 0; y < h; ++y)
    for (let x = 0; x < w; ++x)
      for (let c = 0; c < 3; ++c) {
        const v = (px[(y * w + x) * 4 + c] / 255 - mean[c]) / std[c];
        out[nhwc ? (y * w + x) * 3 + c : c * h * w + y * w + x] = v;
      }
  return out;
}
