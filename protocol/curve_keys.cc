#include "protocol/curve_keys.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include <cerrno>
#include <cstring>
#include <fstream>

namespace osrc::protocol {
namespace {

Status WriteFile(const std::string& path, const std::string& content, mode_t mode) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0)
    return {ErrorCode::kIo, std::string("cannot create file: ") + std::strerror(errno), path};
  // The umask may have taken bits off `mode`; a secret key must end up exactly 0600.
  if (::fchmod(fd, mode) != 0) {
    int error = errno;
    ::close(fd);
    ::unlink(path.c_str());
    return {ErrorCode::kIo, std::string("cannot set the file's mode: ") + std::strerror(error),
            path};
  }
  bool ok = ::write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size());
  ok = ::fsync(fd) == 0 && ok;
  ok = ::close(fd) == 0 && ok;
  return ok ? Status() : Status(ErrorCode::kIo, "cannot write file", path);
}

Status ReadKey(const std::string& path, std::string* key) {
  std::ifstream in(path);
  if (!in) return {ErrorCode::kNotFound, "cannot read key file", path};
  std::getline(in, *key);
  if (!IsZ85Key(*key)) return {ErrorCode::kBadInput, "not a Z85 CURVE key", path};
  return {};
}

}  // namespace

KeyPair GenerateKeyPair() {
  char public_key[41], secret_key[41];
  if (zmq_curve_keypair(public_key, secret_key) != 0) {
    throw Error(ErrorCode::kInternal, "libzmq has no CURVE support");
  }
  return {public_key, secret_key};
}

bool IsZ85Key(const std::string& key) {
  if (key.size() != 40) return false;
  uint8_t raw[32];
  return zmq_z85_decode(raw, key.c_str()) != nullptr;
}

std::string DecodeZ85Key(const std::string& z85) {
  uint8_t raw[32];
  if (z85.size() != 40 || zmq_z85_decode(raw, z85.c_str()) == nullptr) return {};
  return std::string(reinterpret_cast<char*>(raw), 32);
}

Status WriteKeyPair(const std::string& dir, const std::string& name, const KeyPair& keys) {
  OSRC_RETURN_IF_ERROR(WriteFile(dir + "/" + name + ".key", keys.secret_key + "\n", 0600));
  return WriteFile(dir + "/" + name + ".pub", keys.public_key + "\n", 0644);
}

Status ReadKeyPair(const std::string& dir, const std::string& name, KeyPair* out) {
  OSRC_RETURN_IF_ERROR(ReadKey(dir + "/" + name + ".key", &out->secret_key));
  return ReadKey(dir + "/" + name + ".pub", &out->public_key);
}

}  // namespace osrc::protocol
