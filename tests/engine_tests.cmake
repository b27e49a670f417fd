# Engine (library) tests, label "engine"; the crash test, label "crash".
# Included from tests/CMakeLists.txt, which defines rm_add_test().

rm_add_test(keys_test SOURCES keys_test.cc LABELS engine)
rm_add_test(allocator_test SOURCES allocator_test.cc LABELS engine)
rm_add_test(registry_test SOURCES registry_test.cc LABELS engine)
rm_add_test(migrator_test SOURCES migrator_test.cc LABELS engine)
rm_add_test(migrator_failure_test SOURCES migrator_failure_test.cc LABELS engine)
rm_add_test(step_pipeline_test SOURCES step_pipeline_test.cc LABELS engine)

# The crash test kills a real child process: tests/testutil/crash_child.cc.
add_executable(crash_child testutil/crash_child.cc)
target_include_directories(crash_child PRIVATE ${PROJECT_SOURCE_DIR})
target_link_libraries(crash_child PRIVATE rm_testutil rocksmigrate rm_build_flags)
rm_add_test(crash_test SOURCES crash_test.cc LABELS crash)
target_compile_definitions(crash_test PRIVATE
  RM_CRASH_CHILD_PATH="$<TARGET_FILE:crash_child>")
add_dependencies(crash_test crash_child)
rm_add_test(rollback_test SOURCES rollback_test.cc LABELS engine)
rm_add_test(backups_test SOURCES backups_test.cc LABELS engine)
rm_add_test(dry_run_test SOURCES dry_run_test.cc LABELS engine)
rm_add_test(validate_test SOURCES validate_test.cc LABELS engine)
rm_add_test(startup_test SOURCES startup_test.cc LABELS engine)
rm_add_test(json_migration_test SOURCES json_migration_test.cc LABELS engine)
rm_add_test(json_patch_test SOURCES json_patch_test.cc LABELS engine)

# Online (zero-downtime) steps: label "online".
rm_add_test(online_test SOURCES online_test.cc LABELS online)
add_executable(online_child testutil/online_child.cc)
target_include_directories(online_child PRIVATE ${PROJECT_SOURCE_DIR})
target_link_libraries(online_child PRIVATE rocksmigrate rm_build_flags)
rm_add_test(online_crash_test SOURCES online_crash_test.cc LABELS online crash)
target_compile_definitions(online_crash_test PRIVATE
  RM_ONLINE_CHILD_PATH="$<TARGET_FILE:online_child>")
add_dependencies(online_crash_test online_child)
# The README's online server example, run end to end.
add_test(NAME OnlineServerExample
  COMMAND sh -c "rm -rf \"$1\" && \"$0\" \"$1\" --seed 20000 --rate 20000 --serve-ms 200"
          $<TARGET_FILE:online_server> ${CMAKE_CURRENT_BINARY_DIR}/online_server_db)
set_tests_properties(OnlineServerExample PROPERTIES LABELS online)

# Operations: health, metrics (checked with promtool, Debian `prometheus`),
# retention, the startup call's environment.
find_program(RM_PROMTOOL promtool REQUIRED)
rm_add_test(operations_test SOURCES operations_test.cc LABELS engine)
target_compile_definitions(operations_test PRIVATE
  PROMTOOL_BIN="${RM_PROMTOOL}")

# Down migrations: rollback by down transforms, round trips, refusals.
rm_add_test(down_test SOURCES down_test.cc LABELS engine)
