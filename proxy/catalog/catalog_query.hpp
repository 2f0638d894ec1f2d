// The queries a session runs on its own server connection to learn its database's catalog and its
// search_path, and the reading of their answers. No I/O: the session sends the text and feeds the
// answer's messages in.
#pragma once

#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rules/catalog.hpp"

namespace pgsoftdelete::proxy {

/// What to ask for.
struct CatalogRequest {
  bool catalog = false;         ///< relations, inheritance, foreign keys
  bool search_path = false;     ///< current_schemas(true)
  bool in_transaction = false;  ///< inside the client's transaction: guarded by a savepoint
};

/// The Query text for `request` (a simple-protocol string of several statements).
std::string catalog_query_text(const CatalogRequest& request);
/// Sent after a guarded query failed inside a transaction: undoes the failure, keeps the transaction.
std::string_view catalog_recovery_text();

/// Collects the text result sets of an injected query, message by message.
class ResultCollector {
 public:
  using Row = std::vector<std::optional<std::string>>;

  /// A DataRow's body.
  void on_data_row(std::string_view body);
  /// A CommandComplete: the current result set ends (SAVEPOINT and RELEASE make empty ones too).
  void on_command_complete(std::string_view tag);
  void on_error(std::string message) {
    if (!error_) error_ = std::move(message);
  }

  [[nodiscard]] const std::optional<std::string>& error() const { return error_; }
  [[nodiscard]] bool malformed() const { return malformed_; }
  /// The result sets of SELECTs, in order.
  [[nodiscard]] const std::vector<std::vector<Row>>& selects() const { return selects_; }

 private:
  std::vector<Row> current_;
  std::vector<std::vector<Row>> selects_;
  std::optional<std::string> error_;
  bool malformed_ = false;
};

/// Asked inside a client's extended-protocol batch: what decides how the engine reads text, and the
/// search_path. One row.
std::string_view settings_probe_text();

struct ProbedSettings {
  std::string standard_conforming_strings;
  std::string client_encoding;
  rules::SearchPath search_path;
};

/// Reads the probe's row.
std::expected<ProbedSettings, std::string> read_settings_probe(const ResultCollector& collected);

/// Reads array_to_json's form of a text array (`["a","b"]`).
std::optional<std::vector<std::string>> parse_json_strings(std::string_view text);


/// What the answer said, when complete.
struct CatalogAnswer {
  std::optional<rules::Catalog> catalog;
  std::optional<rules::SearchPath> search_path;
};

/// Reads the collected answer to catalog_query_text(request); an error says what was wrong.
std::expected<CatalogAnswer, std::string> read_catalog_answer(const CatalogRequest& request,
                                                              const ResultCollector& collected);

}  // namespace pgsoftdelete::proxy
