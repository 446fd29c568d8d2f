#include "hub/operator_command.h"

#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <memory>

#include "base/text.h"
#include "hub/audit.h"
#include "hub/hub.h"
#include "hub/operators.h"

namespace osrc::hub {
namespace {

// One line from standard input, without its line end; false at end of input.
bool ReadLine(std::string* line) {
  if (!std::getline(std::cin, *line)) return false;
  if (!line->empty() && line->back() == '\r') line->pop_back();
  return true;
}

// One line typed at the terminal with echo off.
bool ReadHidden(const std::string& prompt, std::string* line) {
  std::cerr << prompt << std::flush;
  termios old_mode{};
  bool restore = ::tcgetattr(STDIN_FILENO, &old_mode) == 0;
  if (restore) {
    termios quiet = old_mode;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
  }
  bool ok = ReadLine(line);
  if (restore) ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &old_mode);
  std::cerr << "\n";
  return ok;
}

Status ReadPassword(const std::string& name, std::string* password) {
  if (!::isatty(STDIN_FILENO)) {
    if (!ReadLine(password)) {
      return {ErrorCode::kBadInput, "no password on standard input", "operator " + name};
    }
    return {};
  }
  std::string again;
  if (!ReadHidden("Password for " + name + ": ", password) || !ReadHidden("Again: ", &again)) {
    return {ErrorCode::kBadInput, "no password typed", "operator " + name};
  }
  if (*password != again) {
    return {ErrorCode::kBadInput, "the two passwords differ", "operator " + name};
  }
  return {};
}

}  // namespace

Status CommandOperatorAdd(const std::string& dir, const std::string& name,
                          const std::string& role_word) {
  std::unique_ptr<Hub> hub;
  OSRC_RETURN_IF_ERROR(Hub::Open(dir, &hub));
  Role role;
  OSRC_RETURN_IF_ERROR(ParseRole(role_word, &role).WithContext("--role"));
  std::string password;
  OSRC_RETURN_IF_ERROR(ReadPassword(name, &password));
  OSRC_RETURN_IF_ERROR(CheckNewOperator(name, password));
  std::vector<Operator> operators;
  OSRC_RETURN_IF_ERROR(ReadOperators(dir, &operators));
  for (const Operator& op : operators) {
    if (op.name == name) {  // refused before it is audited; AddOperator checks again under lock
      return {ErrorCode::kBadInput, "exists already (operator remove it first)",
              "operator " + name};
    }
  }
  OSRC_RETURN_IF_ERROR(AppendAudit(dir, CommandLineActor(), "operator add",
                                   name + " as " + std::string(RoleName(role))));
  OSRC_RETURN_IF_ERROR(AddOperator(dir, name, role, password, hub->clock().NowMillis()));
  std::cout << "added operator " << name << " (" << RoleName(role) << ")\n";
  return {};
}

Status CommandOperatorRemove(const std::string& dir, const std::string& name) {
  std::unique_ptr<Hub> hub;
  OSRC_RETURN_IF_ERROR(Hub::Open(dir, &hub));
  OSRC_RETURN_IF_ERROR(AppendAudit(dir, CommandLineActor(), "operator remove", name));
  OSRC_RETURN_IF_ERROR(RemoveOperator(dir, name));
  std::cout << "removed operator " << name << "\n";
  return {};
}

Status CommandOperatorList(const std::string& dir) {
  std::unique_ptr<Hub> hub;
  OSRC_RETURN_IF_ERROR(Hub::Open(dir, &hub));
  std::vector<Operator> operators;
  OSRC_RETURN_IF_ERROR(ReadOperators(dir, &operators));
  for (const Operator& op : operators) {
    std::cout << op.name << " " << RoleName(op.role) << " created " << UtcTimeOf(op.created_ms)
              << "\n";
  }
  return {};
}

}  // namespace osrc::hub
