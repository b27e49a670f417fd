# Fuzz targets, label "badinput". With RM_FUZZ=ON (clang++), each is a
# libFuzzer binary (-fsanitize=fuzzer, plus RM_SANITIZE) that ctest runs for
# RM_FUZZ_SECONDS, starting from its committed seed corpus
# (tests/fuzz/corpus/<target>/); inputs it finds go to the build tree, and a
# crash fails the test with the input saved beside them. Without RM_FUZZ the
# same target is linked with a replay main that runs its seed corpus once,
# so every build checks the corpus (and the regressions kept in it).
set(RM_FUZZ_SECONDS 30 CACHE STRING "Seconds each fuzz target runs under ctest")
set(rm_fuzz_targets migration_file json_patch bookkeeping record_json)
foreach(t ${rm_fuzz_targets})
  set(seeds ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/${t})
  if(RM_FUZZ)
    add_executable(${t}_fuzzer fuzz/${t}_fuzzer.cc)
    target_link_options(${t}_fuzzer PRIVATE -fsanitize=fuzzer)
  else()
    add_executable(${t}_fuzzer fuzz/${t}_fuzzer.cc fuzz/replay_main.cc)
  endif()
  target_include_directories(${t}_fuzzer PRIVATE ${PROJECT_SOURCE_DIR})
  target_link_libraries(${t}_fuzzer PRIVATE rocksmigrate rm_build_flags)
  if(RM_FUZZ)
    set(work ${CMAKE_CURRENT_BINARY_DIR}/fuzz_work/${t})
    file(MAKE_DIRECTORY ${work}/corpus)
    add_test(NAME fuzz_${t}
      COMMAND ${t}_fuzzer -max_total_time=${RM_FUZZ_SECONDS} -timeout=20
              -rss_limit_mb=2560 -max_len=65536 -artifact_prefix=${work}/
              -print_final_stats=1 ${work}/corpus ${seeds})
    set_tests_properties(fuzz_${t} PROPERTIES LABELS "badinput;fuzz"
      TIMEOUT 900)
  else()
    add_test(NAME replay_${t}_corpus COMMAND ${t}_fuzzer ${seeds})
    set_tests_properties(replay_${t}_corpus PROPERTIES LABELS badinput)
  endif()
endforeach()
