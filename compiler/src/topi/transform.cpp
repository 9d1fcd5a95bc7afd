// Data movement: concat, transpose, reshape, pad, slice, gather, channel blocking. Each output
// element reads one input element; nothing is computed, so each is one injective stage that a
// consumer may inline.
#include "kiln/runtime/error.h"
#include "kiln/topi/topi.h"

namespace kiln::topi {

using namespace te;  // NOLINT

Tensor concat(const std::vector<Tensor>& xs, int64_t axis, const std::string& name) {
  Shape out = xs.at(0)->shape;
  out[axis] = 0;
  for (const Tensor& t : xs) out[axis] += t->shape[axis];
  return compute(name, out, [&](const Indices& i) {
    // Nested selects from the last input back (input k wins below its end offset); each
    // read clamps its axis into range, so all of them are safe to evaluate.
    Expr r;
    int64_t offset = out[axis];
    for (auto it = xs.rbegin(); it != xs.rend(); ++it) {
      const int64_t len = (*it)->shape[axis];
      offset -= len;
      Indices src = i;
      src[axis] = min(max(i[axis] - offset, Expr(0)), Expr(len - 1));
      Expr v = read(*it, src);
      r = r.defined() ? select(i[axis] < Expr(offset + len), v, r) : v;
    }
    return r;
  });
}

Tensor transpose(const Tensor& x, const std::vector<int64_t>& perm, const std::string& name) {
  Shape out;
  for (int64_t p : perm) out.push_back(x->shape.at(static_cast<size_t>(p)));
  return compute(name, out, [&](const Indices& i) {
    Indices src(perm.size());
    for (size_t d = 0; d < perm.size(); ++d) src[static_cast<size_t>(perm[d])] = i[d];
    return read(x, src);
  });
}

Tensor reshape(const Tensor& x, const Shape& shape, const std::string& name) {
  if (shapeNumel(shape) != shapeNumel(x->shape))
    throw Error("'" + name + "': cannot reshape " + shapeStr(x->shape) + " to " + shapeStr(shape));
  return compute(name, shape, [&](const Indices& i) {
    Expr flat = Expr(0);
    for (size_t d = 0; d < shape.size(); ++d) flat = flat * shape[d] + i[d];
    Indices src(x->shape.size());
    for (size_t d = x->shape.size(); d-- > 0;) {
      src[d] = d == 0 ? flat : flat % x->shape[d];
      if (d > 0) flat = flat / x->shape[d];
    }
    return read(x, src);
  });
}

Tensor toChannelBlocks(const Tensor& x, int64_t block, const std::string& name) {
  if (x->rank() != 4 || block <= 0 || x->shape[1] % block != 0)
    throw Error("'" + name + "': cannot block the channels of " + shapeStr(x->shape) + " by " +
                std::to_string(block));
  const Shape& s = x->shape;
  return compute(
      name, {s[0], s[1] / block, s[2], s[3], block},
      [&](const Indices& i) {
        return read(x, {i[0], i[1] * block + i[4], i[2], i[3]});
      },
      "layout_transform");
}

Tensor fromChannelBlocks(const Tensor& xb, const std::string& name) {
  if (xb->rank() != 5)
    throw Error("'" + name + "': channel blocks need a rank-5 tensor, got " + shapeStr(xb->shape));
  const Shape& s = xb->shape;
  const int64_t block = s[4];
  return compute(
      name, {s[0], s[1] * block, s[2], s[3]},
      [&](const Indices& i) {
        return read(xb, {i[0], i[1] / block, i[2], i[3], i[1] % block});
      },
      "layout_transform");
}

Tensor pad(const Tensor& x, const std::vector<int64_t>& pads, double value,
           const std::string& name) {
  const size_t r = x->shape.size();
  Shape out(r);
  for (size_t d = 0; d < r; ++d) out[d] = x->shape[d] + pads[d] + pads[r + d];
  return compute(name, out, [&](const Indices& i) {
    Indices src;
    std::vector<std::pair<int64_t, int64_t>> ranges;
    for (size_t d = 0; d < r; ++d) {
      src.push_back(i[d] - pads[d]);
      ranges.emplace_back(-pads[d], out[d] - 1 - pads[d]);
    }
    Expr v = isFloat(x->dtype) ? floatImm(value, x->dtype)
                               : intImm(static_cast<int64_t>(value), x->dtype);
    return guardedRead(x, src, ranges, v);
  });
}

Tensor slice(const Tensor& x, const std::vector<int64_t>& starts, const std::vector<int64_t>& steps,
             const Shape& outShape, const std::string& name) {
  return compute(name, outShape, [&](const Indices& i) {
    Indices src;
    for (size_t d = 0; d < i.size(); ++d) src.push_back(i[d] * steps[d] + starts[d]);
    return read(x, src);
  });
}

Tensor im2col(const Tensor& x, const std::vector<int64_t>& kernel, const std::vector<int64_t>& st,
              const std::vector<int64_t>& pads, const std::string& name) {
  const int64_t N = x->shape[0], C = x->shape[1], H = x->shape[2], W = x->shape[3];
  const int64_t KH = kernel[0], KW = kernel[1];
  const int64_t OH = (H + pads[0] + pads[2] - KH) / st[0] + 1;
  const int64_t OW = (W + pads[1] + pads[3] - KW) / st[1] + 1;
  return compute(name, {N, C * KH * KW, OH, OW}, [&](const Indices& i) {
    Expr c = i[1] / Expr(KH * KW), ky = (i[1] / Expr(KW)) % Expr(KH), kx = i[1] % Expr(KW);
    Expr zero = isFloat(x->dtype) ? floatImm(0.0, x->dtype) : intImm(0, x->dtype);
    return guardedRead(x, {i[0], c, i[2] * st[0] + ky - pads[0], i[3] * st[1] + kx - pads[1]},
                       {{0, N - 1},
                        {0, C - 1},
                        {-pads[0], (OH - 1) * st[0] + KH - 1 - pads[0]},
                        {-pads[1], (OW - 1) * st[1] + KW - 1 - pads[1]}},
                       zero);
  });
}

Tensor gather(const Tensor& x, const Tensor& indices, int64_t axis, const std::string& name) {
  Shape out(x->shape.begin(), x->shape.begin() + axis);
  out.insert(out.end(), indices->shape.begin(), indices->shape.end());
  out.insert(out.end(), x->shape.begin() + axis + 1, x->shape.end());
  const size_t ir = indices->shape.size();
  const int64_t n = x->shape[static_cast<size_t>(axis)];
  return compute(name, out, [&](const Indices& i) {
    Indices at(i.begin() + axis, i.begin() + axis + static_cast<long>(ir));
    Expr k = cast(DType::I64, read(indices, at));
    k = select(k < Expr(0), k + Expr(n), k);
    Indices src(i.begin(), i.begin() + axis);
    src.push_back(min(max(k, Expr(0)), Expr(n - 1)));
    src.insert(src.end(), i.begin() + axis + static_cast<long>(ir), i.end());
    return read(x, src);
  });
}

}  // namespace kiln::topi
