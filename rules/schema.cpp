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
