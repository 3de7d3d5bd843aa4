#pragma once
// Writes a file so that readers only ever see the old file or the complete new one: data goes
// to a temporary file in the same directory, is flushed to disk, and is renamed into place on
// commit(). If the writer is destroyed without commit (an exception) or the process receives
// SIGINT/SIGTERM/SIGHUP, the temporary file is removed.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace autarky {

class AtomicFileWriter {
 public:
  explicit AtomicFileWriter(std::string final_path);
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;
  ~AtomicFileWriter();

  void write(std::span<const std::uint8_t> data);
  void write(std::string_view text) {
    write({reinterpret_cast<const std::uint8_t*>(text.data()), text.size()});
  }
  // Zero bytes, for alignment padding.
  void write_zeros(std::uint64_t count);
  std::uint64_t bytes_written() const { return written_; }

  // Flushes, fsyncs and renames the temporary file over the final path.
  void commit();

  const std::string& temp_path() const { return temp_path_; }

 private:
  void flush_buffer();
  std::string final_path_;
  std::string temp_path_;
  int fd_ = -1;
  int slot_ = -1;  // index in the signal-cleanup registry
  std::uint64_t written_ = 0;
  std::string buffer_;
};

// Convenience for small outputs (JSON sidecars, manifests).
void write_file_atomically(const std::string& path, std::string_view contents);

}  // namespace autarky
