#include "hub/cli.h"

int main(int argc, char** argv) { return osrc::hub::RunCli(argc, argv); }
