#include "cargovision/core/app.h"

#include <c10/util/Exception.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <exception>

#include "cargovision/core/allocator.h"
#include "cargovision/core/error.h"

namespace cargovision {
namespace {
void print_error(const std::string& message) {
  // Keep it to one line: LibTorch messages can carry a multi-line context.
  std::string line = message.substr(0, message.find('\n'));
  std::fprintf(stderr, "error: %s\n", line.c_str());
}
}  // namespace

int run_guarded(const std::function<int()>& body) {
  // Every app and the benchmark driver pass here before they allocate tensors.
  keep_freed_memory_for_reuse();
  try {
    return body();
  } catch (const Interrupted& e) {
    std::fprintf(stderr, "interrupted: %s\n", e.what());
    spdlog::shutdown();
    return 130;
  } catch (const c10::Error& e) {
    print_error(e.what_without_backtrace());
  } catch (const std::exception& e) {
    print_error(e.what());
  }
  spdlog::shutdown();
  return 1;
}

std::string find_option_argument(int argc, const char* const* argv, const std::string& flag) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == flag && i + 1 < argc) return argv[i + 1];
    if (arg.rfind(flag + "=", 0) == 0) return arg.substr(flag.size() + 1);
  }
  return "";
}

std::string find_config_argument(int argc, const char* const* argv) {
  return find_option_argument(argc, argv, "--config");
}

}  // namespace cargovision
