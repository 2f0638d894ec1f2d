// Child processes for tests; see process.hpp.
#include "support/process.hpp"

#include <algorithm>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace pgsoftdelete::test {

std::uint16_t free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) throw std::runtime_error("bind failed");
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

bool wait_for_port(std::uint16_t port, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    if (ok) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

ProxyProcess::ProxyProcess(std::vector<std::string> args) : ProxyProcess(std::move(args), 0) {}

ProxyProcess::ProxyProcess(std::vector<std::string> args, std::uint16_t port)
    : port_(port != 0 ? port : free_port()) {
  // A caller's own --listen (a Unix socket) or port: wait for the log rather than a TCP port.
  const bool own_listen = std::find(args.begin(), args.end(), "--listen") != args.end();
  const bool shared = port != 0 || own_listen;
  char dir_template[] = "/tmp/pgsd-proxy-XXXXXX";
  if (::mkdtemp(dir_template) == nullptr) throw std::runtime_error("mkdtemp failed");
  log_file_ = std::filesystem::path(dir_template) / "proxy.log";
  if (own_listen) args.insert(args.begin(), PGSD_BINARY);
  else args.insert(args.begin(), {PGSD_BINARY, "--listen", "127.0.0.1:" + std::to_string(port_)});
  pid_ = ::fork();
  if (pid_ == 0) {
    std::FILE* log = std::fopen(log_file_.c_str(), "w");
    ::dup2(::fileno(log), STDERR_FILENO);
    ::dup2(::fileno(log), STDOUT_FILENO);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    std::_Exit(127);
  }
  if (!shared) {
    if (!wait_for_port(port_, std::chrono::seconds(10)))
      throw std::runtime_error("pgsoftdelete did not start listening: " + log());
    return;
  }
  // Another process may listen on the port already: wait for this one's own word.
  for (int i = 0; i < 200; ++i) {
    if (log().find("pgsoftdelete listening on") != std::string::npos) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  throw std::runtime_error("pgsoftdelete did not start listening: " + log());
}

ProxyProcess::~ProxyProcess() {
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    for (int i = 0; i < 200; ++i) {
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = -1;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  std::error_code ec;
  std::filesystem::remove_all(log_file_.parent_path(), ec);
}

std::string ProxyProcess::conninfo(const std::string& user, const std::string& extra) const {
  return "host=127.0.0.1 port=" + std::to_string(port_) + " dbname=postgres user=" + user + " " + extra;
}

std::string ProxyProcess::log() const {
  std::ifstream in(log_file_);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

long ProxyProcess::rss_kib() const {
  std::ifstream in("/proc/" + std::to_string(pid_) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.starts_with("VmRSS:")) return std::stol(line.substr(6));
  return -1;
}

bool ProxyProcess::alive() {
  if (pid_ <= 0) return false;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) == pid_) {
    pid_ = -1;
    return false;
  }
  return true;
}

void ProxyProcess::signal(int signo) const {
  if (pid_ > 0) ::kill(pid_, signo);
}

int ProxyProcess::wait_exit(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (pid_ > 0 && std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return -1;
}

CommandResult run_command(const std::string& command) {
  CommandResult r;
  std::FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return r;
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, pipe)) > 0;) r.output.append(buf, n);
  const int status = ::pclose(pipe);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

}  // namespace pgsoftdelete::test
