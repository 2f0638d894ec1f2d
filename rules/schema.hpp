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

  /// The node type a Node wrapper's key names (`"RangeVar"` -> RangeVar), or nullptr.
  const google::protobuf::Descriptor* node_type(std::string_view key) const;
  /// The field of `type` whose JSON name is `key`, or nullptr.
  const google::protobuf::FieldDescriptor* field(const google::protobuf::Descriptor* type, std::string_view key) const;

 private:
  TreeSchema();
  std::unordered_map<std::string_view, const google::protobuf::Descriptor*> node_types_;
  std::unordered_map<const google::protobuf::Descriptor*,
                     std::unordered_map<std::string_view, const google::protobuf::FieldDescriptor*>>
      fields_;
};

}  // namespace pgsoftdelete::rules
