// Packing activations to the accelerator's blocked layout and back (see accel_layout.h).
#include "kiln/runtime/accel_layout.h"

#include "kiln/runtime/error.h"

namespace kiln::accel_layout {

namespace {
struct Dims {
  int64_t N, C, H, W;
};
Dims dimsOf(const Shape& s) {
  if (s.size() == 4) return {s[0], s[1], s[2], s[3]};
  if (s.size() == 2) return {s[0], s[1], 1, 1};
  throw Error("accelerator layout: a tensor of shape " + shapeStr(s) +
              " is neither NCHW nor [N, C]");
}
int64_t ceilDiv(int64_t a, int64_t b) {
  return (a + b - 1) / b;
}
}  // namespace

std::vector<int64_t> packedShape(const Shape& shape, int64_t batch, int64_t block) {
  Dims d = dimsOf(shape);
  return {ceilDiv(d.N, batch), ceilDiv(d.C, block), d.H, d.W, batch, block};
}

std::vector<int8_t> pack(const NDArray& x, int64_t B, int64_t BC) {
  if (x.dtype() != DType::I8)
    throw Error("accelerator layout: packing needs int8 data, got " +
                std::string(dtypeName(x.dtype())));
  Dims d = dimsOf(x.shape());
  const int64_t NB = ceilDiv(d.N, B), CB = ceilDiv(d.C, BC);
  std::vector<int8_t> out(static_cast<size_t>(NB * CB * d.H * d.W * B * BC), 0);
  const int8_t* px = x.data<int8_t>();
  for (int64_t n = 0; n < d.N; ++n)
    for (int64_t c = 0; c < d.C; ++c)
      for (int64_t h = 0; h < d.H; ++h)
        for (int64_t w = 0; w < d.W; ++w)
          out[static_cast<size_t>(((((n / B) * CB + c / BC) * d.H + h) * d.W + w) * B * BC +
                                  (n % B) * BC + c % BC)] = px[((n * d.C + c) * d.H + h) * d.W + w];
  return out;
}

void unpack(const int8_t* packed, NDArray& y, int64_t B, int64_t BC) {
  Dims d = dimsOf(y.shape());
  const int64_t CB = ceilDiv(d.C, BC);
  int8_t* py = y.data<int8_t>();
  for (int64_t n = 0; n < d.N; ++n)
    for (int64_t c = 0; c < d.C; ++c)
      for (int64_t h = 0; h < d.H; ++h)
        for (int64_t w = 0; w < d.W; ++w)
          py[((n * d.C + c) * d.H + h) * d.W + w] =
              packed[((((n / B) * CB + c / BC) * d.H + h) * d.W + w) * B * BC + (n % B) * BC +
                     c % BC];
}

}  // namespace kiln::accel_layout
