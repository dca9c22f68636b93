#include "cargovision/distributed/process_group.h"

#include <fmt/format.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
// Debian's LibTorch is built with Gloo (USE_C10D_GLOO) but does not export the definition its header
// is guarded by.
#define USE_C10D_GLOO 1
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#ifdef USE_C10D_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include <chrono>
#include <cstdlib>

#include "cargovision/core/error.h"
#include "cargovision/core/logging.h"
#include "backend.h"

namespace cargovision::distributed {
namespace {

std::string without_backtrace(const std::exception& e) {
  if (const auto* c10_error = dynamic_cast<const c10::Error*>(&e)) return c10_error->what_without_backtrace();
  return e.what();
}

bool is_loopback(const std::string& address) {
  return address == "localhost" || address.rfind("127.", 0) == 0 || address == "::1";
}

std::string choose_backend(const DistributedOptions& options, const c10::Device& device) {
  std::string backend = options.backend;
  if (backend == "auto") backend = device.is_cuda() ? "nccl" : "gloo";
#ifndef USE_C10D_NCCL
  if (backend == "nccl") {
    throw Error(options.backend == "auto"
                    ? "--device cuda: this LibTorch has no NCCL backend; use --dist_backend gloo"
                    : "--dist_backend nccl: this build has no NCCL (configure with -DCARGOVISION_NCCL=ON against a "
                      "LibTorch with CUDA and NCCL); use gloo");
  }
#endif
  require(backend != "nccl" || device.is_cuda(), "--dist_backend nccl needs --device cuda");
  return backend;
}

}  // namespace

ProcessGroup::ProcessGroup(const RankInfo& info, const DistributedOptions& options, const c10::Device& device)
    : info_(info), options_(options), device_(device), backend_(std::make_unique<Backend>()) {
  validate(options);
  backend_name_ = choose_backend(options, device);
  const auto timeout = std::chrono::milliseconds(1000LL * options.timeout_s);
  const std::string where = fmt::format("{}:{}", info.master_addr, info.master_port);
  try {
    c10d::TCPStoreOptions store_options;
    store_options.port = static_cast<std::uint16_t>(info.master_port);
    store_options.isServer = info.rank == 0;
    store_options.numWorkers = static_cast<std::size_t>(info.world_size);
    store_options.waitWorkers = true;
    store_options.timeout = timeout;
    backend_->store = c10::make_intrusive<c10d::TCPStore>(info.master_addr, store_options);
  } catch (const std::exception& e) {
    throw Error(fmt::format("rank {} of {}: cannot meet the other ranks at {} within {} s: {}", info.rank,
                            info.world_size, where, options.timeout_s, without_backtrace(e)));
  }
  try {
#ifdef USE_C10D_NCCL
    if (backend_name_ == "nccl") {
      auto nccl_options = c10d::ProcessGroupNCCL::Options::create();
      nccl_options->timeout = timeout;
      backend_->group = c10::make_intrusive<c10d::ProcessGroupNCCL>(backend_->store, info.rank, info.world_size,
                                                                    nccl_options);
    }
#endif
    if (backend_name_ == "gloo") {
      auto gloo_options = c10d::ProcessGroupGloo::Options::create(timeout);
      // As PyTorch: GLOO_SOCKET_IFNAME picks the network interface; a run on one machine talks over
      // the loopback device, whatever the host name resolves to.
      if (const char* interface = std::getenv("GLOO_SOCKET_IFNAME"); interface != nullptr && *interface != '\0') {
        gloo_options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(interface));
      } else if (is_loopback(info.master_addr)) {
        gloo_options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
      } else {
        gloo_options->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
      }
      backend_->group = c10::make_intrusive<c10d::ProcessGroupGloo>(backend_->store, info.rank, info.world_size,
                                                                    gloo_options);
    }
  } catch (const std::exception& e) {
    throw Error(fmt::format("rank {} of {}: cannot connect the {} process group through {}: {}", info.rank,
                            info.world_size, backend_name_, where, without_backtrace(e)));
  }
  spdlog::info("rank {} of {} joined through {} ({} backend, {} s timeout)", info.rank, info.world_size, where,
               backend_name_, options.timeout_s);
}

ProcessGroup::~ProcessGroup() = default;

void ProcessGroup::fail(const std::string& operation, const std::exception& cause) const {
  throw Error(fmt::format("rank {} of {}: {} failed: {} (another rank stopped, failed or did not answer within {} s)",
                          info_.rank, info_.world_size, operation, without_backtrace(cause), options_.timeout_s));
}

void ProcessGroup::broadcast(std::vector<torch::Tensor> tensors) {
  try {
    c10d::BroadcastOptions options;
    options.rootRank = 0;
    // All in flight at once: a model's few hundred tensors then cost one round trip, not one each.
    std::vector<c10::intrusive_ptr<c10d::Work>> pending;
    for (auto& tensor : tensors) {
      std::vector<torch::Tensor> one{tensor};
      pending.push_back(backend_->group->broadcast(one, options));
    }
    for (auto& work : pending) work->wait();
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    fail("broadcast from rank 0", e);
  }
}

void ProcessGroup::all_reduce_sum(torch::Tensor tensor) {
  try {
    std::vector<torch::Tensor> one{std::move(tensor)};
    backend_->group->allreduce(one)->wait();
  } catch (const std::exception& e) {
    fail("all-reduce", e);
  }
}

std::vector<double> ProcessGroup::sum(const std::vector<double>& values) {
  auto tensor = torch::tensor(values, torch::kFloat64).to(device_);
  all_reduce_sum(tensor);
  tensor = tensor.cpu();
  return {tensor.data_ptr<double>(), tensor.data_ptr<double>() + tensor.numel()};
}

void ProcessGroup::barrier() {
  try {
    backend_->group->barrier()->wait();
  } catch (const std::exception& e) {
    fail("barrier", e);
  }
}

std::shared_ptr<ProcessGroup> join_from_environment(const DistributedOptions& options, const c10::Device& device) {
  validate(options);
  const auto info = rank_info_from_environment();
  if (!info || info->world_size == 1) return nullptr;
  return std::make_shared<ProcessGroup>(*info, options, device);
}

void setup_rank_logging(const ProcessGroup* group, const std::string& level, const std::string& log_file) {
  if (group == nullptr || group->is_main()) {
    setup_logging(level, log_file);
    return;
  }
  setup_logging(spdlog::level::from_str(level) < spdlog::level::warn ? "warn" : level, "");
  spdlog::default_logger()->set_pattern(fmt::format("[%H:%M:%S] [rank {}] [%^%l%$] %v", group->rank()));
}

}  // namespace cargovision::distributed
