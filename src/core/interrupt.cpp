#include "cargovision/core/interrupt.h"

#include <atomic>
#include <csignal>
#include <unistd.h>

namespace cargovision {
namespace {

std::atomic<int> g_interrupts{0};

extern "C" void on_interrupt(int signal_number) {
  if (g_interrupts.fetch_add(1) >= 1) {
    std::signal(signal_number, SIG_DFL);
    std::raise(signal_number);
    return;
  }
  static const char message[] = "\ninterrupt received: stopping after the current step (press again to abort)\n";
  const auto ignored = ::write(STDERR_FILENO, message, sizeof(message) - 1);
  (void)ignored;
}

}  // namespace

void install_interrupt_handler() {
  std::signal(SIGINT, on_interrupt);
  std::signal(SIGTERM, on_interrupt);
}

bool interrupt_requested() { return g_interrupts.load() > 0; }
void request_interrupt() { g_interrupts.store(1); }
void clear_interrupt() { g_interrupts.store(0); }

}  // namespace cargovision
