# cli: lockboxctl (included from the top Makefile.am)
bin_PROGRAMS += lockboxctl

# Pure parts (arguments, display, audit chain check), shared with the unit tests.
noinst_LTLIBRARIES += cli/liblockboxctl.la
cli_liblockboxctl_la_SOURCES = \
	cli/args.c cli/args.h \
	cli/display.c cli/display.h \
	cli/reqview.c cli/reqview.h \
	cli/auditchain.c cli/auditchain.h
cli_liblockboxctl_la_CFLAGS = $(LB_COMMON_CFLAGS)

lockboxctl_SOURCES = \
	cli/lockboxctl.c \
	cli/ctl.c cli/ctl.h \
	cli/cmd_request.c \
	cli/cmd_audit.c \
	cli/cmd_token.c \
	cli/cmd_health.c \
	cli/cmd_connect.c \
	cli/cmd_doctor.c \
	cli/doctor.c cli/doctor.h
lockboxctl_CFLAGS = $(LB_COMMON_CFLAGS) $(SECCOMP_CFLAGS)
# libseccomp: doctor loads the recorder's filter in a child to see that it works
lockboxctl_LDADD = cli/liblockboxctl.la $(LB_COMMON_LIBS) $(SECCOMP_LIBS)

# Unit tests of the pure parts (Check; no root, no network).
check_PROGRAMS += tests/unit/test_cli_display tests/unit/test_cli_auditchain
TESTS += tests/unit/test_cli_display tests/unit/test_cli_auditchain
tests_unit_test_cli_display_SOURCES = tests/unit/test_cli_display.c
tests_unit_test_cli_display_CFLAGS = $(LB_CHECK_CFLAGS) -I$(top_srcdir)/cli
tests_unit_test_cli_display_LDADD = cli/liblockboxctl.la $(LB_CHECK_LIBS)
tests_unit_test_cli_auditchain_SOURCES = tests/unit/test_cli_auditchain.c
tests_unit_test_cli_auditchain_CFLAGS = $(LB_CHECK_CFLAGS) -I$(top_srcdir)/cli
tests_unit_test_cli_auditchain_LDADD = cli/liblockboxctl.la $(LB_CHECK_LIBS)

dist_man_MANS += man/lockboxctl.1

# Integration tests: the broker API and lockboxctl against a real lockboxd
# (root; exit 77 otherwise).
TESTS += tests/integration/api-unix.sh tests/integration/api-tls.sh tests/integration/cli-flow.sh
dist_check_SCRIPTS += tests/integration/api-unix.sh tests/integration/api-tls.sh \
	tests/integration/cli-flow.sh
dist_noinst_SCRIPTS += tests/integration/api-lib.sh
