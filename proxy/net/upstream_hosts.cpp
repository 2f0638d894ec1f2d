// Choosing among upstream hosts; see upstream_hosts.hpp.
#include "net/upstream_hosts.hpp"

#include <algorithm>
#include <numeric>
#include <random>

namespace pgsoftdelete::proxy {

std::string_view to_string(TargetSessionAttrs attrs) {
  switch (attrs) {
    case TargetSessionAttrs::any: return "any";
    case TargetSessionAttrs::read_write: return "read-write";
    case TargetSessionAttrs::read_only: return "read-only";
    case TargetSessionAttrs::primary: return "primary";
    case TargetSessionAttrs::standby: return "standby";
    case TargetSessionAttrs::prefer_standby: return "prefer-standby";
  }
  return "any";
}

std::optional<std::string_view> mismatch(TargetSessionAttrs attrs, ServerRole role) {
  switch (attrs) {
    case TargetSessionAttrs::any:
    case TargetSessionAttrs::prefer_standby: return std::nullopt;
    case TargetSessionAttrs::read_write:
      if (role.hot_standby) return "server is in hot standby mode";
      if (role.read_only) return "session is read-only";
      return std::nullopt;
    case TargetSessionAttrs::read_only:
      if (!role.hot_standby && !role.read_only) return "session is not read-only";
      return std::nullopt;
    case TargetSessionAttrs::primary:
      if (role.hot_standby) return "server is in hot standby mode";
      return std::nullopt;
    case TargetSessionAttrs::standby:
      if (!role.hot_standby) return "server is not in hot standby mode";
      return std::nullopt;
  }
  return std::nullopt;
}

UpstreamHosts::UpstreamHosts(std::vector<Endpoint> hosts, TargetSessionAttrs attrs, bool random_order)
    : hosts_(std::move(hosts)),
      attrs_(attrs),
      random_order_(random_order),
      roles_(std::make_unique<std::atomic<std::uint8_t>[]>(hosts_.size())) {}

void UpstreamHosts::learn(std::size_t i, ServerRole role) {
  roles_[i].store(static_cast<std::uint8_t>(1 | (role.hot_standby ? 2 : 0)), std::memory_order_relaxed);
}

std::optional<ServerRole> UpstreamHosts::known(std::size_t i) const {
  const auto bits = roles_[i].load(std::memory_order_relaxed);
  if (bits == 0) return std::nullopt;
  return ServerRole{(bits & 2) != 0, false};
}

void UpstreamHosts::remember_key(std::uint32_t process_id, std::uint32_t secret_key, std::size_t host) {
  std::lock_guard lock(keys_mutex_);
  keys_[{process_id, secret_key}] = host;
}

void UpstreamHosts::forget_key(std::uint32_t process_id, std::uint32_t secret_key) {
  std::lock_guard lock(keys_mutex_);
  keys_.erase({process_id, secret_key});
}

std::optional<std::size_t> UpstreamHosts::host_of_key(std::uint32_t process_id, std::uint32_t secret_key) const {
  std::lock_guard lock(keys_mutex_);
  const auto it = keys_.find({process_id, secret_key});
  if (it == keys_.end()) return std::nullopt;
  return it->second;
}

int UpstreamHosts::rank(std::size_t i) const {
  const auto role = known(i);
  if (attrs_ == TargetSessionAttrs::prefer_standby) return !role ? 1 : role->hot_standby ? 0 : 2;
  return role && mismatch(attrs_, *role) ? 2 : 0;
}

std::vector<std::size_t> UpstreamHosts::order() const {
  std::vector<std::size_t> order(hosts_.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  if (order.size() < 2) return order;
  if (random_order_) {
    thread_local std::mt19937 generator{std::random_device{}()};
    std::shuffle(order.begin(), order.end(), generator);
  }
  if (attrs_ != TargetSessionAttrs::any) {
    // Ranks read once: other threads may learn a role meanwhile, and a sort's comparisons must agree.
    std::vector<int> ranks(hosts_.size());
    for (std::size_t i = 0; i < ranks.size(); ++i) ranks[i] = rank(i);
    std::stable_sort(order.begin(), order.end(), [&ranks](std::size_t a, std::size_t b) { return ranks[a] < ranks[b]; });
  }
  return order;
}

}  // namespace pgsoftdelete::proxy
