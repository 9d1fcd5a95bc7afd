// Kiln's browser runtime: runs a package compiled with `kiln compile MODEL --target webgl`
// (manifest.json, params.bin, shaders/*.frag) in WebGL2. No dependencies; an ES module.
//
//   const model = await KilnModel.load('./');            // fetches, compiles every shader once
//   const [scores] = await model.run({ input: float32 }); // Float32Array per output
//   model.dispose();                                      // textures and programs released
//
// Every tensor is an RGBA32F texture (the layout is in the manifest: width x height texels,
// element i is component i % 4 of texel t = i / 4, at (t % width, t / width)); each kernel is
// a list of render passes drawing one fragment per output texel. Textures and programs are created once at load and reused
// by every run, so memory does not grow across runs. A lost context and a missing
// EXT_color_buffer_float are reported as errors that say so.

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
  // base: the package's URL (ending in '/'); options.canvas: a canvas to draw with (else an
  // OffscreenCanvas, or a detached <canvas>).
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

  // read(name, 'json' | 'text' | 'binary') -> the package file.
  static async open(read, options = {}) {
    const manifest = await read('manifest.json', 'json');
    if (manifest.format !== 'kiln-package') throw new KilnError('manifest.json is not a Kiln package');
    if (manifest.version !== VERSION)
      throw new KilnError(`package format version ${manifest.version}; this runtime reads ${VERSION}`);
    if (manifest.target?.kind !== 'webgl')
      throw new KilnError(`the package targets '${manifest.target?.kind}'; compile it with --target webgl`);
    if (manifest.target.texel !== 'rgba32f')
      throw new KilnError('the package stores one float per texel (compiled by an older kiln); recompile it with --target webgl');
    const files = new Set([manifest.vertex_shader]);
    for (const k of manifest.kernels) for (const p of k.passes) files.add(p.shader);
    const [params, ...sources] = await Promise.all([
      read(manifest.params, 'binary'),
      ...[...files].map((f) => read(f, 'text')),
    ]);
    const shaders = new Map([...files].map((f, i) => [f, sources[i]]));
    return new KilnModel(manifest, params, shaders, options);
  }

  // The renderer's name (what the RPC page reports as its device).
  get renderer() {
    const gl = this.gl;
    const d = gl.getExtension('WEBGL_debug_renderer_info');
    return d ? gl.getParameter(d.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER);
  }

  constructor(manifest, params, shaders, options = {}) {
    this.manifest = manifest;
    this.lost = false;
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
    this.gl = gl;
    this.textures = [];
    this.programs = new Map();
    const t0 = performance.now();

    const texture = (w, h, data) => {
      const t = gl.createTexture();
      this.textures.push(t);
      gl.bindTexture(gl.TEXTURE_2D, t);
      gl.texStorage2D(gl.TEXTURE_2D, 1, gl.RGBA32F, w, h);
      gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MIN_FILTER, gl.NEAREST);
      gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MAG_FILTER, gl.NEAREST);
      if (data) gl.texSubImage2D(gl.TEXTURE_2D, 0, 0, 0, w, h, gl.RGBA, gl.FLOAT, data);
      return t;
    };
    const padded = (data, w, h) => {
      if (data.length === w * h * 4) return data;
      const p = new Float32Array(w * h * 4);
      p.set(data);
      return p;
    };
    this.values = manifest.values.map((v) => {
      const [w, h] = v.texture;
      const numel = v.shape.reduce((a, b) => a * b, 1);
      let data = null;
      if (v.storage === 'const') {
        if (v.offset + numel * 4 > params.byteLength)
          throw new KilnError(`value '${v.name}' lies outside params.bin (corrupt or truncated package)`);
        data = padded(new Float32Array(params, v.offset, numel), w, h);
      }
      return { ...v, numel, width: w, height: h, tex: texture(w, h, data) };
    });
    this.inputs = manifest.inputs.map((i) => this.values[i]);
    this.outputs = manifest.outputs.map((i) => this.values[i]);

    const compile = (kind, name) => {
      const s = gl.createShader(kind);
      gl.shaderSource(s, shaders.get(name));
      gl.compileShader(s);
      if (!gl.getShaderParameter(s, gl.COMPILE_STATUS) && !gl.isContextLost())
        throw new KilnError(`WebGL rejected shader ${name}: ${gl.getShaderInfoLog(s)}`);
      return s;
    };
    const vs = compile(gl.VERTEX_SHADER, manifest.vertex_shader);
    this.passes = [];
    for (const step of manifest.steps) {
      const k = manifest.kernels[step.kernel];
      if (!k || step.args.length !== k.params)
        throw new KilnError(`step for node '${step.node}' does not match its kernel`);
      const buffers = step.args.map((id) => this.values[id]);
      for (const t of k.temps) {
        const [w, h] = t.texture;
        buffers.push({ width: w, height: h, tex: texture(w, h, null) });
      }
      for (const pass of k.passes) {
        let prog = this.programs.get(pass.shader);
        if (!prog) {
          const fs = compile(gl.FRAGMENT_SHADER, pass.shader);
          prog = gl.createProgram();
          gl.attachShader(prog, vs);
          gl.attachShader(prog, fs);
          gl.linkProgram(prog);
          gl.deleteShader(fs);
          if (!gl.getProgramParameter(prog, gl.LINK_STATUS) && !gl.isContextLost())
            throw new KilnError(`WebGL cannot link ${pass.shader}: ${gl.getProgramInfoLog(prog)}`);
          this.programs.set(pass.shader, prog);
        }
        const out = buffers[pass.output];
        this.passes.push({
          prog,
          samplers: pass.samplers.map(([u, b]) => [gl.getUniformLocation(prog, u), buffers[b].tex]),
          out: out.tex,
          width: out.width,
          height: out.height,
        });
      }
    }
    gl.deleteShader(vs);
    this.fbo = gl.createFramebuffer();
    this.vao = gl.createVertexArray();
    this.readBuffer = null;
    this.loadMs = performance.now() - t0;
    this.checkContext();
  }

  checkContext() {
    if (this.lost || this.gl.isContextLost())
      throw new KilnError('the WebGL context was lost (the GPU was reset or reclaimed); load the model again');
    if (!this.gl) throw new KilnError('the model was disposed');
  }

  // inputs: { name: Float32Array } (or an array in input order). Resolves to one Float32Array
  // per output, in order.
  async run(inputs) {
    if (!this.gl) throw new KilnError('the model was disposed');
    this.checkContext();
    const gl = this.gl;
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
    for (const p of this.passes) {
      gl.framebufferTexture2D(gl.FRAMEBUFFER, gl.COLOR_ATTACHMENT0, gl.TEXTURE_2D, p.out, 0);
      gl.viewport(0, 0, p.width, p.height);
      gl.useProgram(p.prog);
      p.samplers.forEach(([loc, tex], u) => {
        gl.activeTexture(gl.TEXTURE0 + u);
        gl.bindTexture(gl.TEXTURE_2D, tex);
        gl.uniform1i(loc, u);
      });
      gl.drawArrays(gl.TRIANGLES, 0, 3);
    }
    const results = this.outputs.map((v) => {
      gl.framebufferTexture2D(gl.FRAMEBUFFER, gl.COLOR_ATTACHMENT0, gl.TEXTURE_2D, v.tex, 0);
      const n = v.width * v.height * 4;
      if (!this.readBuffer || this.readBuffer.length < n) this.readBuffer = new Float32Array(n);
      gl.readPixels(0, 0, v.width, v.height, gl.RGBA, gl.FLOAT, this.readBuffer);
      return this.readBuffer.slice(0, v.numel);  // four elements per texel, in order
    });
    this.checkContext();
    const err = gl.getError();
    if (err !== gl.NO_ERROR) throw new KilnError(`WebGL error 0x${err.toString(16)} while running the model`);
    return results;
  }

  // Frees every texture, program and buffer; the model cannot run afterwards.
  dispose() {
    const gl = this.gl;
    if (!gl) return;
    for (const t of this.textures) gl.deleteTexture(t);
    for (const p of this.programs.values()) gl.deleteProgram(p);
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
