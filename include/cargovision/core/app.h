#pragma once
// Shared plumbing for the thin executables in apps/.

#include <functional>
#include <string>

namespace cargovision {

// Runs an app body; any error becomes one "error: ..." line on stderr and exit code 1. Sets the heap up
// for tensors first (keep_freed_memory_for_reuse).
int run_guarded(const std::function<int()>& body);

// The value of --config FILE / --config=FILE in argv, or "" — read before the other options so that
// the command line overrides the file.
std::string find_config_argument(int argc, const char* const* argv);
// The value of FLAG VALUE / FLAG=VALUE in argv, or "".
std::string find_option_argument(int argc, const char* const* argv, const std::string& flag);

}  // namespace cargovision
