// The seed scenario; see seed.hpp.
#include "support/seed.hpp"

#include <fstream>

namespace pgsoftdelete::test {

void reset_seed() {
  cluster().sql(R"(
DROP TABLE IF EXISTS aliens, humans CASCADE;
CREATE TABLE humans (id int PRIMARY KEY, name text NOT NULL, is_deleted boolean NOT NULL DEFAULT false);
CREATE TABLE aliens (id int PRIMARY KEY, name text NOT NULL, human_id int REFERENCES humans(id),
                     is_deleted boolean NOT NULL DEFAULT false);
CREATE INDEX humans_live ON humans (name) WHERE NOT is_deleted;
INSERT INTO humans VALUES (1, 'Ada', false), (2, 'Grace', false), (3, 'Alan', true), (4, 'Edsger', false),
                          (5, 'Barbara', true);
INSERT INTO aliens VALUES (1, 'Zorg', 1, false), (2, 'Xel', 2, true), (3, 'Quux', 3, false), (4, 'Blip', NULL, false),
                          (5, 'Mork', 4, true);
)");
}

std::filesystem::path seed_rules(const std::string& hint_users) {
  const auto dir = std::filesystem::temp_directory_path() / "pgsd-seed-rules";
  std::filesystem::create_directories(dir);
  const auto file = dir / ("rules-" + std::to_string(std::hash<std::string>{}(hint_users)) + ".toml");
  const std::string users = hint_users == "*" ? "\"*\"" : "\"" + hint_users + "\"";
  std::ofstream(file) << "[hints]\nskip_users = [" << users << "]\nhard_delete_users = [" << users
                      << "]\n\n[[table]]\nname = \"humans\"\n\n[[table]]\nname = \"aliens\"\n";
  return file;
}

}  // namespace pgsoftdelete::test
