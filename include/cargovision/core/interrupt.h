#pragma once
// Ctrl-C handling for long runs: the first SIGINT/SIGTERM asks the loop to stop at the next safe point
// (after saving); a second one terminates immediately.

namespace cargovision {

void install_interrupt_handler();
bool interrupt_requested();
void request_interrupt();  // used by tests and by code that wants the same clean stop
void clear_interrupt();

}  // namespace cargovision
