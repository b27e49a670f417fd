# Engine (library) tests, label "engine"; the crash test, label "crash".
# Included from tests/CMakeLists.txt, which defines rm_add_test().

rm_add_test(keys_test SOURCES keys_test.cc LABELS engine)
rm_add_test(registry_test SOURCES registry_test.cc LABELS engine)
rm_add_test(migrator_test SOURCES migrator_test.cc LABELS engine)
rm_add_test(migrator_failure_test SOURCES migrator_failure_test.cc LABELS engine)
