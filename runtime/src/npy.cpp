// NumPy .npy reader and writer.
#include "kiln/runtime/npy.h"

#include <fstream>
#include <regex>
#include <sstream>

namespace kiln {

namespace {
DType dtypeFromDescr(const std::string& d, const std::string& path) {
  if (d == "<f4") return DType::F32;
  if (d == "<f2") return DType::F16;
  if (d == "|i1") return DType::I8;
  if (d == "|u1") return DType::U8;
  if (d == "<i4") return DType::I32;
  if (d == "<i8") return DType::I64;
  if (d == "|b1") return DType::Bool;
  throw Error(path + ": unsupported .npy element type '" + d +
              "' (Kiln reads <f4, <f2, |i1, |u1, <i4, <i8, |b1; convert with numpy.astype)");
}

const char* descrOf(DType t) {
  switch (t) {
    case DType::F32:
      return "<f4";
    case DType::F16:
      return "<f2";
    case DType::I8:
      return "|i1";
    case DType::U8:
      return "|u1";
    case DType::I32:
      return "<i4";
    case DType::I64:
      return "<i8";
    case DType::Bool:
      return "|b1";
  }
  return "";
}
}  // namespace

NDArray readNpy(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw Error(path + ": cannot open file");
  char magic[8];
  if (!f.read(magic, 8) || std::string(magic, 6) != "\x93NUMPY")
    throw Error(path + ": not a .npy file (bad magic)");
  uint8_t major = static_cast<uint8_t>(magic[6]);
  uint32_t headerLen = 0;
  if (major == 1) {
    unsigned char b[2];
    if (!f.read(reinterpret_cast<char*>(b), 2)) throw Error(path + ": truncated .npy header");
    headerLen = b[0] | (b[1] << 8);
  } else if (major == 2 || major == 3) {
    unsigned char b[4];
    if (!f.read(reinterpret_cast<char*>(b), 4)) throw Error(path + ": truncated .npy header");
    headerLen = b[0] | (b[1] << 8) | (b[2] << 16) | (static_cast<uint32_t>(b[3]) << 24);
  } else {
    throw Error(path + ": unsupported .npy version " + std::to_string(major));
  }
  if (headerLen > (1u << 20)) throw Error(path + ": .npy header too large");
  std::string header(headerLen, '\0');
  if (!f.read(header.data(), headerLen)) throw Error(path + ": truncated .npy header");

  std::smatch m;
  if (!std::regex_search(header, m, std::regex("'descr'\\s*:\\s*'([^']+)'")))
    throw Error(path + ": .npy header has no descr");
  DType dtype = dtypeFromDescr(m[1], path);
  if (std::regex_search(header, m, std::regex("'fortran_order'\\s*:\\s*True")))
    throw Error(path + ": Fortran-order .npy is not supported (save with numpy.ascontiguousarray)");
  if (!std::regex_search(header, m, std::regex("'shape'\\s*:\\s*\\(([^)]*)\\)")))
    throw Error(path + ": .npy header has no shape");
  Shape shape;
  std::stringstream ss(m[1].str());
  std::string tok;
  while (std::getline(ss, tok, ',')) {
    tok = std::regex_replace(tok, std::regex("\\s+"), "");
    if (tok.empty()) continue;
    try {
      shape.push_back(std::stoll(tok));
    } catch (...) {
      throw Error(path + ": bad dimension '" + tok + "' in .npy shape");
    }
  }
  NDArray a(dtype, shape);
  if (!f.read(static_cast<char*>(a.rawData()), static_cast<std::streamsize>(a.nbytes())))
    throw Error(path + ": truncated .npy data (expected " + std::to_string(a.nbytes()) +
                " bytes for shape " + shapeStr(shape) + ")");
  return a;
}

void writeNpy(const std::string& path, const NDArray& a) {
  // NumPy tuple syntax: "()", "(5,)", "(1, 3)".
  std::string shape = "(";
  for (size_t i = 0; i < a.shape().size(); ++i)
    shape += (i ? ", " : "") + std::to_string(a.shape()[i]);
  shape += a.shape().size() == 1 ? ",)" : ")";
  std::string header = std::string("{'descr': '") + descrOf(a.dtype()) +
                       "', 'fortran_order': False, 'shape': " + shape + ", }";
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::ofstream f(path, std::ios::binary);
  if (!f) throw Error(path + ": cannot write file");
  f.write("\x93NUMPY\x01\x00", 8);
  uint16_t len = static_cast<uint16_t>(header.size());
  char lb[2] = {static_cast<char>(len & 0xff), static_cast<char>(len >> 8)};
  f.write(lb, 2);
  f.write(header.data(), static_cast<std::streamsize>(header.size()));
  f.write(static_cast<const char*>(a.rawData()), static_cast<std::streamsize>(a.nbytes()));
  if (!f) throw Error(path + ": write failed");
}

}  // namespace kiln
