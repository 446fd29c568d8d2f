#include "protocol/bundle.h"

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <fcntl.h>
#include <kj/exception.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "protocol/sync.capnp.h"

namespace osrc::protocol {
namespace {

constexpr char kMagic[8] = {'O', 'S', 'R', 'C', 'B', 'N', 'D', '1'};
constexpr size_t kHeaderBytes = 8 + 1 + crypto_box_PUBLICKEYBYTES + crypto_box_NONCEBYTES;

void EnsureSodium() {
  if (sodium_init() < 0) throw Error(ErrorCode::kInternal, "libsodium failed to initialise");
}

std::string Z85Of(const uint8_t* raw) {
  char z85[41];
  zmq_z85_encode(z85, raw, 32);
  return z85;
}

}  // namespace

std::string SealBundle(const BundleContent& content, const KeyPair& sender,
                       const std::string& recipient_public_key) {
  EnsureSodium();
  capnp::MallocMessageBuilder builder;
  auto root = builder.initRoot<wire::Bundle>();
  root.setSite(content.site);
  root.setSeq(content.seq);
  root.setReply(content.reply);
  root.setCreatedMs(content.created_ms);
  auto messages = root.initMessages(content.messages.size());
  for (size_t i = 0; i < content.messages.size(); ++i) {
    messages.set(i, kj::arrayPtr(reinterpret_cast<const kj::byte*>(content.messages[i].data()),
                                 content.messages[i].size()));
  }
  auto words = capnp::messageToFlatArray(builder);
  auto plain = words.asBytes();
  std::string sender_public = DecodeZ85Key(sender.public_key);
  std::string sender_secret = DecodeZ85Key(sender.secret_key);
  std::string recipient = DecodeZ85Key(recipient_public_key);
  std::string out(kHeaderBytes + crypto_box_MACBYTES + plain.size(), '\0');
  auto* bytes = reinterpret_cast<uint8_t*>(out.data());
  std::memcpy(bytes, kMagic, 8);
  bytes[8] = content.reply ? 2 : 1;
  std::memcpy(bytes + 9, sender_public.data(), 32);
  uint8_t* nonce = bytes + 9 + 32;
  randombytes_buf(nonce, crypto_box_NONCEBYTES);
  if (crypto_box_easy(bytes + kHeaderBytes, plain.begin(), plain.size(), nonce,
                      reinterpret_cast<const uint8_t*>(recipient.data()),
                      reinterpret_cast<const uint8_t*>(sender_secret.data())) != 0) {
    throw Error(ErrorCode::kInternal, "cannot seal bundle");
  }
  sodium_memzero(sender_secret.data(), sender_secret.size());
  return out;
}

Status BundleSender(const std::string& sealed, std::string* sender_z85) {
  if (sealed.size() < kHeaderBytes + crypto_box_MACBYTES || std::memcmp(sealed.data(), kMagic, 8)) {
    return {ErrorCode::kBadBundle, "not an osrc-sync bundle, or truncated"};
  }
  *sender_z85 = Z85Of(reinterpret_cast<const uint8_t*>(sealed.data()) + 9);
  return {};
}

Status OpenBundle(const std::string& sealed, const KeyPair& recipient,
                  const std::string& sender_public_key, BundleContent* out) {
  EnsureSodium();
  std::string sender;
  OSRC_RETURN_IF_ERROR(BundleSender(sealed, &sender));
  if (sender != sender_public_key) {
    return {ErrorCode::kBadBundle, "bundle sealed by another key than expected"};
  }
  const auto* bytes = reinterpret_cast<const uint8_t*>(sealed.data());
  size_t cipher_size = sealed.size() - kHeaderBytes;
  if ((cipher_size - crypto_box_MACBYTES) % sizeof(capnp::word) != 0) {
    return {ErrorCode::kBadBundle, "bundle truncated"};
  }
  auto words =
      kj::heapArray<capnp::word>((cipher_size - crypto_box_MACBYTES) / sizeof(capnp::word));
  std::string secret = DecodeZ85Key(recipient.secret_key);
  std::string public_raw = DecodeZ85Key(sender_public_key);
  int rc = crypto_box_open_easy(reinterpret_cast<uint8_t*>(words.begin()), bytes + kHeaderBytes,
                                cipher_size, bytes + 9 + 32,
                                reinterpret_cast<const uint8_t*>(public_raw.data()),
                                reinterpret_cast<const uint8_t*>(secret.data()));
  sodium_memzero(secret.data(), secret.size());
  if (rc != 0) {
    return {ErrorCode::kBadBundle,
            "bundle does not open: altered, truncated, or sealed for another recipient"};
  }
  capnp::ReaderOptions options;
  options.traversalLimitInWords = kMaxBundleBytes / sizeof(capnp::word);
  Status status;
  kj::Maybe<kj::Exception> failure = kj::runCatchingExceptions([&]() {
    capnp::FlatArrayMessageReader reader(words.asPtr(), options);
    auto root = reader.getRoot<wire::Bundle>();
    out->site = root.getSite();
    out->seq = root.getSeq();
    out->reply = root.getReply();
    out->created_ms = root.getCreatedMs();
    out->messages.clear();
    for (auto message : root.getMessages()) {
      out->messages.emplace_back(reinterpret_cast<const char*>(message.begin()), message.size());
    }
  });
  KJ_IF_MAYBE (exception, failure) {
    return {ErrorCode::kBadBundle,
            std::string("undecodable bundle content: ") + exception->getDescription().cStr()};
  }
  // The kind byte is outside the sealed box: it must name exactly the kind sealed inside.
  if (bytes[8] != (out->reply ? 2 : 1)) return {ErrorCode::kBadBundle, "bundle kind mismatch"};
  return status;
}

Status ReadBundleFile(const std::string& path, std::string* out) {
  struct stat info;
  if (::stat(path.c_str(), &info) != 0) {
    return {ErrorCode::kNotFound, std::string("cannot open bundle: ") + std::strerror(errno), path};
  }
  if (!S_ISREG(info.st_mode)) return {ErrorCode::kBadInput, "not a bundle file", path};
  std::ifstream in(path, std::ios::binary);
  if (!in) return {ErrorCode::kNotFound, "cannot open bundle", path};
  in.seekg(0, std::ios::end);
  std::streamoff end = in.tellg();
  if (end < 0) return {ErrorCode::kIo, "cannot read bundle (not a file?)", path};
  auto size = static_cast<size_t>(end);
  if (size > kMaxBundleBytes) return {ErrorCode::kBadBundle, "bundle larger than 1 GiB", path};
  in.seekg(0);
  out->resize(size);
  if (!in.read(out->data(), static_cast<std::streamsize>(size))) {
    return {ErrorCode::kIo, "cannot read bundle", path};
  }
  return {};
}

Status WriteBundleFile(const std::string& path, const std::string& sealed) {
  std::string temp = path + ".tmp";
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    return {ErrorCode::kIo, std::string("cannot create bundle: ") + std::strerror(errno), path};
  }
  bool ok = ::write(fd, sealed.data(), sealed.size()) == static_cast<ssize_t>(sealed.size());
  ok = ::fsync(fd) == 0 && ok;
  ok = ::close(fd) == 0 && ok;  // NFS and full disks report here
  if (!ok || ::rename(temp.c_str(), path.c_str()) != 0) {
    int error = errno;
    ::unlink(temp.c_str());
    return {ErrorCode::kIo, std::string("cannot write bundle: ") + std::strerror(error), path};
  }
  return {};
}

}  // namespace osrc::protocol
