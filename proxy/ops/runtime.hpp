// What a reload may change while sessions run: the rules engine and the rewrite mode. Sessions
// look at the generation (one atomic load) before each statement and take a new snapshot only
// when it moved, so a reload is atomic per statement: one statement sees old rules or new, never both.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>

#include "ops/config.hpp"
#include "rules/engine.hpp"

namespace pgsoftdelete::proxy {

/// The reloadable part of the settings, immutable once published.
struct Runtime {
  std::shared_ptr<const rules::Engine> engine;  ///< null: no rules, relay only
  Mode mode = Mode::enforce;
};

/// Holds the current Runtime; thread-safe.
class RuntimeHolder {
 public:
  explicit RuntimeHolder(std::shared_ptr<const Runtime> initial) : current_(std::move(initial)) {}

  /// Publishes a new runtime; later statements of every session use it.
  void publish(std::shared_ptr<const Runtime> next) {
    std::lock_guard lock(mutex_);
    current_ = std::move(next);
    generation_.fetch_add(1, std::memory_order_release);
  }

  [[nodiscard]] std::uint64_t generation() const { return generation_.load(std::memory_order_acquire); }

  [[nodiscard]] std::shared_ptr<const Runtime> current() const {
    std::lock_guard lock(mutex_);
    return current_;
  }

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const Runtime> current_;
  std::atomic<std::uint64_t> generation_{0};
};

/// A session's view of the holder: refreshed cheaply before each statement.
class RuntimeView {
 public:
  explicit RuntimeView(const RuntimeHolder& holder)
      : holder_(holder), generation_(holder.generation()), runtime_(holder.current()) {}

  /// The runtime to use for the next statement.
  const Runtime& get() {
    if (const auto g = holder_.generation(); g != generation_) {
      generation_ = g;
      runtime_ = holder_.current();
    }
    return *runtime_;
  }

 private:
  const RuntimeHolder& holder_;
  std::uint64_t generation_;
  std::shared_ptr<const Runtime> runtime_;
};

}  // namespace pgsoftdelete::proxy
