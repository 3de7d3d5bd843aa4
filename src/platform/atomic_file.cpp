#include "platform/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <mutex>

#include "base/error.h"

namespace autarky {
namespace {

// Temporary files still open, so a signal handler can unlink them. Fixed-size and lock-free on
// the read side because only async-signal-safe work is allowed in a handler.
constexpr int kMaxPending = 16;
std::array<std::atomic<const char*>, kMaxPending> g_pending{};
std::once_flag g_handlers_installed;

void on_fatal_signal(int sig) {
  for (auto& slot : g_pending) {
    if (const char* path = slot.load()) ::unlink(path);
  }
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

int register_pending(const char* path) {
  std::call_once(g_handlers_installed, [] {
    for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
      struct sigaction old {};
      sigaction(sig, nullptr, &old);
      // Respect a handler someone else installed (e.g. a server's graceful shutdown).
      if (old.sa_handler == SIG_DFL) std::signal(sig, on_fatal_signal);
    }
  });
  for (int i = 0; i < kMaxPending; ++i) {
    const char* expected = nullptr;
    if (g_pending[i].compare_exchange_strong(expected, path)) return i;
  }
  return -1;  // registry full: the file is still removed on exceptions, only not on signals
}

void unregister_pending(int slot) {
  if (slot >= 0) g_pending[slot].store(nullptr);
}

}  // namespace

AtomicFileWriter::AtomicFileWriter(std::string final_path) : final_path_(std::move(final_path)) {
  temp_path_ = final_path_ + ".tmp.XXXXXX";
  fd_ = ::mkstemp(temp_path_.data());
  if (fd_ < 0) fail("{}: cannot create temporary file {}: {}", final_path_, temp_path_, std::strerror(errno));
  ::fchmod(fd_, 0644);
  slot_ = register_pending(temp_path_.c_str());
  buffer_.reserve(1 << 20);
}

AtomicFileWriter::~AtomicFileWriter() {
  if (fd_ >= 0) {
    ::close(fd_);
    ::unlink(temp_path_.c_str());
  }
  unregister_pending(slot_);
}

void AtomicFileWriter::flush_buffer() {
  const char* p = buffer_.data();
  std::size_t left = buffer_.size();
  while (left > 0) {
    ssize_t n = ::write(fd_, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("{}: write failed: {}", final_path_, std::strerror(errno));
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  buffer_.clear();
}

void AtomicFileWriter::write(std::span<const std::uint8_t> data) {
  AUTARKY_ASSERT(fd_ >= 0, "write after commit");
  if (buffer_.size() + data.size() > buffer_.capacity()) flush_buffer();
  if (data.size() >= buffer_.capacity()) {
    buffer_.assign(reinterpret_cast<const char*>(data.data()), data.size());
    flush_buffer();
  } else {
    buffer_.append(reinterpret_cast<const char*>(data.data()), data.size());
  }
  written_ += data.size();
}

void AtomicFileWriter::write_zeros(std::uint64_t count) {
  static constexpr std::array<std::uint8_t, 256> kZeros{};
  while (count > 0) {
    std::uint64_t n = std::min<std::uint64_t>(count, kZeros.size());
    write(std::span<const std::uint8_t>(kZeros.data(), n));
    count -= n;
  }
}

void AtomicFileWriter::commit() {
  AUTARKY_ASSERT(fd_ >= 0, "commit twice");
  flush_buffer();
  if (::fsync(fd_) != 0) fail("{}: fsync failed: {}", final_path_, std::strerror(errno));
  ::close(fd_);
  fd_ = -1;
  if (::rename(temp_path_.c_str(), final_path_.c_str()) != 0) {
    int err = errno;
    ::unlink(temp_path_.c_str());
    fail("{}: cannot rename {} into place: {}", final_path_, temp_path_, std::strerror(err));
  }
  unregister_pending(slot_);
  slot_ = -1;
}

void write_file_atomically(const std::string& path, std::string_view contents) {
  AtomicFileWriter w(path);
  w.write(contents);
  w.commit();
}

}  // namespace autarky
