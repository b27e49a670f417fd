# Tests of the admin tool and of declarative migrations. The CLI tests run
# the real binaries as subprocesses and read databases back with RocksDB's
# own `ldb` (Debian rocksdb-tools).
find_program(RM_LDB ldb REQUIRED)

rm_add_test(declarative_test declarative_test.cc LABELS declarative)
target_compile_definitions(declarative_test PRIVATE
  RM_SOURCE_DIR_FOR_TESTS="${PROJECT_SOURCE_DIR}")

if(TARGET rocksmigrate_cli_binary)
  add_library(rm_cli_testutil STATIC cli_test_util.cc)
  target_include_directories(rm_cli_testutil PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(rm_cli_testutil
    PUBLIC rm_testutil GTest::gtest absl::strings
    PRIVATE rm_build_flags glog::glog RocksDB::rocksdb-shared)
  set(rm_cli_defs
    ROCKSMIGRATE_BIN="$<TARGET_FILE:rocksmigrate_cli_binary>"
    ROCKSMIGRATE_GEN_BIN="$<TARGET_FILE:rocksmigrate_gen>"
    LDB_BIN="${RM_LDB}"
    RM_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
  target_compile_definitions(rm_cli_testutil PUBLIC ${rm_cli_defs})

  rm_add_test(cli_unit_test cli_unit_test.cc LABELS cli)
  target_link_libraries(cli_unit_test PRIVATE rocksmigrate_cli)
  rm_add_test(cli_command_test cli_command_test.cc LABELS cli)
  target_link_libraries(cli_command_test PRIVATE rocksmigrate_cli)

  foreach(t cli_test cli_definitions_test cli_migrate_test cli_operations_test
            db_handle_test)
    rm_add_test(${t} ${t}.cc LABELS cli)
    target_link_libraries(${t} PRIVATE rm_cli_testutil)
    add_dependencies(${t} rocksmigrate_cli_binary rocksmigrate_gen)
  endforeach()
  find_program(RM_PROMTOOL promtool REQUIRED)
  target_compile_definitions(cli_operations_test PRIVATE
    PROMTOOL_BIN="${RM_PROMTOOL}")
endif()
