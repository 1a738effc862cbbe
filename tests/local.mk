# Unit tests of common/ (Check; no root, no network) and the shared harness.
LB_CHECK_CFLAGS = $(LB_COMMON_CFLAGS) $(CHECK_CFLAGS)
LB_CHECK_LIBS = $(LB_COMMON_LIBS) $(CHECK_LIBS)

check_PROGRAMS += tests/unit/test_common
TESTS += tests/unit/test_common
tests_unit_test_common_SOURCES = tests/unit/test_common.c
tests_unit_test_common_CFLAGS = $(LB_CHECK_CFLAGS)
tests_unit_test_common_LDADD = $(LB_CHECK_LIBS)

dist_noinst_SCRIPTS += tests/integration/lib.sh

# Bypass suite and fault injection (root; real sshd, broker, journald, auditd):
# the known ways around a session recorder, each asserted shut by its effect.
LB_BYPASS_IT = tests/integration/bypass-ssh.sh tests/integration/bypass-env.sh \
	tests/integration/bypass-files.sh tests/integration/bypass-keys.sh \
	tests/integration/fault-broker.sh tests/integration/fault-spool.sh \
	tests/integration/fault-audit.sh tests/integration/fault-journald.sh
TESTS += $(LB_BYPASS_IT)
dist_check_SCRIPTS += $(LB_BYPASS_IT)
EXTRA_DIST += tests/integration/bypass-lib.sh tests/integration/bypass-clock-shim.c
