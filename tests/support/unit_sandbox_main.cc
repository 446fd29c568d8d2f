// unit_sandbox: runs a program under the two seccomp filters systemd installs for a unit's
// RestrictAddressFamilies= and SystemCallFilter= (with SystemCallErrorNumber=EPERM), so tests can
// run the daemons as their units would without systemd:
//   unit_sandbox FAMILIES SYSCALLS_FILE -- PROGRAM ARGS...
// FAMILIES is a comma-separated list (AF_INET,AF_INET6,AF_UNIX): socket() with another family
// fails with EAFNOSUPPORT. SYSCALLS_FILE names the allowed system calls, one per line: any other
// fails with EPERM. x86-64 only.
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstddef>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace {

const std::map<std::string, int> kFamilies = {{"AF_UNIX", AF_UNIX},
                                              {"AF_INET", AF_INET},
                                              {"AF_INET6", AF_INET6},
                                              {"AF_NETLINK", AF_NETLINK},
                                              {"AF_PACKET", AF_PACKET}};

int Fail(const std::string& message) {
  std::fprintf(stderr, "unit_sandbox: %s\n", message.c_str());
  return 2;
}

// socket(family, ...) with a family not in `allowed` returns EAFNOSUPPORT; other calls pass.
bool RestrictFamilies(const std::vector<int>& allowed) {
  const auto k = static_cast<unsigned char>(allowed.size());
  std::vector<sock_filter> filter = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_socket, 0, static_cast<unsigned char>(k + 2)),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, args[0]))};
  for (unsigned char n = 0; n < k; ++n) {
    filter.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, static_cast<unsigned>(allowed[n]),
                              static_cast<unsigned char>(k - n), 0));
  }
  filter.push_back(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EAFNOSUPPORT));
  filter.push_back(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
  sock_fprog program = {static_cast<unsigned short>(filter.size()), filter.data()};
  return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) == 0;
}

// Every system call not named in `names` fails with EPERM.
bool RestrictSyscalls(const std::vector<std::string>& names) {
  scmp_filter_ctx context = seccomp_init(SCMP_ACT_ERRNO(EPERM));
  if (context == nullptr) return false;
  bool ok = true;
  for (const std::string& name : names) {
    int number = seccomp_syscall_resolve_name(name.c_str());
    if (number == __NR_SCMP_ERROR) continue;  // not a system call of this architecture
    ok = ok && seccomp_rule_add(context, SCMP_ACT_ALLOW, number, 0) == 0;
  }
  ok = ok && seccomp_load(context) == 0;
  seccomp_release(context);
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5 || std::strcmp(argv[3], "--") != 0) {
    return Fail("usage: unit_sandbox FAMILIES SYSCALLS_FILE -- PROGRAM ARGS...");
  }
  std::vector<int> families;
  std::istringstream family_list(argv[1]);
  for (std::string name; std::getline(family_list, name, ',');) {
    auto family = kFamilies.find(name);
    if (family == kFamilies.end()) return Fail("unknown address family " + name);
    families.push_back(family->second);
  }
  std::ifstream file(argv[2]);
  if (!file) return Fail(std::string("cannot read ") + argv[2]);
  std::vector<std::string> syscalls;
  for (std::string name; file >> name;) syscalls.push_back(name);
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || !RestrictFamilies(families) ||
      !RestrictSyscalls(syscalls)) {
    return Fail(std::string("cannot install the seccomp filters: ") + std::strerror(errno));
  }
  execvp(argv[4], argv + 4);
  std::perror("unit_sandbox: exec");
  return 127;
}
