// The osrc-hub command line: parses arguments and runs one subcommand.
#pragma once

namespace osrc::hub {

// Returns the process exit code: 0 success, 1 failure (reason on stderr), 2 usage error.
int RunCli(int argc, char** argv);

}  // namespace osrc::hub
