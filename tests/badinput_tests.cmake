# The bad-input campaign, label "badinput" (ctest -L badinput): corrupted
# bookkeeping, migration files edited between a kill and a resume, records
# at every edge of JSON, and the fuzz targets' corpora. Included from
# tests/CMakeLists.txt, which defines rm_add_test().

rm_add_test(bookkeeping_matrix_test SOURCES badinput/bookkeeping_matrix_test.cc
  LABELS badinput)

# Through the real tool (and a copy of it whose fault points a test arms).
if(TARGET rocksmigrate_cli_binary)
  add_executable(rm_fault_tool badinput/fault_tool.cc)
  target_include_directories(rm_fault_tool PRIVATE ${PROJECT_SOURCE_DIR})
  target_link_libraries(rm_fault_tool PRIVATE rocksmigrate_cli rm_testutil
    rocksmigrate rm_build_flags)
  rm_add_test(cli_edges_test SOURCES badinput/cli_edges_test.cc
    LABELS badinput)
  target_link_libraries(cli_edges_test PRIVATE rm_cli_testutil)
  target_compile_definitions(cli_edges_test PRIVATE
    RM_FAULT_TOOL="$<TARGET_FILE:rm_fault_tool>")
  add_dependencies(cli_edges_test rocksmigrate_cli_binary rm_fault_tool)
endif()

rm_add_test(record_edges_test SOURCES badinput/record_edges_test.cc
  LABELS badinput)

# Fuzz targets (tests/fuzz/): libFuzzer runs with RM_FUZZ, corpus replays
# otherwise.
include(${CMAKE_CURRENT_LIST_DIR}/fuzz_tests.cmake)

rm_add_test(badinput_regression_test SOURCES badinput/regression_test.cc
  LABELS badinput)
