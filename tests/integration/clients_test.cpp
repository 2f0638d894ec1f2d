// Real clients through the proxy: pgbench in every query mode, with no failed transaction.
#include <doctest/doctest.h>

#include "support/cluster.hpp"
#include "support/process.hpp"

using namespace pgsoftdelete::test;

TEST_CASE("pgbench -M simple, extended and prepared through the proxy") {
  ProxyProcess proxy({"--upstream", cluster().endpoint()});
  const std::string pgbench = std::string(PGSD_PG_BIN) + "/pgbench";
  const std::string target = "-h 127.0.0.1 -p " + std::to_string(proxy.port()) + " -U postgres postgres";
  auto init = run_command(pgbench + " -i -s 1 -q " + target);
  REQUIRE_MESSAGE(init.status == 0, init.output);
  for (const char* mode : {"simple", "extended", "prepared"}) {
    CAPTURE(mode);
    auto r = run_command(pgbench + " -M " + mode + " -c 4 -j 2 -t 300 " + target);
    CHECK_MESSAGE(r.status == 0, r.output);
    CHECK(r.output.find("number of transactions actually processed: 1200/1200") != std::string::npos);
    CHECK(r.output.find("number of failed transactions: 0 (0.000%)") != std::string::npos);
  }
}
