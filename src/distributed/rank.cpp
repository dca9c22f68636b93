#include "cargovision/distributed/rank.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstdlib>

#include "cargovision/core/error.h"

namespace cargovision::distributed {
namespace {

std::optional<std::string> variable(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return std::nullopt;
  return std::string(value);
}

int integer_variable(const char* name, int fallback, bool required) {
  const auto text = variable(name);
  if (!text) {
    require(!required, "{} is not set (a distributed run needs RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT)", name);
    return fallback;
  }
  errno = 0;
  char* end = nullptr;
  const long value = std::strtol(text->c_str(), &end, 10);
  require(errno == 0 && end != text->c_str() && *end == '\0' && value >= 0 && value <= 1 << 30,
          "{}='{}' is not a non-negative whole number", name, *text);
  return static_cast<int>(value);
}

}  // namespace

std::optional<RankInfo> rank_info_from_environment() {
  if (!variable("WORLD_SIZE")) return std::nullopt;
  RankInfo info;
  info.world_size = integer_variable("WORLD_SIZE", 1, true);
  require(info.world_size >= 1, "WORLD_SIZE=0: a run needs at least one process");
  info.rank = integer_variable("RANK", 0, info.world_size > 1);
  require(info.rank < info.world_size, "RANK={} is not below WORLD_SIZE={}", info.rank, info.world_size);
  info.local_rank = integer_variable("LOCAL_RANK", info.rank, false);
  if (info.world_size > 1) {
    const auto address = variable("MASTER_ADDR");
    require(address.has_value(),
            "MASTER_ADDR is not set (a distributed run needs RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT)");
    info.master_addr = *address;
    info.master_port = integer_variable("MASTER_PORT", 0, true);
    require(info.master_port > 0 && info.master_port < 65536, "MASTER_PORT={} is not a TCP port", info.master_port);
  }
  return info;
}

std::string device_for_rank(const std::string& device) {
  if (device != "cuda") return device;
  const auto info = rank_info_from_environment();
  return info && info->world_size > 1 ? fmt::format("cuda:{}", info->local_rank) : device;
}

void validate(const DistributedOptions& options) {
  require(options.backend == "auto" || options.backend == "gloo" || options.backend == "nccl",
          "--dist_backend {}: unknown backend (use auto, gloo or nccl)", options.backend);
  require(options.timeout_s > 0, "--dist_timeout must be positive, got {}", options.timeout_s);
}

std::size_t Shard::count(std::size_t total) const {
  const auto ranks = static_cast<std::size_t>(size);
  return total / ranks + (static_cast<std::size_t>(rank) < total % ranks ? 1 : 0);
}

}  // namespace cargovision::distributed
