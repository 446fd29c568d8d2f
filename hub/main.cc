#include <exception>
#include <iostream>

#include "base/heap.h"
#include "hub/cli.h"

// The last resort: RunCli turns every failure into one line already.
int main(int argc, char** argv) {
  try {
    osrc::SetUpHeap();
    return osrc::hub::RunCli(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "osrc-hub: " << e.what() << "\n";
  } catch (...) {
    std::cerr << "osrc-hub: unknown failure\n";
  }
  return 1;
}
