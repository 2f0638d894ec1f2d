// Several upstream hosts: libpq's target_session_attrs checks, and the order sessions try hosts in.
#include <doctest/doctest.h>

#include <algorithm>
#include <set>

#include "net/upstream_hosts.hpp"

using namespace pgsoftdelete::proxy;

namespace {

std::vector<Endpoint> hosts(std::size_t n) {
  std::vector<Endpoint> out;
  for (std::size_t i = 0; i < n; ++i) out.push_back(Endpoint{"db" + std::to_string(i + 1), 5432, {}});
  return out;
}

constexpr ServerRole primary{false, false};
constexpr ServerRole read_only_primary{false, true};
constexpr ServerRole standby{true, true};

}  // namespace

TEST_CASE("target_session_attrs: which roles fit, in libpq's words when not") {
  struct Case {
    const char* name;
    TargetSessionAttrs attrs;
    ServerRole role;
    const char* problem;  // "" when it fits
  };
  const Case cases[] = {
      {"any takes a standby", TargetSessionAttrs::any, standby, ""},
      {"read-write takes a primary", TargetSessionAttrs::read_write, primary, ""},
      {"read-write refuses a standby", TargetSessionAttrs::read_write, standby, "server is in hot standby mode"},
      {"read-write refuses a read-only primary", TargetSessionAttrs::read_write, read_only_primary, "session is read-only"},
      {"read-only takes a standby", TargetSessionAttrs::read_only, standby, ""},
      {"read-only takes a read-only primary", TargetSessionAttrs::read_only, read_only_primary, ""},
      {"read-only refuses a primary", TargetSessionAttrs::read_only, primary, "session is not read-only"},
      {"primary takes a read-only primary", TargetSessionAttrs::primary, read_only_primary, ""},
      {"primary refuses a standby", TargetSessionAttrs::primary, standby, "server is in hot standby mode"},
      {"standby takes a standby", TargetSessionAttrs::standby, standby, ""},
      {"standby refuses a primary", TargetSessionAttrs::standby, primary, "server is not in hot standby mode"},
      {"prefer-standby takes a primary", TargetSessionAttrs::prefer_standby, primary, ""},
  };
  for (const auto& c : cases) {
    CAPTURE(c.name);
    const auto problem = mismatch(c.attrs, c.role);
    CHECK(std::string(problem.value_or("")) == c.problem);
  }
}

TEST_CASE("hosts are tried in order; those known not to fit go last, still tried") {
  UpstreamHosts any(hosts(3), TargetSessionAttrs::any, false);
  any.learn(0, standby);
  CHECK(any.order() == std::vector<std::size_t>{0, 1, 2});  // any: every role fits

  UpstreamHosts rw(hosts(3), TargetSessionAttrs::read_write, false);
  CHECK(rw.order() == std::vector<std::size_t>{0, 1, 2});  // nothing known yet
  rw.learn(0, standby);
  CHECK(rw.order() == std::vector<std::size_t>{1, 2, 0});
  rw.learn(2, primary);
  CHECK(rw.order() == std::vector<std::size_t>{1, 2, 0});  // unknown and fitting keep their order
  rw.learn(0, primary);  // promoted: back to its place
  CHECK(rw.order() == std::vector<std::size_t>{0, 1, 2});
  REQUIRE(rw.known(0));
  CHECK_FALSE(rw.known(0)->hot_standby);
  CHECK_FALSE(rw.known(1));

  // default_transaction_read_only is a session's (SET, a role's default), never the host's.
  UpstreamHosts shared(hosts(2), TargetSessionAttrs::read_write, false);
  shared.learn(0, read_only_primary);
  REQUIRE(shared.known(0));
  CHECK_FALSE(shared.known(0)->read_only);
  CHECK(shared.order() == std::vector<std::size_t>{0, 1});

  UpstreamHosts prefer(hosts(3), TargetSessionAttrs::prefer_standby, false);
  prefer.learn(0, primary);
  prefer.learn(2, standby);
  CHECK(prefer.order() == std::vector<std::size_t>{2, 1, 0});  // known standbys, unknown, the rest
}

TEST_CASE("backend keys lead cancel requests to the session's host until the session ends") {
  UpstreamHosts h(hosts(3), TargetSessionAttrs::any, false);
  CHECK_FALSE(h.host_of_key(100, 7));
  h.remember_key(100, 7, 2);
  h.remember_key(100, 8, 1);  // the same pid on another server: told apart by the key
  CHECK(h.host_of_key(100, 7) == std::optional<std::size_t>(2));
  CHECK(h.host_of_key(100, 8) == std::optional<std::size_t>(1));
  h.forget_key(100, 7);
  CHECK_FALSE(h.host_of_key(100, 7));
  CHECK(h.host_of_key(100, 8) == std::optional<std::size_t>(1));
}

TEST_CASE("load_balance_hosts = random: every order turns up, each a permutation") {
  UpstreamHosts random(hosts(3), TargetSessionAttrs::any, true);
  std::set<std::vector<std::size_t>> seen;
  for (int i = 0; i < 600; ++i) {
    auto order = random.order();
    auto sorted = order;
    std::sort(sorted.begin(), sorted.end());
    REQUIRE(sorted == std::vector<std::size_t>{0, 1, 2});
    seen.insert(order);
  }
  CHECK(seen.size() == 6);
  // Known misfits still go last, whatever the shuffle.
  UpstreamHosts standby_last(hosts(3), TargetSessionAttrs::primary, true);
  standby_last.learn(1, standby);
  for (int i = 0; i < 50; ++i) CHECK(standby_last.order().back() == 1);
}
