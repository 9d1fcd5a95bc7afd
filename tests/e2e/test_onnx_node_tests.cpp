// Runs the ONNX backend node tests (Debian libonnx-testdata) through the ONNX front end and
// the reference executor, for every test whose operators Kiln supports.
//
// Each test either passes (outputs within rtol 1e-3 / atol 1e-5, the ONNX backend's
// tolerance order), is refused at import with a clear error (a variant Kiln does not
// support, e.g. 3-D pooling), or fails. A failure — a wrong answer or a crash-like error
// at run time — fails this test. The per-operator table is written to KILN_NODE_TEST_REPORT
// when that variable is set (docs/onnx-node-tests.md is made this way).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "kiln/frontend/onnx.h"
#include "kiln/ref/executor.h"

namespace fs = std::filesystem;

namespace kiln {
namespace {

const char* kNodeDir = "/usr/share/libonnx-testdata/data/node";

struct Tally {
  int pass = 0, refused = 0, fail = 0;
  std::vector<std::string> notes;
};

// The ONNX op a node-test directory exercises: test_<op>[_variant], matched case-insensitively
// against the supported operator names (longest match wins: "test_globalaveragepool" is
// GlobalAveragePool, not AveragePool).
std::string opOfTest(const std::string& dir, const std::vector<std::string>& ops) {
  std::string rest = dir.substr(5);
  // Test names that do not spell the operator's name.
  static const std::map<std::string, std::string> aliases = {
      {"batchnorm", "BatchNormalization"}, {"basic_conv", "Conv"},
      {"reduce_mean", "ReduceMean"},       {"reduce_sum", "ReduceSum"},
      {"reduce_max", "ReduceMax"},         {"constant_pad", "Pad"}};
  for (auto& [prefix, op] : aliases)
    if (rest.rfind(prefix, 0) == 0) return op;
  std::string best;
  for (const std::string& op : ops) {
    std::string lower;
    for (char ch : op) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    if (rest.rfind(lower, 0) == 0 && (rest.size() == lower.size() || rest[lower.size()] == '_') &&
        lower.size() > best.size())
      best = op;
  }
  return best;
}

std::string compare(const NDArray& got, const NDArray& want) {
  if (got.shape() != want.shape())
    return "shape " + shapeStr(got.shape()) + " != " + shapeStr(want.shape());
  if (want.dtype() == DType::F32 || want.dtype() == DType::F16) {
    auto g = got.toFloatVector(), w = want.toFloatVector();
    for (size_t i = 0; i < w.size(); ++i) {
      if (std::isnan(w[i]) && std::isnan(g[i])) continue;
      if (std::abs(g[i] - w[i]) > 1e-5 + 1e-3 * std::abs(w[i]))
        return "element " + std::to_string(i) + ": " + std::to_string(g[i]) +
               " != " + std::to_string(w[i]);
    }
    return "";
  }
  if (got.toInt64Vector() != want.toInt64Vector()) return "integer outputs differ";
  return "";
}

// The model's graph-input names in order (test data files are numbered by this order).
std::vector<std::string> inputNames(const fs::path& model) {
  std::vector<std::string> names;
  for (const ModelInput& in : listOnnxInputs(model.string())) names.push_back(in.name);
  return names;
}

TEST(OnnxNodeTests, SupportedOperatorsMatchExpectedOutputs) {
  if (!fs::exists(kNodeDir))
    GTEST_SKIP() << "libonnx-testdata is not installed (" << kNodeDir << ")";
  std::vector<std::string> ops = supportedOnnxOps();
  std::map<std::string, Tally> table;
  std::vector<std::string> dirs;
  for (const auto& e : fs::directory_iterator(kNodeDir))
    dirs.push_back(e.path().filename().string());
  std::sort(dirs.begin(), dirs.end());
  int ran = 0;
  for (const std::string& d : dirs) {
    std::string op = opOfTest(d, ops);
    if (op.empty()) continue;
    // Only tests whose model really contains the operator (test_gather_elements is not Gather).
    auto modelOps = listOnnxOps((fs::path(kNodeDir) / d / "model.onnx").string());
    if (std::find(modelOps.begin(), modelOps.end(), op) == modelOps.end()) continue;
    // "_expanded" variants test ONNX function bodies made of other operators; skip them.
    if (d.find("_expanded") != std::string::npos) continue;
    Tally& t = table[op];
    fs::path dir = fs::path(kNodeDir) / d;
    fs::path data = dir / "test_data_set_0";
    // Integer and scalar inputs (shapes, axes, indices, clip bounds) are bound to their test
    // values, as a deployed model fixes them; Kiln compiles static shapes.
    OnnxImportOptions opts;
    {
      std::vector<std::string> names = inputNames(dir / "model.onnx");
      for (size_t k = 0; k < names.size(); ++k) {
        Expected<NDArray> a =
            readOnnxTensor((data / ("input_" + std::to_string(k) + ".pb")).string());
        if (a && (a->dtype() == DType::I64 || a->dtype() == DType::I32 || a->rank() == 0))
          opts.constantInputs[names[k]] = *a;
      }
    }
    Expected<Graph> g = importOnnx((dir / "model.onnx").string(), opts);
    if (!g) {
      ++t.refused;
      t.notes.push_back(d + ": refused: " + g.message());
      continue;
    }
    ++ran;
    std::map<std::string, NDArray> feeds;
    std::string problem;
    std::vector<std::string> names = inputNames(dir / "model.onnx");
    for (size_t k = 0; k < names.size(); ++k) {
      if (opts.constantInputs.count(names[k])) continue;
      Expected<NDArray> a =
          readOnnxTensor((data / ("input_" + std::to_string(k) + ".pb")).string());
      if (!a) {
        problem = a.message();
        break;
      }
      const Value* in = g->findValue(names[k]);
      feeds[names[k]] = a->dtype() == in->dtype ? *a : a->cast(in->dtype);
    }
    if (problem.empty()) {
      auto outs = catchErrors([&] { return ref::Executor(*g).run(feeds); });
      if (!outs) {
        problem = outs.message();
      } else {
        for (size_t k = 0; k < outs->size() && problem.empty(); ++k) {
          Expected<NDArray> want =
              readOnnxTensor((data / ("output_" + std::to_string(k) + ".pb")).string());
          if (!want)
            problem = want.message();
          else
            problem = compare((*outs)[k], *want);
        }
      }
    }
    if (problem.empty()) {
      ++t.pass;
    } else {
      ++t.fail;
      t.notes.push_back(d + ": FAILED: " + problem);
      ADD_FAILURE() << d << ": " << problem;
    }
  }
  EXPECT_GT(ran, 100) << "too few node tests ran; is libonnx-testdata complete?";

  if (const char* report = std::getenv("KILN_NODE_TEST_REPORT")) {
    std::ofstream f(report);
    f << "# ONNX backend node tests\n\n"
      << "The ONNX backend node tests shipped by Debian's `libonnx-testdata` (ONNX 1.12), run "
         "through\n"
      << "Kiln's ONNX front end and reference executor by `tests/e2e/test_onnx_node_tests.cpp`\n"
      << "(tolerance: |got - want| <= 1e-5 + 1e-3 |want|). *Refused* means the importer rejected "
         "the\n"
      << "model with an error naming what it does not support; *failed* means a wrong answer.\n\n"
      << "| operator | passed | refused | failed |\n|---|---:|---:|---:|\n";
    Tally total;
    for (auto& [op, t] : table) {
      f << "| " << op << " | " << t.pass << " | " << t.refused << " | " << t.fail << " |\n";
      total.pass += t.pass, total.refused += t.refused, total.fail += t.fail;
    }
    f << "| **total** | **" << total.pass << "** | **" << total.refused << "** | **" << total.fail
      << "** |\n\n";
    f << "## Refusals and failures\n\n";
    for (auto& [op, t] : table)
      for (const std::string& n : t.notes) f << "- " << n << "\n";
  }
}

}  // namespace
}  // namespace kiln
