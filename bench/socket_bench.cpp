// The kernel's floor for a proxy's hop on this machine: what one loopback TCP message costs to send and
// receive, and what the calls an event loop adds around it cost. A proxy pays two send/receive pairs per
// round trip whatever it does in user space; these figures say how much of its CPU per transaction that is.
// Run: pgsd_socket_bench --benchmark_repetitions=10 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cstdlib>

namespace {

/// A connected loopback TCP pair (TCP_NODELAY, as a proxy sets it); `server` is non-blocking.
struct LoopbackPair {
  int client = -1;
  int server = -1;

  LoopbackPair() {
    const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (listener < 0 || ::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(listener, 1) != 0 || ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
      std::abort();
    client = ::socket(AF_INET, SOCK_STREAM, 0);
    if (client < 0 || ::connect(client, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) std::abort();
    server = ::accept(listener, nullptr, nullptr);
    ::close(listener);
    const int one = 1;
    ::setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    ::setsockopt(server, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    ::fcntl(server, F_SETFL, O_NONBLOCK);
  }
  ~LoopbackPair() {
    ::close(client);
    ::close(server);
  }
  LoopbackPair(const LoopbackPair&) = delete;
  LoopbackPair& operator=(const LoopbackPair&) = delete;
};

// One message of about pgbench's Bind/Execute/Sync size sent, then received by the other end: the work
// of one direction of one hop, without any wake-up (both ends in this thread).
void BM_LoopbackSendRecv100B(benchmark::State& state) {
  LoopbackPair pair;
  std::array<char, 100> buf{};
  for (auto _ : state) {
    if (::send(pair.client, buf.data(), buf.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(buf.size())) std::abort();
    std::size_t got = 0;
    while (got < buf.size()) {
      const ssize_t n = ::recv(pair.server, buf.data() + got, buf.size() - got, 0);
      if (n > 0) got += static_cast<std::size_t>(n);
    }
  }
}
BENCHMARK(BM_LoopbackSendRecv100B);

// A read on an empty socket: what a speculative read that finds nothing costs.
void BM_RecvEagain(benchmark::State& state) {
  LoopbackPair pair;
  std::array<char, 100> buf{};
  for (auto _ : state) benchmark::DoNotOptimize(::recv(pair.server, buf.data(), buf.size(), 0));
}
BENCHMARK(BM_RecvEagain);

/// An epoll instance watching `fd` edge-triggered for input, as Asio registers sockets.
int epoll_watching(int fd, epoll_event& ev) {
  const int ep = ::epoll_create1(0);
  ev.events = EPOLLIN | EPOLLET;
  ev.data.fd = fd;
  if (ep < 0 || ::epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0) std::abort();
  return ep;
}

// Re-arming an edge-triggered registration: what waiting for readiness costs instead, in Asio 1.74.
void BM_EpollCtlMod(benchmark::State& state) {
  LoopbackPair pair;
  epoll_event ev{};
  const int ep = epoll_watching(pair.server, ev);
  for (auto _ : state) benchmark::DoNotOptimize(::epoll_ctl(ep, EPOLL_CTL_MOD, pair.server, &ev));
  ::close(ep);
}
BENCHMARK(BM_EpollCtlMod);

// A non-blocking epoll_wait that finds nothing.
void BM_EpollWaitEmpty(benchmark::State& state) {
  LoopbackPair pair;
  epoll_event ev{};
  const int ep = epoll_watching(pair.server, ev);
  std::array<epoll_event, 8> out{};
  for (auto _ : state) benchmark::DoNotOptimize(::epoll_wait(ep, out.data(), static_cast<int>(out.size()), 0));
  ::close(ep);
}
BENCHMARK(BM_EpollWaitEmpty);

}  // namespace

BENCHMARK_MAIN();
