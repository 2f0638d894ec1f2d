// The seed scenario for soft-delete tests: humans and aliens, each with is_deleted, some rows
// soft-deleted, and a rules file listing both.
#pragma once

#include <filesystem>
#include <string>

#include "support/cluster.hpp"

namespace pgsoftdelete::test {

/// Drops and recreates the seed tables in the shared cluster:
///   humans: 1 Ada, 2 Grace, 3 Alan (deleted), 4 Edsger, 5 Barbara (deleted)
///   aliens: 1 Zorg->1, 2 Xel->2 (deleted), 3 Quux->3, 4 Blip->none, 5 Mork->4 (deleted)
void reset_seed();

/// A rules file for the seed tables; hints only for the users named (or "*").
std::filesystem::path seed_rules(const std::string& hint_users = "*");

}  // namespace pgsoftdelete::test
