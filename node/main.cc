#include <exception>
#include <iostream>

#include "base/heap.h"
#include "node/cli.h"

// The last resort: RunCli turns every failure into one line already.
int main(int argc, char** argv) {
  try {
    osrc::SetUpHeap();
    return osrc::node::RunCli(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "osrc-node: " << e.what() << "\n";
  } catch (...) {
    std::cerr << "osrc-node: unknown failure\n";
  }
  return 1;
}
