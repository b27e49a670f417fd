# The bad-input campaign, label "badinput" (ctest -L badinput): corrupted
# bookkeeping, migration files edited between a kill and a resume, records
# at every edge of JSON, and the fuzz targets' corpora. Included from
# tests/CMakeLists.txt, which defines rm_add_test().

rm_add_test(bookkeeping_matrix_test SOURCES badinput/bookkeeping_matrix_test.cc
  LABELS badinput)
