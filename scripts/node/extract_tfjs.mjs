// Extracts a TF.js layers model bundled inside the nsfwjs npm package into a
// standard TF.js model directory: model.json (modelTopology + weightsManifest)
// and the binary weight shards it names (group1-shardKofN.bin).
//
// nsfwjs ships each model as browserify UMD bundles in dist/models/<model>/:
//   model.min.js             module 1 exports the model.json object (a JS literal)
//   group1-shardKofN.min.js  module 1 exports the shard's bytes as a base64 string
// Each bundle is evaluated in an empty vm context (no require, no globals)
// with a CommonJS `module` object, which its UMD wrapper fills in.
//
// Usage: node extract_tfjs.mjs PKGDIR_OR_MINJS OUTDIR [--model NAME]
//   PKGDIR_OR_MINJS  the nsfwjs package directory, its dist/models/<model>
//                    directory, or a model.min.js file
//   NAME             mobilenet_v2 (default, layers model, 224x224)
//                    | inception_v3 (layers model, 299x299)
//                    | mobilenet_v2_mid (a TF.js *graph* model, 224x224)
// The output is deterministic: same package, same bytes.

import fs from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import { createRequire } from 'node:module';

const MODELS = ['mobilenet_v2', 'mobilenet_v2_mid', 'inception_v3'];

function usage(msg) {
  if (msg) console.error(`extract_tfjs: ${msg}`);
  console.error('usage: node extract_tfjs.mjs PKGDIR_OR_MINJS OUTDIR ' +
                `[--model ${MODELS.join('|')}]`);
  process.exit(2);
}

function parseArgs(argv) {
  const pos = [];
  let model = 'mobilenet_v2';
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--model') {
      model = argv[++i];
      if (!model) usage('--model needs a value');
    } else if (argv[i].startsWith('--model=')) {
      model = argv[i].slice('--model='.length);
    } else if (argv[i] === '-h' || argv[i] === '--help') {
      usage();
    } else {
      pos.push(argv[i]);
    }
  }
  if (pos.length !== 2) usage('expected PKGDIR_OR_MINJS and OUTDIR');
  if (!MODELS.includes(model)) usage(`unknown model '${model}'`);
  return { src: pos[0], out: pos[1], model };
}

// Finds the directory holding model.min.js and its shard bundles.
function findBundleDir(src, model) {
  const st = fs.statSync(src, { throwIfNoEntry: false });
  if (!st) throw new Error(`${src}: no such file or directory`);
  if (st.isFile()) return path.dirname(path.resolve(src));
  const candidates = [
    src,
    path.join(src, model),
    path.join(src, 'models', model),
    path.join(src, 'dist', 'models', model),
    path.join(src, 'node_modules', 'nsfwjs', 'dist', 'models', model),
  ];
  for (const c of candidates) {
    if (fs.existsSync(path.join(c, 'model.min.js'))) return path.resolve(c);
  }
  throw new Error(`${src}: no model.min.js for '${model}' ` +
                  `(looked in ${candidates.join(', ')})`);
}

// Evaluates one UMD bundle and returns what it exports.
function evalBundle(file) {
  const code = fs.readFileSync(file, 'utf8');
  const module = { exports: {} };
  const context = vm.createContext({ module, exports: module.exports });
  vm.runInContext(code, context, { filename: file });
  return module.exports;
}

// The package's class names (dist/cjs/nsfw_classes.js, index -> name), as labels.txt beside
// model.json, one per line in class order; Kiln prints them with its top-5.
function writeLabels(bundleDir, out) {
  let d = path.resolve(bundleDir);
  while (d !== path.dirname(d) && !fs.existsSync(path.join(d, 'dist', 'cjs', 'nsfw_classes.js'))) {
    d = path.dirname(d);
  }
  const classesFile = path.join(d, 'dist', 'cjs', 'nsfw_classes.js');
  if (!fs.existsSync(classesFile)) return;
  const mod = createRequire(import.meta.url)(classesFile);
  const classes = mod.NSFW_CLASSES || mod.default || mod;
  const n = Object.keys(classes).length;
  const names = Array.from({ length: n }, (_, i) => classes[i]);
  fs.writeFileSync(path.join(out, 'labels.txt'), names.join('\n') + '\n');
}

function main() {
  const { src, out, model } = parseArgs(process.argv.slice(2));
  const dir = findBundleDir(src, model);
  const modelFile = fs.statSync(src).isFile() ? path.resolve(src)
                                              : path.join(dir, 'model.min.js');

  // Round-trip through JSON to get plain objects out of the vm context.
  const modelJson = JSON.parse(JSON.stringify(evalBundle(modelFile)));
  if (!modelJson.modelTopology || !Array.isArray(modelJson.weightsManifest)) {
    throw new Error(`${modelFile}: does not export a TF.js layers model.json`);
  }

  fs.mkdirSync(out, { recursive: true });
  let totalBytes = 0, totalWeights = 0;
  for (const group of modelJson.weightsManifest) {
    // Bytes the specs of this group need (weights run across shard ends).
    let need = 0;
    for (const w of group.weights) {
      const n = w.shape.reduce((a, b) => a * b, 1);
      const dt = w.quantization ? w.quantization.dtype : w.dtype;
      const size = { uint8: 1, uint16: 2, float16: 2, float32: 4, int32: 4, bool: 1 }[dt];
      if (!size) throw new Error(`weight ${w.name}: unsupported dtype ${dt}`);
      need += n * size;
    }
    let have = 0;
    group.paths = group.paths.map((p) => {
      const bundle = path.join(dir, `${p}.min.js`);
      const b64 = evalBundle(bundle);
      if (typeof b64 !== 'string') throw new Error(`${bundle}: not a base64 string`);
      const bytes = Buffer.from(b64, 'base64');
      const name = `${path.basename(p)}.bin`;
      fs.writeFileSync(path.join(out, name), bytes);
      console.log(`${name}: ${bytes.length} bytes`);
      have += bytes.length;
      return name;
    });
    if (have !== need) {
      throw new Error(`weight group needs ${need} bytes, shards hold ${have}`);
    }
    totalBytes += have;
    totalWeights += group.weights.length;
  }

  fs.writeFileSync(path.join(out, 'model.json'), JSON.stringify(modelJson, null, 1) + '\n');
  writeLabels(dir, out);
  const topo = modelJson.modelTopology;
  const size = topo.model_config ? `${topo.model_config.config.layers.length} layers`
                                 : `${(topo.node || []).length} graph nodes`;
  console.log(`model.json: ${model} (${modelJson.format || 'layers-model'}), ${size}, ` +
              `${totalWeights} weights, ` +
              `${totalBytes} weight bytes -> ${path.resolve(out)}`);
}

try {
  main();
} catch (e) {
  console.error(`extract_tfjs: ${e.message}`);
  process.exit(1);
}
