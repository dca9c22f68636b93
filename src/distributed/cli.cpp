#include "cargovision/distributed/cli.h"

namespace cargovision::distributed {

void add_distributed_options(CLI::App& app, DistributedOptions& options) {
  const char* group = "Data-parallel (run under torchrun or scripts/launch.sh N; --batch_size stays the global batch)";
  app.add_option("--dist_backend", options.backend,
                 "process-group backend: auto (nccl with --device cuda when LibTorch has it, else gloo), gloo, nccl")
      ->group(group)
      ->capture_default_str();
  app.add_option("--dist_timeout", options.timeout_s,
                 "seconds a rank waits for the others (rendezvous, every collective) before failing")
      ->group(group)
      ->capture_default_str();
  app.add_option("--dist_sync_bn", options.sync_batch_norm,
                 "batch norms use the whole global batch's statistics, so N ranks train as one process (false: each "
                 "rank's own share, fewer collectives)")
      ->group(group)
      ->capture_default_str();
}

}  // namespace cargovision::distributed
