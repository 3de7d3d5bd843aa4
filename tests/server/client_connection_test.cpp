// ClientConnection finds a request's socket by its addresses and tells a closed connection from
// an open one without consuming what the client sent (a loopback TCP connection stands in for
// httplib's).

#include "server/client_connection.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "test_support.h"

namespace autarky::server {
namespace {

int port_of(int fd, bool peer) {
  sockaddr_in addr{};
  socklen_t len = sizeof addr;
  const int rc = peer ? getpeername(fd, reinterpret_cast<sockaddr*>(&addr), &len)
                      : getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  return rc == 0 ? ntohs(addr.sin_port) : -1;
}

// A connected pair over 127.0.0.1: `server` is the accepted end, as httplib would hold it.
struct LoopbackConnection {
  int listener = -1, client = -1, server = -1;

  LoopbackConnection() {
    listener = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    if (bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(listener, 1) != 0) return;
    addr.sin_port = htons(static_cast<std::uint16_t>(port_of(listener, false)));
    client = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(client, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return;
    server = accept(listener, nullptr, nullptr);
  }
  ~LoopbackConnection() {
    for (int fd : {listener, client, server}) {
      if (fd >= 0) close(fd);
    }
  }
  // The request as httplib describes the server end.
  httplib::Request request() const {
    httplib::Request req;
    req.local_addr = "127.0.0.1";
    req.local_port = port_of(server, false);
    req.remote_addr = "127.0.0.1";
    req.remote_port = port_of(server, true);
    return req;
  }
};

// The kernel delivers a close to the other end asynchronously; poll briefly.
bool becomes_gone(const ClientConnection& c) {
  for (int i = 0; i < 200; ++i) {
    if (c.gone()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return false;
}

TEST(ClientConnection, OpenConnectionIsNotGoneAndPendingBytesStay) {
  LoopbackConnection link;
  ASSERT_GE(link.server, 0);
  const ClientConnection c(link.request());
  ASSERT_TRUE(c.found());
  EXPECT_FALSE(c.gone());
  // A next (pipelined) request waiting to be read: the client is there, and the bytes are left
  // for httplib to read.
  ASSERT_EQ(send(link.client, "GET", 3, 0), 3);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_FALSE(c.gone());
  char buf[4] = {};
  EXPECT_EQ(recv(link.server, buf, sizeof buf, MSG_DONTWAIT), 3);
  EXPECT_EQ(std::string(buf, 3), "GET");
}

TEST(ClientConnection, ClosedConnectionIsGone) {
  LoopbackConnection link;
  ASSERT_GE(link.server, 0);
  const ClientConnection c(link.request());
  ASSERT_TRUE(c.found());
  close(link.client);
  link.client = -1;
  EXPECT_TRUE(becomes_gone(c));
}

TEST(ClientConnection, UnknownAddressesFindNothingAndNeverReportGone) {
  LoopbackConnection link;
  ASSERT_GE(link.server, 0);
  httplib::Request req = link.request();
  req.remote_port = req.remote_port == 1 ? 2 : 1;  // no such connection
  const ClientConnection c(req);
  EXPECT_FALSE(c.found());
  close(link.client);
  link.client = -1;
  EXPECT_FALSE(c.gone());
  EXPECT_FALSE(ClientConnection(httplib::Request{}).found());  // a request without addresses
}

}  // namespace
}  // namespace autarky::server
