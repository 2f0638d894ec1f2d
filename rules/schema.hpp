// The parse tree's schema, from the protobuf descriptors of pg_query.proto: which JSON member holds which
// node type. Lets one generic walker visit every node of libpg_query's JSON tree.
#pragma once

#include <string_view>
#include <unordered_map>

#include <google/protobuf/descriptor.h>

namespace pgsoftdelete::rules {

/// Lookup tables built once from the descriptors (thread-safe after construction).
class TreeSchema {
 public:
  /// The process-wide instance.
  static const TreeSchema& get();

  /// The node types the rewriter dispatches on (looked up once: `X::descriptor()` is not free).
  struct Types {
    const google::protobuf::Descriptor* node;
    const google::protobuf::Descriptor* range_var;
    const google::protobuf::Descriptor* column_ref;
    const google::protobuf::Descriptor* copy_stmt;
    const google::protobuf::Descriptor* truncate_stmt;
    const google::protobuf::Descriptor* do_stmt;
    const google::protobuf::Descriptor* select_stmt;
    const google::protobuf::Descriptor* insert_stmt;
    const google::protobuf::Descriptor* update_stmt;
    const google::protobuf::Descriptor* delete_stmt;
    const google::protobuf::Descriptor* merge_stmt;
    const google::protobuf::Descriptor* common_table_expr;
    const google::protobuf::Descriptor* join_expr;
    const google::protobuf::Descriptor* range_table_sample;
    const google::protobuf::Descriptor* into_clause;
    const google::protobuf::Descriptor* view_stmt;
    const google::protobuf::Descriptor* locking_clause;
    const google::protobuf::Descriptor* rename_stmt;
    const google::protobuf::Descriptor* alter_table_stmt;
    const google::protobuf::Descriptor* alter_object_schema_stmt;
    const google::protobuf::Descriptor* drop_stmt;
    const google::protobuf::Descriptor* func_call;
    const google::protobuf::Descriptor* drop_owned_stmt;
  };
  const Types& types() const { return types_; }

  /// The node type a Node wrapper's key names (`"RangeVar"` -> RangeVar), or nullptr.
  const google::protobuf::Descriptor* node_type(std::string_view key) const;
  /// The field of `type` whose JSON name is `key`, or nullptr.
  const google::protobuf::FieldDescriptor* field(const google::protobuf::Descriptor* type, std::string_view key) const;

 private:
  TreeSchema();
  Types types_;
  std::unordered_map<std::string_view, const google::protobuf::Descriptor*> node_types_;
  std::unordered_map<const google::protobuf::Descriptor*,
                     std::unordered_map<std::string_view, const google::protobuf::FieldDescriptor*>>
      fields_;
};

}  // namespace pgsoftdelete::rules
