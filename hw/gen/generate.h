// The artifacts generated from the accelerator spec: the SystemVerilog package the RTL
// uses (one per config) and the reference pages under docs/. kiln-hwgen writes them; the
// tests regenerate them to check that what is committed is current.
#pragma once

#include <string>
#include <vector>

#include "kiln/accel/config.h"

namespace kiln::accel::gen {

// Package kiln_accel_pkg with plain localparams only (no types, no imports needed), so
// that RTL refers to kiln_accel_pkg::NAME and Yosys reads it.
std::string svPackage(const Config& config);

// docs/accelerator-isa.md: the ISA, with each config's bit layout.
std::string isaPage(const Spec& spec, const std::vector<Config>& configs);
// docs/accelerator-configs.md: parameters, constraints, and every config's values and hash.
std::string configsPage(const Spec& spec, const std::vector<Config>& configs);

}  // namespace kiln::accel::gen
