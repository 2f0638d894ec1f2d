// Session hints follow PostgreSQL's SET semantics: a table of event sequences and the hint
// in force after each.
#include <doctest/doctest.h>

#include <functional>
#include <string>
#include <vector>

#include "session/session_hints.hpp"

using namespace pgsoftdelete::proxy;
using pgsoftdelete::rules::HintKind;
using pgsoftdelete::rules::HintSetting;
using pgsoftdelete::rules::TableSet;

namespace {

TableSet all() { return TableSet{.all = true, .names = {}}; }

HintSetting set_skip(bool local = false) {
  return HintSetting{.action = HintSetting::Action::set, .kind = HintKind::skip, .local = local, .value = all()};
}
HintSetting clear_skip() {
  return HintSetting{.action = HintSetting::Action::set, .kind = HintKind::skip, .local = false, .value = {}};
}
HintSetting reset_skip() { return HintSetting{.action = HintSetting::Action::reset, .kind = HintKind::skip}; }
HintSetting reset_all() { return HintSetting{.action = HintSetting::Action::reset_all}; }

using Step = std::function<void(SessionHints&)>;

struct Case {
  const char* name;
  std::vector<Step> steps;
  bool skip_after;  // is skip=* in force at the end?
};

Step apply(HintSetting s) {
  return [s](SessionHints& h) { h.apply(s); };
}
Step ready(char status) {
  return [status](SessionHints& h) { h.on_ready(status); };
}
Step error() {
  return [](SessionHints& h) { h.on_error(); };
}
Step commit() {
  return [](SessionHints& h) { h.on_commit(); };
}
Step rollback() {
  return [](SessionHints& h) { h.on_rollback(); };
}
Step savepoint(std::string n) {
  return [n](SessionHints& h) { h.on_savepoint(n); };
}
Step release(std::string n) {
  return [n](SessionHints& h) { h.on_release(n); };
}
Step rollback_to(std::string n) {
  return [n](SessionHints& h) { h.on_rollback_to(n); };
}

}  // namespace

TEST_CASE("session hints after sequences of SET, transactions and savepoints") {
  const Case cases[] = {
      {"autocommit SET stays", {apply(set_skip()), ready('I')}, true},
      {"SET then RESET", {apply(set_skip()), ready('I'), apply(reset_skip()), ready('I')}, false},
      {"RESET ALL", {apply(set_skip()), ready('I'), apply(reset_all()), ready('I')}, false},
      {"SET in a committed transaction", {ready('T'), apply(set_skip()), ready('T'), commit(), ready('I')}, true},
      {"SET in a rolled-back transaction", {ready('T'), apply(set_skip()), ready('T'), rollback(), ready('I')}, false},
      {"SET in a failed transaction ended by COMMIT (tag ROLLBACK)",
       {apply(set_skip()), ready('T'), error(), ready('E'), rollback(), ready('I')},
       false},
      {"SET then an error in the same implicit transaction", {apply(set_skip()), error(), ready('I')}, false},
      {"an error in a later query does not undo a committed SET",
       {apply(set_skip()), ready('I'), error(), ready('I')},
       true},
      {"SET LOCAL lasts until commit", {apply(set_skip(true)), ready('T'), commit(), ready('I')}, false},
      {"SET LOCAL in force inside its transaction", {apply(set_skip(true)), ready('T')}, true},
      {"SET after SET LOCAL persists", {apply(set_skip(true)), apply(set_skip()), ready('T'), commit(), ready('I')}, true},
      {"ROLLBACK TO a savepoint before the SET",
       {ready('T'), savepoint("a"), apply(set_skip()), savepoint("b"), rollback_to("a"), ready('T'), commit()},
       false},
      {"ROLLBACK TO a savepoint after the SET keeps it",
       {apply(set_skip()), savepoint("a"), apply(clear_skip()), rollback_to("a"), ready('T'), commit()},
       true},
      {"ROLLBACK TO a savepoint older than every change (unrecorded)",
       {ready('T'), apply(set_skip()), rollback_to("older"), ready('T'), commit()},
       false},
      {"RELEASE keeps changes", {apply(set_skip()), savepoint("a"), apply(clear_skip()), release("a"), commit()}, false},
      {"RELEASE then ROLLBACK TO an older one",
       {apply(clear_skip()), savepoint("a"), apply(set_skip()), savepoint("b"), release("b"), rollback_to("a"), commit()},
       false},
      {"the most recent savepoint of a reused name wins",
       {apply(clear_skip()), savepoint("a"), apply(set_skip()), savepoint("a"), apply(clear_skip()), rollback_to("a"),
        commit()},
       true},
  };
  for (const auto& c : cases) {
    CAPTURE(c.name);
    SessionHints hints;
    for (const auto& step : c.steps) step(hints);
    CHECK(hints.effective().skip.all == c.skip_after);
  }
}

TEST_CASE("RESET returns to the startup value, and key() follows the effective hints") {
  pgsoftdelete::rules::Hints startup;
  startup.skip = all();
  SessionHints hints(startup);
  CHECK(hints.effective().skip.all);
  const auto start_key = hints.key();
  hints.apply(clear_skip());
  CHECK_FALSE(hints.effective().skip.all);
  CHECK(hints.key() != start_key);
  hints.apply(reset_skip());
  CHECK(hints.effective().skip.all);
  CHECK(hints.key() == start_key);
}
