// TreeSchema: indexes pg_query.proto's descriptors by JSON name.
#include "rules/schema.hpp"

#include "pg_query.pb.h"

namespace pgsoftdelete::rules {

namespace pb = google::protobuf;

const TreeSchema& TreeSchema::get() {
  static const TreeSchema schema;
  return schema;
}

TreeSchema::TreeSchema() {
  types_.node = pg_query::Node::descriptor();
  types_.range_var = pg_query::RangeVar::descriptor();
  types_.column_ref = pg_query::ColumnRef::descriptor();
  types_.copy_stmt = pg_query::CopyStmt::descriptor();
  types_.truncate_stmt = pg_query::TruncateStmt::descriptor();
  types_.do_stmt = pg_query::DoStmt::descriptor();
  types_.select_stmt = pg_query::SelectStmt::descriptor();
  types_.insert_stmt = pg_query::InsertStmt::descriptor();
  types_.update_stmt = pg_query::UpdateStmt::descriptor();
  types_.delete_stmt = pg_query::DeleteStmt::descriptor();
  types_.merge_stmt = pg_query::MergeStmt::descriptor();
  types_.common_table_expr = pg_query::CommonTableExpr::descriptor();
  types_.join_expr = pg_query::JoinExpr::descriptor();
  types_.range_table_sample = pg_query::RangeTableSample::descriptor();
  types_.into_clause = pg_query::IntoClause::descriptor();
  types_.view_stmt = pg_query::ViewStmt::descriptor();
  types_.locking_clause = pg_query::LockingClause::descriptor();
  types_.rename_stmt = pg_query::RenameStmt::descriptor();
  types_.alter_table_stmt = pg_query::AlterTableStmt::descriptor();
  types_.alter_object_schema_stmt = pg_query::AlterObjectSchemaStmt::descriptor();
  types_.drop_stmt = pg_query::DropStmt::descriptor();
  types_.func_call = pg_query::FuncCall::descriptor();
  types_.drop_owned_stmt = pg_query::DropOwnedStmt::descriptor();
  const pb::Descriptor* node = pg_query::Node::descriptor();
  for (int i = 0; i < node->field_count(); ++i) {
    const auto* f = node->field(i);
    if (f->message_type()) node_types_.emplace(f->json_name(), f->message_type());
  }
  const pb::FileDescriptor* file = node->file();
  for (int m = 0; m < file->message_type_count(); ++m) {
    const pb::Descriptor* type = file->message_type(m);
    auto& by_name = fields_[type];
    for (int i = 0; i < type->field_count(); ++i) by_name.emplace(type->field(i)->json_name(), type->field(i));
  }
}

const pb::Descriptor* TreeSchema::node_type(std::string_view key) const {
  auto it = node_types_.find(key);
  return it == node_types_.end() ? nullptr : it->second;
}

const pb::FieldDescriptor* TreeSchema::field(const pb::Descriptor* type, std::string_view key) const {
  auto t = fields_.find(type);
  if (t == fields_.end()) return nullptr;
  auto f = t->second.find(key);
  return f == t->second.end() ? nullptr : f->second;
}

}  // namespace pgsoftdelete::rules
