#pragma once
// The c10d objects behind ProcessGroup, for the files in src/distributed that call c10d directly.

#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>
#include <torch/csrc/distributed/c10d/Store.hpp>

namespace cargovision::distributed {

struct Backend {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::ProcessGroup> group;
};

}  // namespace cargovision::distributed
