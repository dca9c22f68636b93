#pragma once
// The data-parallel options every training app takes (the ranks themselves come from the launcher's
// environment: RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT).

#include <CLI/CLI.hpp>

#include "cargovision/distributed/rank.h"

namespace cargovision::distributed {

void add_distributed_options(CLI::App& app, DistributedOptions& options);

}  // namespace cargovision::distributed
