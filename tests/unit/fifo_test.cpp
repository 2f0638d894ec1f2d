// Fifo: the queue of a session's messages in flight.
#include <doctest/doctest.h>

#include <memory>
#include <string>

#include "session/fifo.hpp"

using pgsoftdelete::proxy::Fifo;

TEST_CASE("fifo: first in, first out, with indexing from the front") {
  Fifo<std::string> q;
  CHECK(q.empty());
  q.push_back("a");
  q.push_back("b");
  q.push_back("c");
  CHECK(q.size() == 3);
  CHECK(q.front() == "a");
  CHECK(q.back() == "c");
  q.pop_front();
  CHECK(q[0] == "b");
  CHECK(q[1] == "c");
  CHECK(std::string(q.begin()->data()) == "b");
  q.pop_front();
  q.pop_front();
  CHECK(q.empty());
  q.push_back("d");  // reused from the front
  CHECK(q.front() == "d");
  CHECK(q.size() == 1);
}

TEST_CASE("fifo: a popped element releases what it owns at once") {
  auto owned = std::make_shared<int>(7);
  Fifo<std::shared_ptr<int>> q;
  q.push_back(std::shared_ptr<int>(owned));
  q.push_back(std::make_shared<int>(8));
  CHECK(owned.use_count() == 2);
  q.pop_front();
  CHECK(owned.use_count() == 1);
}

TEST_CASE("fifo: a queue that never drains keeps its order and stays bounded") {
  Fifo<int> q;
  int next_in = 0, next_out = 0;
  for (int i = 0; i < 10; ++i) q.push_back(next_in++);
  for (int round = 0; round < 100000; ++round) {
    q.push_back(next_in++);
    REQUIRE(q.front() == next_out);
    q.pop_front();
    ++next_out;
    REQUIRE(q.size() == 10);
  }
  // The live elements in order, front to back.
  int expected = next_out;
  for (int v : q) CHECK(v == expected++);
  CHECK(expected == next_in);
}

TEST_CASE("fifo: erasing a range behind the front") {
  Fifo<int> q;
  for (int i = 0; i < 6; ++i) q.push_back(int(i));
  q.pop_front();                                // 1 2 3 4 5
  q.erase(q.begin() + 1, q.begin() + 3);       // 1 4 5
  REQUIRE(q.size() == 3);
  CHECK(q[0] == 1);
  CHECK(q[1] == 4);
  CHECK(q[2] == 5);
  q.erase(q.begin(), q.end());
  CHECK(q.empty());
  q.push_back(9);
  CHECK(q.front() == 9);
}
