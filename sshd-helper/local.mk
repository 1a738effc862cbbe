# sshd-helper: lockbox-keys, sshd's AuthorizedKeysCommand (included from the top Makefile.am)
lockboxlibexec_PROGRAMS += sshd-helper/lockbox-keys
sshd_helper_lockbox_keys_SOURCES = sshd-helper/lockbox-keys.c \
	sshd-helper/keys_line.c sshd-helper/keys_line.h
sshd_helper_lockbox_keys_CFLAGS = $(LB_COMMON_CFLAGS)
sshd_helper_lockbox_keys_LDADD = $(LB_COMMON_LIBS) $(SYSTEMD_LIBS)

check_PROGRAMS += tests/unit/test_keys_line
TESTS += tests/unit/test_keys_line
tests_unit_test_keys_line_SOURCES = tests/unit/test_keys_line.c \
	sshd-helper/keys_line.c sshd-helper/keys_line.h
tests_unit_test_keys_line_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/sshd-helper
tests_unit_test_keys_line_CFLAGS = $(LB_CHECK_CFLAGS)
tests_unit_test_keys_line_LDADD = $(LB_CHECK_LIBS)

dist_man_MANS += man/lockbox-keys.8
EXTRA_DIST += conf/sshd_config.d/lockbox.conf

# Integration tests (root; real broker, real sshd on 127.0.0.1) and their helpers.
TESTS += tests/integration/keys-helper.sh tests/integration/sshd-pam-access.sh \
	tests/integration/sshd-keys.sh
dist_check_SCRIPTS += tests/integration/keys-helper.sh tests/integration/sshd-pam-access.sh \
	tests/integration/sshd-keys.sh
dist_noinst_SCRIPTS += tests/integration/lib-sshd.sh \
	tests/integration/keys-fake-broker.py \
	tests/integration/sshd-pty.py \
	tests/integration/sshd-fwd-probe.py
