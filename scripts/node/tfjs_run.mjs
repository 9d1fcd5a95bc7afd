// Runs a TF.js model directory (as written by extract_tfjs.mjs) on one image
// with pure @tensorflow/tfjs on its CPU backend, and writes reference tensors.
//
// Usage:
//   node tfjs_run.mjs MODELDIR IMAGE OUT_PREFIX [--labels FILE] [--runs N]
//   node tfjs_run.mjs MODELDIR --input-npy FILE OUT_PREFIX [--labels FILE] [--runs N]
//
// Preprocessing is nsfwjs's classify path: decode to RGB uint8 (alpha dropped;
// JPEG via jpeg-js, PNG via pngjs, 16-bit PNG scaled to 8 bits), cast to
// float32, divide by 255, then, only if the image is not already SxS,
// tf.image.resizeBilinear to SxS with alignCorners=true (halfPixelCenters
// false); S comes from the model's input shape (224 MobileNet v2, 299
// Inception v3). No mean/std normalisation.
//
// Writes (npy v1.0, little-endian float32, C order):
//   OUT_PREFIX.input.npy   the preprocessed input, 1xSxSx3 NHWC (image mode only)
//   OUT_PREFIX.output.npy  the model's output as predict() returns it (1xK;
//                          for the nsfwjs models these are softmax probabilities)
//   OUT_PREFIX.logits.npy  pre-softmax scores, when the last layer is a Dense
//                          with activation softmax (recomputed as x*W+b from
//                          that layer's input and weights) or an
//                          Activation('softmax') (its input)
// and prints the top-5 classes with their scores (probabilities and logits).
// Class names: --labels FILE (one per line), else the nsfwjs classes for
// 5-output models, else class indices.

import fs from 'node:fs';
import path from 'node:path';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';

import * as tf from '@tensorflow/tfjs';

const NSFW_CLASSES = ['Drawing', 'Hentai', 'Neutral', 'Porn', 'Sexy'];

function usage(msg) {
  if (msg) console.error(`tfjs_run: ${msg}`);
  console.error('usage: node tfjs_run.mjs MODELDIR (IMAGE | --input-npy FILE) OUT_PREFIX ' +
                '[--labels FILE] [--runs N]');
  process.exit(2);
}

function parseArgs(argv) {
  const pos = [];
  const opt = { inputNpy: null, labels: null, runs: 1 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) usage(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--input-npy') opt.inputNpy = val();
    else if (a === '--labels') opt.labels = val();
    else if (a === '--runs') opt.runs = Math.max(1, parseInt(val(), 10) || 1);
    else if (a === '-h' || a === '--help') usage();
    else if (a.startsWith('--')) usage(`unknown option ${a}`);
    else pos.push(a);
  }
  const want = opt.inputNpy ? 2 : 3;
  if (pos.length !== want) usage(`expected ${want} positional arguments`);
  opt.modelDir = pos[0];
  opt.image = opt.inputNpy ? null : pos[1];
  opt.outPrefix = pos[want - 1];
  return opt;
}

// ---- npy ------------------------------------------------------------------

function writeNpy(file, data, shape) {
  const shapeStr = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shapeStr}, }`;
  const unpadded = 10 + header.length + 1;
  header += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const head = Buffer.alloc(10);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]).copy(head, 0);  // \x93NUMPY 1.0
  head.writeUInt16LE(header.length, 8);
  const f32 = Float32Array.from(data);
  fs.writeFileSync(file, Buffer.concat([
    head, Buffer.from(header, 'latin1'),
    Buffer.from(f32.buffer, f32.byteOffset, f32.byteLength)]));
}

function readNpy(file) {
  const buf = fs.readFileSync(file);
  if (buf.readUInt32BE(0) !== 0x934e554d || buf.toString('latin1', 4, 6) !== 'PY') {
    throw new Error(`${file}: not an npy file`);
  }
  const major = buf[6];
  const hlen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const hstart = major === 1 ? 10 : 12;
  const header = buf.toString('latin1', hstart, hstart + hlen);
  const descr = /'descr':\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeM = /'shape':\s*\(([^)]*)\)/.exec(header);
  if (descr !== '<f4' || fortran !== 'False' || !shapeM) {
    throw new Error(`${file}: need little-endian float32 C-order data, header ${header.trim()}`);
  }
  const shape = shapeM[1].split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  const n = shape.reduce((a, b) => a * b, 1);
  const start = hstart + hlen;
  const data = new Float32Array(n);
  Buffer.from(buf.buffer, buf.byteOffset + start, n * 4).copy(Buffer.from(data.buffer));
  return { data, shape };
}

// ---- model ----------------------------------------------------------------

// IOHandler reading model.json and its shard files from a local directory.
function dirHandler(dir) {
  return {
    async load() {
      const json = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
      const weightSpecs = [], chunks = [];
      for (const group of json.weightsManifest || []) {
        for (const p of group.paths) chunks.push(fs.readFileSync(path.join(dir, p)));
        weightSpecs.push(...group.weights);
      }
      const all = Buffer.concat(chunks);
      const artifacts = {
        modelTopology: json.modelTopology,
        weightSpecs,
        weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength),
      };
      for (const k of ['format', 'generatedBy', 'convertedBy', 'trainingConfig',
                       'userDefinedMetadata', 'signature', 'modelInitializer']) {
        if (json[k] != null) artifacts[k] = json[k];
      }
      return artifacts;
    },
  };
}

async function loadModel(dir) {
  const json = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
  if (json.format === 'graph-model') {
    const model = await tf.loadGraphModel(dirHandler(dir));
    return { model, isGraph: true, inputShape: model.inputs[0].shape };
  }
  const model = await tf.loadLayersModel(dirHandler(dir));
  return { model, isGraph: false, inputShape: model.inputs[0].shape };
}

// For a layers model whose last layer ends in softmax, returns a function
// mapping the input batch to [output, logits]; otherwise null.
function logitsSplitter(model) {
  const last = model.layers[model.layers.length - 1];
  const cls = last.getClassName();
  const act = last.getConfig().activation;
  if (model.outputs.length !== 1 || act !== 'softmax') return null;
  const both = tf.model({ inputs: model.inputs, outputs: [last.input, model.outputs[0]] });
  if (cls === 'Activation') {
    return (x) => { const [pre, out] = both.predict(x); return [out, pre]; };
  }
  if (cls === 'Dense') {
    const [kernel, bias] = last.getWeights();
    return (x) => {
      const [pre, out] = both.predict(x);
      const logits = last.getConfig().useBias ? tf.add(tf.matMul(pre, kernel), bias)
                                              : tf.matMul(pre, kernel);
      return [out, logits];
    };
  }
  return null;
}

// ---- image ----------------------------------------------------------------

// Decodes a JPEG or PNG to {data: Int32Array HxWx3 RGB, height, width}.
function decodeImage(file) {
  const buf = fs.readFileSync(file);
  let width, height, rgba;
  if (buf[0] === 0x89 && buf.toString('latin1', 1, 4) === 'PNG') {
    const png = PNG.sync.read(buf);
    ({ width, height } = png);
    rgba = png.data;
  } else if (buf[0] === 0xff && buf[1] === 0xd8) {
    const img = jpeg.decode(buf, { useTArray: true, formatAsRGBA: true,
                                   maxMemoryUsageInMB: 2048 });
    ({ width, height } = img);
    rgba = img.data;
  } else {
    throw new Error(`${file}: not a JPEG or PNG (gzip-compressed? unpack it first)`);
  }
  const data = new Int32Array(width * height * 3);
  for (let i = 0, j = 0; i < width * height; i++, j += 4) {
    data[3 * i] = rgba[j];
    data[3 * i + 1] = rgba[j + 1];
    data[3 * i + 2] = rgba[j + 2];
  }
  return { data, height, width };
}

// nsfwjs NSFWJS.infer(): toFloat, /255, resizeBilinear(alignCorners=true), batch.
function preprocess(img, size) {
  return tf.tidy(() => {
    const pixels = tf.tensor3d(img.data, [img.height, img.width, 3], 'int32');
    const normalized = pixels.toFloat().div(tf.scalar(255));
    let resized = normalized;
    if (img.height !== size || img.width !== size) {
      resized = tf.image.resizeBilinear(normalized, [size, size], true);
    }
    return resized.reshape([1, size, size, 3]);
  });
}

// ---- main -----------------------------------------------------------------

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function labelsFor(opt, k) {
  if (opt.labels) {
    return fs.readFileSync(opt.labels, 'utf8').split('\n').map((s) => s.trim())
      .filter((s, i, a) => s || i < a.length - 1);
  }
  if (k === NSFW_CLASSES.length) return NSFW_CLASSES;
  return null;
}

async function main() {
  const opt = parseArgs(process.argv.slice(2));
  await tf.setBackend('cpu');
  await tf.ready();
  // The CPU backend prints a hint about tfjs-node on its first tensor; mute it.
  const warn = console.warn;
  console.warn = () => {};
  tf.dispose(tf.scalar(0));
  console.warn = warn;

  let t0 = performance.now();
  const { model, isGraph, inputShape } = await loadModel(opt.modelDir);
  const loadMs = performance.now() - t0;
  const size = inputShape[1];
  if (inputShape.length !== 4 || inputShape[2] !== size || inputShape[3] !== 3) {
    throw new Error(`unexpected model input shape ${JSON.stringify(inputShape)}`);
  }

  let input, prepMs = 0;
  if (opt.inputNpy) {
    const { data, shape } = readNpy(opt.inputNpy);
    if (JSON.stringify(shape) !== JSON.stringify([1, size, size, 3])) {
      throw new Error(`${opt.inputNpy}: shape ${JSON.stringify(shape)}, ` +
                      `model wants [1,${size},${size},3]`);
    }
    input = tf.tensor4d(data, shape, 'float32');
  } else {
    t0 = performance.now();
    const img = decodeImage(opt.image);
    input = preprocess(img, size);
    prepMs = performance.now() - t0;
    console.log(`image: ${opt.image} ${img.width}x${img.height} -> ${size}x${size}`);
  }

  const split = isGraph ? null : logitsSplitter(model);
  const run = () => tf.tidy(() => (split ? split(input) : [model.predict(input), null]));

  // Warm-up (as nsfwjs does after loading), then timed runs.
  tf.dispose(run());
  const times = [];
  let out, logits;
  for (let i = 0; i < opt.runs; i++) {
    if (out) tf.dispose([out, logits]);
    t0 = performance.now();
    [out, logits] = run();
    await out.data();
    times.push(performance.now() - t0);
  }

  const dir = path.dirname(opt.outPrefix);
  if (dir) fs.mkdirSync(dir, { recursive: true });
  if (!opt.inputNpy) writeNpy(`${opt.outPrefix}.input.npy`, await input.data(), input.shape);
  const probs = await out.data();
  writeNpy(`${opt.outPrefix}.output.npy`, probs, out.shape);
  let lg = null;
  if (logits) {
    lg = await logits.data();
    writeNpy(`${opt.outPrefix}.logits.npy`, lg, logits.shape);
  }

  const k = out.shape[out.shape.length - 1];
  const names = labelsFor(opt, k);
  const order = [...probs.keys()].sort((a, b) => probs[b] - probs[a]).slice(0, 5);
  console.log(`backend: ${tf.getBackend()}, load ${loadMs.toFixed(0)} ms, ` +
              `preprocess ${prepMs.toFixed(1)} ms, predict ${median(times).toFixed(1)} ms ` +
              `(median of ${times.length})`);
  console.log(`wrote ${opt.inputNpy ? '' : `${opt.outPrefix}.input.npy `}` +
              `${opt.outPrefix}.output.npy${lg ? ` ${opt.outPrefix}.logits.npy` : ''}`);
  order.forEach((c, r) => {
    const name = names && names[c] !== undefined ? names[c] : `class ${c}`;
    console.log(`top${r + 1}: ${String(c).padStart(4)} ${name.padEnd(12)} ` +
                `p=${probs[c].toFixed(6)}${lg ? ` logit=${lg[c].toFixed(6)}` : ''}`);
  });
}

main().catch((e) => {
  console.error(`tfjs_run: ${e.stack || e.message}`);
  process.exit(1);
});
