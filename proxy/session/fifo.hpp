// A first-in, first-out queue over one vector that keeps its capacity: a session's messages in
// flight are pushed and popped once per message, and std::deque allocates a node every few pushes
// of an element as large as Pending (one per push at 512 bytes and more), the vector never once
// the queue has been as long as it gets.
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

namespace pgsoftdelete::proxy {

template <class T>
class Fifo {
 public:
  using iterator = typename std::vector<T>::iterator;
  using const_iterator = typename std::vector<T>::const_iterator;

  [[nodiscard]] bool empty() const { return head_ == items_.size(); }
  [[nodiscard]] std::size_t size() const { return items_.size() - head_; }

  T& front() { return items_[head_]; }
  const T& front() const { return items_[head_]; }
  T& back() { return items_.back(); }
  const T& back() const { return items_.back(); }
  T& operator[](std::size_t i) { return items_[head_ + i]; }
  const T& operator[](std::size_t i) const { return items_[head_ + i]; }

  iterator begin() { return items_.begin() + static_cast<std::ptrdiff_t>(head_); }
  iterator end() { return items_.end(); }
  const_iterator begin() const { return items_.begin() + static_cast<std::ptrdiff_t>(head_); }
  const_iterator end() const { return items_.end(); }

  void push_back(T&& item) { items_.push_back(std::move(item)); }

  void pop_front() {
    items_[head_] = T{};  // what it owns goes now, not when the slot is reused
    if (++head_ == items_.size()) {
      items_.clear();  // the usual case: the queue drains, and the next push starts at the front
      head_ = 0;
    } else if (head_ >= 64 && head_ * 2 >= items_.size()) {
      // Never drained (a client that keeps a pipeline full): move the live half to the front,
      // so the vector does not grow without end; amortised O(1) per pop.
      items_.erase(items_.begin(), items_.begin() + static_cast<std::ptrdiff_t>(head_));
      head_ = 0;
    }
  }

  /// Removes [first, last), as vector::erase (neither may precede begin()).
  void erase(iterator first, iterator last) {
    items_.erase(first, last);
    if (head_ == items_.size()) clear();
  }

  void clear() {
    items_.clear();
    head_ = 0;
  }

 private:
  std::vector<T> items_;
  std::size_t head_ = 0;  // items_[0, head_) are popped, left empty
};

}  // namespace pgsoftdelete::proxy
