# pam_lockbox: the PAM module (account and session), its configuration files,
# man page and tests (included from the top Makefile.am).
pammod_LTLIBRARIES += pam_lockbox/pam_lockbox.la
pam_lockbox_pam_lockbox_la_SOURCES = \
	pam_lockbox/pam_lockbox.c \
	pam_lockbox/pam_lockbox.h \
	pam_lockbox/messages.c \
	pam_lockbox/record.c
pam_lockbox_pam_lockbox_la_CFLAGS = $(LB_COMMON_CFLAGS)
# Only pam_sm_* leave the module: common/ is linked in statically and must not
# clash with (or be interposed by) the host program's symbols.
pam_lockbox_pam_lockbox_la_LDFLAGS = $(AM_LDFLAGS) -module -avoid-version -shared \
	-no-undefined -Wl,--version-script=$(top_srcdir)/pam_lockbox/pam_lockbox.sym
pam_lockbox_pam_lockbox_la_LIBADD = $(LB_COMMON_LIBS) $(PAM_LIBS)
EXTRA_pam_lockbox_pam_lockbox_la_DEPENDENCIES = $(top_srcdir)/pam_lockbox/pam_lockbox.sym
EXTRA_DIST += pam_lockbox/pam_lockbox.sym


# ---- tests -----------------------------------------------------------------
# Unit tests of the pure parts (texts, session record) and of common/ pieces the
# module relies on.
check_PROGRAMS += tests/unit/test_pam_module
TESTS += tests/unit/test_pam_module
tests_unit_test_pam_module_SOURCES = tests/unit/test_pam_module.c \
	pam_lockbox/messages.c pam_lockbox/record.c pam_lockbox/pam_lockbox.h
tests_unit_test_pam_module_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/pam_lockbox
tests_unit_test_pam_module_CFLAGS = $(LB_CHECK_CFLAGS)
tests_unit_test_pam_module_LDADD = $(LB_CHECK_LIBS)

# The PAM stack driver (pam_start_confdir) and the dlopen/exports checks.
check_PROGRAMS += tests/pam/pam-run tests/pam/test_pam_dlopen
tests_pam_pam_run_SOURCES = tests/pam/pam-run.c
tests_pam_pam_run_LDADD = $(PAM_LIBS) -ldl
tests_pam_test_pam_dlopen_SOURCES = tests/pam/test_pam_dlopen.c
tests_pam_test_pam_dlopen_LDADD = $(PAM_LIBS) -ldl
TESTS += tests/pam/test_pam_dlopen

LB_PAM_SH_TESTS = \
	tests/pam/pam-symbols.sh \
	tests/pam/pam-config.sh \
	tests/pam/pam-fakebroker.sh \
	tests/pam/pam-catalog.sh \
	tests/pam/pam-broker.sh \
	tests/pam/pam-services.sh \
	tests/pam/polkit-rule.sh \
	tests/pam/polkit-linger.sh
TESTS += $(LB_PAM_SH_TESTS)
dist_check_SCRIPTS += $(LB_PAM_SH_TESTS)
EXTRA_DIST += tests/pam/lib-pam.sh tests/pam/fake-broker.py

# ---- configuration, documentation ------------------------------------------
# (installed by conf/local.mk's hooks where they exist; listed here so they
# are always in the distribution)
dist_man_MANS += man/pam_lockbox.8
EXTRA_DIST += conf/lockbox.conf conf/pam.d/lockbox-sshd conf/pam-configs/lockbox \
	conf/polkit/10-lockbox-linger.rules \
	conf/catalog/lockbox-host.catalog
