#pragma once
// Whether the client of a request in progress has closed its connection.
//
// A streaming response learns it when a write fails, but a non-streaming one writes nothing
// until generation ends, and cpp-httplib 0.11 (Debian's) gives a handler neither its socket nor
// a disconnect signal: a client that timed out or was killed would keep its batch slot until
// max_tokens. The handler runs while httplib holds the socket open, so the socket can be found
// among the process's descriptors by its two addresses (the request's local and remote address
// and port) and peeked at without consuming anything. Like nginx, a client that shuts down its
// sending side counts as gone.

#include <httplib.h>

namespace autarky::server {

class ClientConnection {
 public:
  // Finds the request's socket (Linux: /proc/self/fd); when it cannot be found, gone() is
  // always false, which is the behaviour without this check.
  explicit ClientConnection(const httplib::Request& req);

  bool found() const { return fd_ >= 0; }

  // True once the peer has closed or reset the connection. Bytes of a next (pipelined) request
  // waiting to be read mean the client is still there.
  bool gone() const;

 private:
  int fd_ = -1;
};

}  // namespace autarky::server
