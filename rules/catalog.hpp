// What the proxy knows of one database's catalog: its tables with their schemas, their parents
// (partitions and inheritance children) and the foreign keys between them. A plain value, filled
// in by the proxy from the server's pg_catalog; rules/ only reads it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace pgsoftdelete::rules {

/// One relation of pg_class that a statement can name in FROM (table, partitioned table, view…).
struct CatalogRelation {
  std::uint32_t oid = 0;
  std::string schema;
  std::string name;
  char kind = 'r';                    ///< pg_class.relkind: r, p, v, m, f
  std::vector<std::uint32_t> parents;  ///< pg_inherits: partition parent or inheritance parents
  std::vector<std::string> unique_key;  ///< its primary key, else a unique index over NOT NULL columns: the columns, in order (empty: none)
};

/// A foreign key: rows of `referencing` point at rows of `referenced`.
struct CatalogForeignKey {
  std::string name;                 ///< the constraint's name
  std::uint32_t referencing = 0;    ///< conrelid
  std::uint32_t referenced = 0;     ///< confrelid
  char on_delete = 'a';             ///< confdeltype: a no action, r restrict, c cascade, n set null, d set default
  char on_update = 'a';             ///< confupdtype, same letters
  std::vector<std::string> referenced_columns;  ///< names of confkey's columns in `referenced`
  std::vector<std::string> referencing_columns;  ///< names of conkey's columns in `referencing`, in the same order
  /// The columns ON DELETE SET NULL / SET DEFAULT sets (PostgreSQL 15's column list): empty, all of them.
  std::vector<std::string> set_columns;
  /// A copy PostgreSQL keeps on a partition of a key declared on its partitioned table (conparentid set):
  /// the declared key already says what it does.
  bool derived = false;
};

/// A database's catalog as far as soft delete needs it.
struct Catalog {
  std::vector<CatalogRelation> relations;
  std::vector<CatalogForeignKey> foreign_keys;
};

/// The schemas an unqualified name is looked up in, in order (current_schemas(true)), or unknown.
struct SearchPath {
  bool known = false;
  std::vector<std::string> schemas;
  /// Text for cache keys.
  std::string key() const;
};

}  // namespace pgsoftdelete::rules
