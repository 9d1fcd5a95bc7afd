// The subcommands of the `kiln` command line. Each registers its options on a CLI11 app
// and returns the function that runs it.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "kiln/frontend/load_model.h"

namespace kiln::cli {

using Runner = std::function<int()>;

Runner addInfo(CLI::App& app);
Runner addRun(CLI::App& app);
Runner addCompile(CLI::App& app);
Runner addBoard(CLI::App& app);
Runner addAsm(CLI::App& app);      // asm.cpp
Runner addDisasm(CLI::App& app);   // asm.cpp
Runner addSim(CLI::App& app);      // sim.cpp
Runner addRpc(CLI::App& app);      // rpc_serve.cpp
Runner addProfile(CLI::App& app);  // profile.cpp
Runner addBench(CLI::App& app);    // bench.cpp

// "input=1x3x224x224" -> {"input": {1,3,224,224}}; throws kiln::Error on bad syntax.
std::map<std::string, Shape> parseShapes(const std::vector<std::string>& specs);
// Loads a model, printing nothing; throws kiln::Error with the front end's message.
Graph loadOrThrow(const std::string& path, const std::vector<std::string>& shapeSpecs);
// The tensor for one graph input from a .npy file or an image (preprocessed as `preprocess`
// says: auto, imagenet or tf) (run.cpp).
NDArray loadInput(const std::string& file, const Value& in, const std::string& preprocess,
                  const Graph& g);
// Class labels for a classifier output of `classes` entries: an explicit file, the model's
// own metadata, or a well-known label set (ImageNet) when one is installed.
std::vector<std::string> findLabels(const Graph& g, const std::string& labelsFile, int64_t classes);

// The int8 quantization options that `kiln compile --target accel` and `kiln run --int8` share
// (common.cpp): calibration inputs, how activation ranges are chosen, and per-channel scales.
struct Int8Options {
  std::vector<std::string> calibrate;
  std::string calibration = "max";
  bool perChannel = false;
};
// Registers --calibrate, --calibration and --per-channel-activations; `when` starts their help
// ("With --int8"); `calibrateNote` ends --calibrate's.
void addInt8Options(CLI::App* sub, Int8Options& o, const std::string& when,
                    const std::string& calibrateNote = "");
// The --calibrate inputs as feeds of g's single input (none when none are given).
std::vector<std::map<std::string, NDArray>> loadCalibration(const Graph& g, const Int8Options& o,
                                                            const std::string& preprocess);
// g calibrated on `samples` and quantized as `o` says; `summary` gets "N operators quantized,
// M left in float; METHOD calibration on K input(s)".
Graph quantizeCalibrated(const Graph& g, const std::vector<std::map<std::string, NDArray>>& samples,
                         const Int8Options& o, std::string* summary);

}  // namespace kiln::cli
