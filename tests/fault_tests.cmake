# The crash and fault-injection suite: every test here carries the ctest
# label "fault" (and only these do), so `ctest -L fault` runs exactly them.
# Seeds are printed; RM_FAULT_SEED=<n|random> replays or varies them, and
# RM_LONG_CAMPAIGN=1 runs the long campaigns.

# The suite's migrations, model and invariant checker, and the fault
# injecting file system.
add_library(rm_fault_common STATIC
  fault/fault_model.cc
  testutil/fault_fs.cc
)
target_include_directories(rm_fault_common PUBLIC ${PROJECT_SOURCE_DIR})
target_link_libraries(rm_fault_common
  PUBLIC rm_testutil rocksmigrate glog::glog absl::str_format
  PRIVATE rm_build_flags)

# The child process that crash tests kill.
add_executable(fault_child fault/fault_child.cc)
target_link_libraries(fault_child PRIVATE rm_fault_common rm_build_flags)

rm_add_test(fault_test
  SOURCES
    fault/child_runner.cc
    fault/crash_test.cc
    fault/power_loss_test.cc
    fault/io_error_test.cc
    fault/disk_full_test.cc
    fault/corruption_test.cc
    fault/lock_test.cc
    fault/live_writer_test.cc
    fault/clock_test.cc
    fault/regression_test.cc
  LABELS fault)
target_link_libraries(fault_test PRIVATE rm_fault_common)
target_compile_definitions(fault_test PRIVATE
  RM_FAULT_CHILD_PATH="$<TARGET_FILE:fault_child>")
# The admin tool, when it is built: the lock test runs it beside a server.
if(TARGET rocksmigrate_cli_binary)
  target_compile_definitions(fault_test PRIVATE
    RM_TOOL_PATH="$<TARGET_FILE:rocksmigrate_cli_binary>")
  add_dependencies(fault_test rocksmigrate_cli_binary)
endif()
add_dependencies(fault_test fault_child)
