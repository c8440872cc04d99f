// Spawning, watching and killing the gateway (see gateway_process.hpp).
#include "tests/bench/gateway/gateway_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>

namespace laneway::bench {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
using steady = std::chrono::steady_clock;

namespace {

std::atomic<pid_t> g_running_pid{0};

// One blocking GET /ready with a 1 s deadline: true on 200.
bool ready_once(const std::string& host, std::uint16_t port) {
  asio::io_context ioc;
  beast::tcp_stream stream(ioc);
  beast::error_code ec;
  stream.socket().connect(tcp::endpoint(asio::ip::make_address(host, ec), port), ec);
  if (ec) return false;
  timeval one_second{1, 0};  // the blocking read below must not hang on a stuck gateway
  ::setsockopt(stream.socket().native_handle(), SOL_SOCKET, SO_RCVTIMEO, &one_second, sizeof one_second);
  bhttp::request<bhttp::empty_body> req{bhttp::verb::get, "/ready", 11};
  req.set(bhttp::field::host, host);
  bhttp::write(stream.socket(), req, ec);
  if (ec) return false;
  beast::flat_buffer buffer;
  bhttp::response<bhttp::string_body> res;
  bhttp::read(stream.socket(), buffer, res, ec);
  return !ec && res.result_int() == 200;
}

// The value of "address":"..." in a JSON log line, or "".
std::string address_in(const std::string& line) {
  static const std::string key = "\"address\":\"";
  auto at = line.find(key);
  if (at == std::string::npos) return "";
  auto start = at + key.size();
  auto end = line.find('"', start);
  return end == std::string::npos ? "" : line.substr(start, end - start);
}

// The loopback port a process listens on, found through /proc: its socket inodes matched
// against LISTEN rows of /proc/net/tcp. The `listening` log line is info level, so at
// --log-level warn this is the only way to learn the port of `--listen 127.0.0.1:0`.
std::set<std::string> socket_inodes(const std::string& fd_dir) {
  std::set<std::string> inodes;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(fd_dir, ec)) {
    auto link = std::filesystem::read_symlink(entry.path(), ec).string();
    if (link.rfind("socket:[", 0) == 0) inodes.insert(link.substr(8, link.size() - 9));
  }
  return inodes;
}

std::string listening_address_from_proc(pid_t pid) {
  // Right after fork the child still holds the bench's own sockets (until it closes them before
  // exec): skip every socket this process holds too.
  std::set<std::string> inodes = socket_inodes("/proc/" + std::to_string(pid) + "/fd");
  for (const auto& own : socket_inodes("/proc/self/fd")) inodes.erase(own);
  if (inodes.empty()) return "";
  std::ifstream table("/proc/net/tcp");
  std::string line;
  std::getline(table, line);  // header
  while (std::getline(table, line)) {
    std::istringstream row(line);
    std::string slot, local, remote, state, queues, timer, retr, uid, timeout, inode;
    row >> slot >> local >> remote >> state >> queues >> timer >> retr >> uid >> timeout >> inode;
    if (state != "0A" || !inodes.count(inode)) continue;  // 0A: LISTEN
    auto colon = local.find(':');
    if (colon == std::string::npos || local.substr(0, colon) != "0100007F") continue;  // 127.0.0.1
    return "127.0.0.1:" + std::to_string(std::stoul(local.substr(colon + 1), nullptr, 16));
  }
  return "";
}

}  // namespace

pid_t gateway_process::running_pid() { return g_running_pid.load(); }

std::unique_ptr<gateway_process> gateway_process::start(const std::string& binary,
                                                        const std::vector<std::string>& args, int timeout_ms,
                                                        std::string& why) {
  if (::access(binary.c_str(), X_OK) != 0) {
    why = "gateway binary not executable: " + binary + " (" + std::strerror(errno) + ")";
    return nullptr;
  }
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    why = std::string("pipe: ") + std::strerror(errno);
    return nullptr;
  }
  std::vector<std::string> argv_text{binary};
  argv_text.insert(argv_text.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_text) argv.push_back(a.data());
  argv.push_back(nullptr);

  pid_t pid = ::fork();
  if (pid < 0) {
    why = std::string("fork: ") + std::strerror(errno);
    ::close(fds[0]);
    ::close(fds[1]);
    return nullptr;
  }
  if (pid == 0) {
#ifdef __linux__
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive the bench, even if it crashes
#endif
    ::dup2(fds[1], STDERR_FILENO);
    int null_fd = ::open("/dev/null", O_WRONLY);
    if (null_fd >= 0) ::dup2(null_fd, STDOUT_FILENO);
    // Asio's sockets are not close-on-exec: without this the gateway would inherit the bench
    // node's listening socket (and /proc would show it as the gateway's).
    for (int fd = STDERR_FILENO + 1, top = static_cast<int>(::sysconf(_SC_OPEN_MAX)); fd < top && fd < 65536; ++fd) ::close(fd);
    ::execv(binary.c_str(), argv.data());
    ::_exit(127);
  }
  ::close(fds[1]);
  std::unique_ptr<gateway_process> self(new gateway_process());
  self->pid_ = pid;
  g_running_pid = pid;
  self->reader_ = std::thread([p = self.get(), fd = fds[0]] { p->read_stderr(fd); });

  auto deadline = steady::now() + std::chrono::milliseconds(timeout_ms);
  std::string address;
  while (steady::now() < deadline) {
    {
      std::lock_guard lock(self->mutex_);
      address = self->address_;
      if (address.empty() && self->stderr_closed_) break;
    }
    if (address.empty()) address = listening_address_from_proc(pid);
    if (!address.empty() || !self->alive()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  auto colon = address.rfind(':');
  if (address.empty() || colon == std::string::npos) {
    why = self->alive() ? "the gateway did not log or open its listening address within " + std::to_string(timeout_ms) + " ms"
                        : std::string("the gateway exited before listening");
    for (const auto& p : self->problems()) why += "\n  gateway: " + p;
    return nullptr;  // the destructor kills it
  }
  self->host_ = address.substr(0, colon);
  self->port_ = static_cast<std::uint16_t>(std::stoi(address.substr(colon + 1)));
  while (steady::now() < deadline && self->alive()) {
    if (ready_once(self->host_, self->port_)) return self;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  why = "the gateway at " + address + " did not answer GET /ready with 200 within " + std::to_string(timeout_ms) + " ms";
  for (const auto& p : self->problems()) why += "\n  gateway: " + p;
  return nullptr;
}

void gateway_process::read_stderr(int fd) {
  std::string pending;
  char chunk[64 * 1024];
  for (;;) {
    ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    pending.append(chunk, static_cast<std::size_t>(n));
    std::size_t start = 0;
    for (auto nl = pending.find('\n'); nl != std::string::npos; nl = pending.find('\n', start)) {
      std::string line = pending.substr(start, nl - start);
      start = nl + 1;
      std::lock_guard lock(mutex_);
      ++lines_;
      if (address_.empty() && line.find("\"msg\":\"listening\"") != std::string::npos) address_ = address_in(line);
      bool problem = line.find("\"level\":\"warn\"") != std::string::npos ||
                     line.find("\"level\":\"error\"") != std::string::npos || line.find("\"level\"") == std::string::npos;
      if (problem && problems_.size() < 20) problems_.push_back(line);
    }
    pending.erase(0, start);
  }
  ::close(fd);
  std::lock_guard lock(mutex_);
  stderr_closed_ = true;
}

bool gateway_process::alive() {
  if (pid_ <= 0) return false;
  int status = 0;
  pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    pid_ = -1;
    g_running_pid = 0;
    return false;
  }
  return true;
}

void gateway_process::stop() {
  if (alive()) {
    ::kill(pid_, SIGTERM);
    auto deadline = steady::now() + std::chrono::seconds(3);
    while (alive() && steady::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    if (alive()) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    pid_ = -1;
    g_running_pid = 0;
  }
  if (reader_.joinable()) reader_.join();  // stderr closes when the process is gone
}

gateway_process::~gateway_process() { stop(); }

double gateway_process::cpu_seconds() const {
  if (pid_ <= 0) return 0;
  std::ifstream f("/proc/" + std::to_string(pid_) + "/stat");
  std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  auto close_paren = text.rfind(')');  // the command name may hold spaces
  if (close_paren == std::string::npos) return 0;
  std::istringstream fields(text.substr(close_paren + 2));
  std::string skip;
  for (int i = 3; i < 14; ++i) fields >> skip;  // state .. cmajflt (fields 3-13)
  double utime = 0, stime = 0;                  // fields 14 and 15, in clock ticks
  fields >> utime >> stime;
  return (utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

std::size_t gateway_process::log_lines() const {
  std::lock_guard lock(mutex_);
  return lines_;
}

std::vector<std::string> gateway_process::problems() const {
  std::lock_guard lock(mutex_);
  return problems_;
}

}  // namespace laneway::bench
