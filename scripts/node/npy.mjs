// Read and write NumPy .npy files (format 1.0 on write; 1.0-3.0 on read),
// little-endian, C order, for the dtypes onnxruntime tensors use.
import { readFileSync, writeFileSync } from 'node:fs';

// npy descr <-> onnxruntime tensor type and typed array
const DTYPES = {
  '<f4': { ort: 'float32', array: Float32Array },
  '<f8': { ort: 'float64', array: Float64Array },
  '<i8': { ort: 'int64', array: BigInt64Array },
  '<i4': { ort: 'int32', array: Int32Array },
  '|u1': { ort: 'uint8', array: Uint8Array },
  '|i1': { ort: 'int8', array: Int8Array },
  '|b1': { ort: 'bool', array: Uint8Array },
};
const DESCR_OF = Object.fromEntries(Object.entries(DTYPES).map(([d, t]) => [t.ort, d]));

const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]); // \x93NUMPY

/** Parse a .npy file: returns { type (ort type name), dims, data (typed array) }. */
export function readNpy(path) {
  const buf = readFileSync(path);
  if (buf.length < 10 || !buf.subarray(0, 6).equals(MAGIC)) {
    throw new Error(`${path}: not a .npy file`);
  }
  const major = buf[6];
  const headerLen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = buf.toString('latin1', start, start + headerLen);
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shape = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shape === undefined) {
    throw new Error(`${path}: cannot parse npy header ${header.trim()}`);
  }
  if (fortran === 'True') throw new Error(`${path}: fortran_order arrays are not supported`);
  const dtype = DTYPES[descr === '<u1' ? '|u1' : descr === '<i1' ? '|i1' : descr];
  if (!dtype) throw new Error(`${path}: unsupported dtype ${descr}`);
  const dims = shape.split(',').map((s) => s.trim()).filter((s) => s !== '').map(Number);
  const count = dims.reduce((a, b) => a * b, 1);
  const offset = start + headerLen;
  const bytes = count * dtype.array.BYTES_PER_ELEMENT;
  if (buf.length < offset + bytes) throw new Error(`${path}: truncated data`);
  // copy into a fresh, aligned buffer
  const data = new dtype.array(buf.buffer.slice(buf.byteOffset + offset, buf.byteOffset + offset + bytes));
  return { type: dtype.ort, dims, data };
}

/** Write a typed array with the given dims as a version 1.0 .npy file. */
export function writeNpy(path, type, dims, data) {
  const descr = DESCR_OF[type];
  if (!descr) throw new Error(`cannot write tensor of type ${type} as npy`);
  const shape = dims.length === 1 ? `(${dims[0]},)` : `(${dims.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  // pad with spaces so that magic + header is a multiple of 64, ending in \n
  const total = Math.ceil((10 + header.length + 1) / 64) * 64;
  header = header.padEnd(total - 10 - 1, ' ') + '\n';
  const pre = Buffer.alloc(10);
  MAGIC.copy(pre, 0);
  pre[6] = 1;
  pre[7] = 0;
  pre.writeUInt16LE(header.length, 8);
  const body = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  writeFileSync(path, Buffer.concat([pre, Buffer.from(header, 'latin1'), body]));
}
