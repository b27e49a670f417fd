// The classic example migration, in C++: Task v1 -> v2 adds `depends_on` and
// `related_tasks` (both empty lists) to every record under "task:".
#ifndef ROCKSMIGRATE_EXAMPLES_TASK_V1_TO_V2_H_
#define ROCKSMIGRATE_EXAMPLES_TASK_V1_TO_V2_H_

#include "rocksmigrate/json_migration.h"

namespace example {

class TaskV1ToV2 : public rocksmigrate::JsonMigration {
 public:
  TaskV1ToV2() : JsonMigration(1, 2, "task_add_dependencies", "task:") {}

  absl::Status Transform(std::string_view key,
                         rocksmigrate::Json& task) const override {
    if (!task.contains("depends_on")) task["depends_on"] = rocksmigrate::Json::array();
    if (!task.contains("related_tasks")) task["related_tasks"] = rocksmigrate::Json::array();
    return absl::OkStatus();
  }
};

}  // namespace example

#endif  // ROCKSMIGRATE_EXAMPLES_TASK_V1_TO_V2_H_
