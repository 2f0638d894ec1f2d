// pgbench in every query mode through the proxy with its tables under soft-delete rules.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "support/cluster.hpp"
#include "support/process.hpp"

using namespace pgsoftdelete::test;

TEST_CASE("pgbench -M simple, extended and prepared with rewriting active") {
  const std::string pgbench = std::string(PGSD_PG_BIN) + "/pgbench";
  // pgbench -i truncates its tables, which the rules refuse: initialise straight on the server.
  auto init = run_command(pgbench + " -i -s 1 -q -h 127.0.0.1 -p " + std::to_string(cluster().port()) +
                          " -U postgres postgres");
  REQUIRE_MESSAGE(init.status == 0, init.output);
  for (const char* table : {"pgbench_accounts", "pgbench_branches", "pgbench_tellers"})
    cluster().sql(std::string("ALTER TABLE ") + table + " ADD COLUMN is_deleted boolean NOT NULL DEFAULT false");
  const auto rules = std::filesystem::temp_directory_path() / "pgsd-pgbench-rules.toml";
  std::ofstream(rules) << "[[table]]\nname = \"pgbench_accounts\"\n[[table]]\nname = \"pgbench_branches\"\n"
                          "[[table]]\nname = \"pgbench_tellers\"\n";
  ProxyProcess proxy({"--upstream", cluster().endpoint(), "--rules", rules.string(), "--log-level", "debug"});
  const std::string target = "-h 127.0.0.1 -p " + std::to_string(proxy.port()) + " -U postgres postgres";
  for (const char* mode : {"simple", "extended", "prepared"}) {
    CAPTURE(mode);
    auto r = run_command(pgbench + " -M " + mode + " -c 4 -j 2 -t 200 " + target);
    CHECK_MESSAGE(r.status == 0, r.output);
    CHECK(r.output.find("number of transactions actually processed: 800/800") != std::string::npos);
    CHECK(r.output.find("number of failed transactions: 0 (0.000%)") != std::string::npos);
  }
  // Rewriting really happened.
  CHECK(proxy.log().find("AND NOT pgbench_accounts.is_deleted") != std::string::npos);
  std::filesystem::remove(rules);
}
