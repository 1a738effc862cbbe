# Unit tests of common/ (Check; no root, no network) and the shared harness.
LB_CHECK_CFLAGS = $(LB_COMMON_CFLAGS) $(CHECK_CFLAGS)
LB_CHECK_LIBS = $(LB_COMMON_LIBS) $(CHECK_LIBS)

check_PROGRAMS += tests/unit/test_common
TESTS += tests/unit/test_common
tests_unit_test_common_SOURCES = tests/unit/test_common.c
tests_unit_test_common_CFLAGS = $(LB_CHECK_CFLAGS)
tests_unit_test_common_LDADD = $(LB_CHECK_LIBS)

dist_noinst_SCRIPTS += tests/integration/lib.sh
