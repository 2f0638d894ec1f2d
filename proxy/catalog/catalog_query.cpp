// Catalog queries and their answers; see catalog_query.hpp.
#include "catalog/catalog_query.hpp"

#include <charconv>
#include <unordered_map>

#include "codec/wire.hpp"

namespace pgsoftdelete::proxy {

namespace {

// Names come hex-encoded in UTF-8: whatever the client encoding, they arrive, and as the rules
// file spells them. These run under the client's search_path, where the client may have put operators and functions
// of its own ahead of pg_catalog's: every operator, function and type is written qualified.
// Relations a statement can name: tables, partitioned tables, views, materialized views, foreign
// tables, outside the system schemas (users cannot create schemas named pg_*).
constexpr std::string_view relations_sql =
    "SELECT c.oid, pg_catalog.encode(pg_catalog.convert_to(n.nspname::pg_catalog.text, 'UTF8'), 'hex'), pg_catalog.encode(pg_catalog.convert_to(c.relname::pg_catalog.text, 'UTF8'), 'hex'), c.relkind, "
    // A key that identifies each row: the primary key, else a unique index over NOT NULL columns
    // (no predicate, no expression, not deferrable); its key columns in order, a JSON array
    // hex-encoded (NULL: none).
    "(SELECT pg_catalog.encode(pg_catalog.convert_to(pg_catalog.array_to_json(pg_catalog.array_agg(a.attname ORDER BY k.i))::pg_catalog.text, 'UTF8'), 'hex') "
    "FROM (SELECT i.indrelid, i.indkey, i.indnkeyatts FROM pg_catalog.pg_index i WHERE i.indrelid OPERATOR(pg_catalog.=) c.oid "
    "AND i.indisunique AND i.indimmediate AND i.indpred IS NULL AND i.indexprs IS NULL AND NOT EXISTS ("
    "SELECT FROM pg_catalog.unnest(i.indkey::pg_catalog.int2[]) AS u(n) JOIN pg_catalog.pg_attribute b "
    "ON b.attrelid OPERATOR(pg_catalog.=) i.indrelid AND b.attnum OPERATOR(pg_catalog.=) u.n WHERE NOT b.attnotnull) "
    "ORDER BY i.indisprimary DESC, i.indexrelid LIMIT 1) x "
    "CROSS JOIN LATERAL pg_catalog.unnest(x.indkey::pg_catalog.int2[]) WITH ORDINALITY AS k(n, i) "
    "JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) x.indrelid AND a.attnum OPERATOR(pg_catalog.=) k.n "
    "WHERE k.i OPERATOR(pg_catalog.<=) x.indnkeyatts) "
    "FROM pg_catalog.pg_class c "
    "JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace "
    "WHERE c.relkind OPERATOR(pg_catalog.=) ANY ('{r,p,v,m,f}'::pg_catalog.\"char\"[]) "
    "AND n.nspname OPERATOR(pg_catalog.<>) 'information_schema'::pg_catalog.name "
    "AND NOT n.nspname::pg_catalog.text OPERATOR(pg_catalog.~~) 'pg\\_%'::pg_catalog.text";
constexpr std::string_view inherits_sql = "SELECT inhrelid, inhparent FROM pg_catalog.pg_inherits";
// One row per column pair of each foreign key, in the key's order: referenced column, referencing
// column, whether ON DELETE SET NULL / SET DEFAULT sets it (PostgreSQL 15's confdelsetcols, read
// through to_jsonb so that older servers, without that column, answer too), and whether the key is
// a partition's copy of its parent's (conparentid).
constexpr std::string_view keys_sql =
    "SELECT c.oid, pg_catalog.encode(pg_catalog.convert_to(c.conname::pg_catalog.text, 'UTF8'), 'hex'), c.conrelid, c.confrelid, c.confdeltype, c.confupdtype, "
    "pg_catalog.encode(pg_catalog.convert_to(fa.attname::pg_catalog.text, 'UTF8'), 'hex'), "
    "pg_catalog.encode(pg_catalog.convert_to(ra.attname::pg_catalog.text, 'UTF8'), 'hex'), "
    "COALESCE((pg_catalog.to_jsonb(c) OPERATOR(pg_catalog.->) 'confdelsetcols'::pg_catalog.text) OPERATOR(pg_catalog.@>) pg_catalog.to_jsonb(k.ref), false), "
    "c.conparentid OPERATOR(pg_catalog.<>) 0::pg_catalog.oid "
    "FROM pg_catalog.pg_constraint c CROSS JOIN LATERAL ROWS FROM (pg_catalog.unnest(c.conkey), pg_catalog.unnest(c.confkey)) WITH ORDINALITY AS k(ref, fref, i) "
    "JOIN pg_catalog.pg_attribute ra ON ra.attrelid OPERATOR(pg_catalog.=) c.conrelid AND ra.attnum OPERATOR(pg_catalog.=) k.ref "
    "JOIN pg_catalog.pg_attribute fa ON fa.attrelid OPERATOR(pg_catalog.=) c.confrelid AND fa.attnum OPERATOR(pg_catalog.=) k.fref "
    "WHERE c.contype OPERATOR(pg_catalog.=) 'f'::pg_catalog.\"char\" ORDER BY c.oid, k.i";
constexpr std::string_view path_sql =
    "SELECT pg_catalog.encode(pg_catalog.convert_to(s::pg_catalog.text, 'UTF8'), 'hex') FROM pg_catalog.unnest(pg_catalog.current_schemas(true)) WITH ORDINALITY AS t(s, i) ORDER BY i";
constexpr std::string_view savepoint_name = "pgsoftdelete_catalog";

std::optional<std::uint32_t> to_oid(const std::optional<std::string>& text) {
  if (!text) return std::nullopt;
  std::uint32_t v = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), v);
  if (ec != std::errc() || end != text->data() + text->size()) return std::nullopt;
  return v;
}

char letter(const std::optional<std::string>& text) { return text && text->size() == 1 ? (*text)[0] : '\0'; }

/// Hex digits to bytes; nullopt when not hex.
std::optional<std::string> from_hex(const std::optional<std::string>& hex) {
  if (!hex || hex->size() % 2 != 0) return std::nullopt;
  std::string out;
  for (std::size_t i = 0; i < hex->size(); i += 2) {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(hex->data() + i, hex->data() + i + 2, value, 16);
    if (ec != std::errc() || end != hex->data() + i + 2) return std::nullopt;
    out.push_back(static_cast<char>(value));
  }
  return out;
}

}  // namespace

std::string catalog_query_text(const CatalogRequest& request) {
  std::string sql;
  auto add = [&sql](std::string_view statement) {
    sql += statement;
    sql += ";\n";
  };
  if (request.in_transaction) add("SAVEPOINT " + std::string(savepoint_name));
  if (request.catalog) {
    add(relations_sql);
    add(inherits_sql);
    add(keys_sql);
  }
  if (request.search_path) add(path_sql);
  if (request.in_transaction) add("RELEASE SAVEPOINT " + std::string(savepoint_name));
  return sql;
}

std::string_view settings_probe_text() {
  // The schemas hex-encoded: names the client encoding cannot show must not fail the probe.
  return "SELECT pg_catalog.current_setting('standard_conforming_strings'), "
         "pg_catalog.current_setting('client_encoding'), pg_catalog.encode(pg_catalog.convert_to("
         "pg_catalog.array_to_json(pg_catalog.current_schemas(true))::pg_catalog.text, 'UTF8'), 'hex')";
}

std::expected<ProbedSettings, std::string> read_settings_probe(const ResultCollector& collected) {
  const auto& sets = collected.selects();
  if (sets.size() != 1 || sets[0].size() != 1 || sets[0][0].size() != 3 || !sets[0][0][0] || !sets[0][0][1] ||
      !sets[0][0][2])
    return std::unexpected(std::string("the settings probe did not answer one row of three values"));
  const auto& row = sets[0][0];
  auto decoded = from_hex(row[2]);
  auto schemas = decoded ? parse_json_strings(*decoded) : std::nullopt;
  if (!schemas) return std::unexpected("unreadable current_schemas: " + *row[2]);
  return ProbedSettings{*row[0], *row[1], rules::SearchPath{.known = true, .schemas = std::move(*schemas)}};
}

std::optional<std::vector<std::string>> parse_json_strings(std::string_view text) {
  // array_to_json of a name[]: ["a","b \"c\""]; escapes \" \\ \/ \b \f \n \r \t \uXXXX (ASCII controls only).
  if (text.size() < 2 || text.front() != '[' || text.back() != ']') return std::nullopt;
  std::vector<std::string> out;
  std::size_t i = 1;
  const std::size_t end = text.size() - 1;
  if (i == end) return out;
  for (;;) {
    if (text[i] != '"') return std::nullopt;
    std::string element;
    for (++i; i < end && text[i] != '"'; ++i) {
      if (text[i] != '\\') {
        element += text[i];
        continue;
      }
      if (++i >= end) return std::nullopt;
      switch (text[i]) {
        case 'b': element += '\b'; break;
        case 'f': element += '\f'; break;
        case 'n': element += '\n'; break;
        case 'r': element += '\r'; break;
        case 't': element += '\t'; break;
        case 'u': {
          unsigned value = 0;
          if (i + 4 >= end || std::from_chars(text.data() + i + 1, text.data() + i + 5, value, 16).ec != std::errc() ||
              value > 0x7F)
            return std::nullopt;
          element += static_cast<char>(value);
          i += 4;
          break;
        }
        default: element += text[i];
      }
    }
    if (i >= end) return std::nullopt;
    out.push_back(std::move(element));
    ++i;  // the closing quote
    if (i == end) return out;
    if (text[i] != ',') return std::nullopt;
    ++i;
  }
}

std::string_view catalog_recovery_text() {
  return "ROLLBACK TO SAVEPOINT pgsoftdelete_catalog; RELEASE SAVEPOINT pgsoftdelete_catalog";
}

void ResultCollector::on_data_row(std::string_view body) {
  codec::Reader r(body);
  auto count = r.u16();
  if (!count) {
    malformed_ = true;
    return;
  }
  Row row;
  row.reserve(*count);
  for (std::uint16_t i = 0; i < *count; ++i) {
    auto length = r.u32();
    if (!length) {
      malformed_ = true;
      return;
    }
    if (*length == 0xFFFFFFFFu) {
      row.emplace_back(std::nullopt);
      continue;
    }
    auto bytes = r.bytes(*length);
    if (!bytes) {
      malformed_ = true;
      return;
    }
    row.emplace_back(std::string(*bytes));
  }
  current_.push_back(std::move(row));
}

void ResultCollector::on_command_complete(std::string_view tag) {
  if (tag.starts_with("SELECT")) selects_.push_back(std::move(current_));
  current_.clear();
}

std::expected<CatalogAnswer, std::string> read_catalog_answer(const CatalogRequest& request,
                                                              const ResultCollector& collected) {
  if (collected.error()) return std::unexpected(*collected.error());
  if (collected.malformed()) return std::unexpected(std::string("malformed DataRow in the catalog answer"));
  const std::size_t expected = (request.catalog ? 3 : 0) + (request.search_path ? 1 : 0);
  const auto& sets = collected.selects();
  if (sets.size() != expected)
    return std::unexpected("the catalog answer has " + std::to_string(sets.size()) + " result sets, not " +
                           std::to_string(expected));
  CatalogAnswer answer;
  std::size_t next = 0;
  if (request.catalog) {
    rules::Catalog catalog;
    for (const auto& row : sets[next]) {
      auto oid = row.size() == 5 ? to_oid(row[0]) : std::nullopt;
      auto schema = oid ? from_hex(row[1]) : std::nullopt;
      auto name = oid ? from_hex(row[2]) : std::nullopt;
      std::optional<std::vector<std::string>> key = std::vector<std::string>{};
      if (oid && row[4]) {
        auto json = from_hex(row[4]);
        key = json ? parse_json_strings(*json) : std::nullopt;
      }
      if (!oid || !schema || !name || !key) return std::unexpected(std::string("malformed pg_class row"));
      catalog.relations.push_back(
          rules::CatalogRelation{*oid, std::move(*schema), std::move(*name), letter(row[3]), {}, std::move(*key)});
    }
    std::unordered_map<std::uint32_t, std::size_t> by_oid;
    for (std::size_t i = 0; i < catalog.relations.size(); ++i) by_oid.emplace(catalog.relations[i].oid, i);
    for (const auto& row : sets[next + 1]) {
      auto child = row.size() == 2 ? to_oid(row[0]) : std::nullopt;
      auto parent = row.size() == 2 ? to_oid(row[1]) : std::nullopt;
      if (!child || !parent) return std::unexpected(std::string("malformed pg_inherits row"));
      if (auto it = by_oid.find(*child); it != by_oid.end()) catalog.relations[it->second].parents.push_back(*parent);
    }
    std::optional<std::uint32_t> last_key;
    for (const auto& row : sets[next + 2]) {
      auto key = row.size() == 10 ? to_oid(row[0]) : std::nullopt;
      auto referencing = key ? to_oid(row[2]) : std::nullopt;
      auto referenced = key ? to_oid(row[3]) : std::nullopt;
      auto constraint = referenced ? from_hex(row[1]) : std::nullopt;
      auto column = referenced ? from_hex(row[6]) : std::nullopt;
      auto own_column = referenced ? from_hex(row[7]) : std::nullopt;
      const char set = referenced ? letter(row[8]) : '\0', derived = referenced ? letter(row[9]) : '\0';
      if (!referencing || !referenced || !constraint || !column || !own_column || (set != 't' && set != 'f') ||
          (derived != 't' && derived != 'f'))
        return std::unexpected(std::string("malformed pg_constraint row"));
      if (key != last_key) {
        rules::CatalogForeignKey k{std::move(*constraint), *referencing, *referenced, letter(row[4]), letter(row[5]), {}};
        k.derived = derived == 't';
        catalog.foreign_keys.push_back(std::move(k));
        last_key = key;
      }
      auto& k = catalog.foreign_keys.back();
      if (set == 't') k.set_columns.push_back(*own_column);
      k.referenced_columns.push_back(std::move(*column));
      k.referencing_columns.push_back(std::move(*own_column));
    }
    answer.catalog = std::move(catalog);
    next += 3;
  }
  if (request.search_path) {
    rules::SearchPath path{.known = true, .schemas = {}};
    for (const auto& row : sets[next]) {
      auto schema = row.size() == 1 ? from_hex(row[0]) : std::nullopt;
      if (!schema) return std::unexpected(std::string("malformed search_path row"));
      path.schemas.push_back(std::move(*schema));
    }
    answer.search_path = std::move(path);
  }
  return answer;
}

}  // namespace pgsoftdelete::proxy
