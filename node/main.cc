#include "node/cli.h"

int main(int argc, char** argv) { return osrc::node::RunCli(argc, argv); }
