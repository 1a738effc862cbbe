# recorder: rules for this part (included from the top Makefile.am)

# --- lockbox-record ---
# The recorder's pieces, shared by the program and its unit tests.
LB_RECORD_CORE = \
	recorder/record.c recorder/record.h \
	recorder/record-session.c recorder/record-session.h \
	recorder/record-writer.c recorder/record-writer.h \
	recorder/spool.c recorder/spool.h \
	recorder/sink.h recorder/sink_journal.c recorder/sink_memory.c \
	recorder/jsend.c recorder/jsend.h \
	recorder/audit_cmd.c recorder/audit_cmd.h

lockboxlibexec_PROGRAMS += recorder/lockbox-record
recorder_lockbox_record_SOURCES = recorder/lockbox-record.c $(LB_RECORD_CORE) \
	recorder/record-run.c recorder/record-run.h \
	recorder/record-priv.c recorder/record-priv.h \
	recorder/record-confine.c recorder/record-confine.h \
	recorder/audit_cmd_netlink.c recorder/audit_cmd_netlink.h \
	recorder/proc_cmd.c
recorder_lockbox_record_CFLAGS = $(LB_COMMON_CFLAGS)
recorder_lockbox_record_LDADD = $(LB_COMMON_LIBS) $(CAP_LIBS) $(AUDIT_LIBS) \
	$(SYSTEMD_LIBS) $(JANSSON_LIBS) $(CRYPTO_LIBS) $(SECCOMP_LIBS) -lpthread

check_PROGRAMS += tests/unit/test_record_confine
TESTS += tests/unit/test_record_confine
tests_unit_test_record_confine_SOURCES = tests/unit/test_record_confine.c \
	recorder/record-confine.c recorder/record-confine.h \
	recorder/record-priv.c recorder/record-priv.h $(LB_RECORD_CORE)
tests_unit_test_record_confine_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/recorder
tests_unit_test_record_confine_CFLAGS = $(LB_CHECK_CFLAGS) $(SECCOMP_CFLAGS)
tests_unit_test_record_confine_LDADD = $(LB_CHECK_LIBS) $(SECCOMP_LIBS) $(CAP_LIBS) $(SYSTEMD_LIBS) \
	$(JANSSON_LIBS) $(CRYPTO_LIBS) -lpthread

# The integration tests' recorder: the same program, except that it also
# takes lockbox.conf from beside itself (root-owned, not writable by others)
# so a test sshd can run it from a temporary directory. Never installed: the
# production recorder reads /etc/lockbox/lockbox.conf only.
check_PROGRAMS += recorder/lockbox-record-test
recorder_lockbox_record_test_SOURCES = $(recorder_lockbox_record_SOURCES)
recorder_lockbox_record_test_CPPFLAGS = $(AM_CPPFLAGS) -DLB_TEST_PATHS=1
recorder_lockbox_record_test_CFLAGS = $(recorder_lockbox_record_CFLAGS)
recorder_lockbox_record_test_LDADD = $(recorder_lockbox_record_LDADD)

check_PROGRAMS += tests/unit/test_record_parts
TESTS += tests/unit/test_record_parts
tests_unit_test_record_parts_SOURCES = tests/unit/test_record_parts.c $(LB_RECORD_CORE)
tests_unit_test_record_parts_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/recorder
tests_unit_test_record_parts_CFLAGS = $(LB_CHECK_CFLAGS)
tests_unit_test_record_parts_LDADD = $(LB_CHECK_LIBS) $(SYSTEMD_LIBS) $(JANSSON_LIBS) \
	$(CRYPTO_LIBS) -lpthread

# Integration tests (root; real sshd, broker, journald, auditd).
LB_RECORD_IT = tests/integration/record-interactive.sh \
	tests/integration/record-commands.sh \
	tests/integration/record-enforce.sh \
	tests/integration/record-deadline.sh \
	tests/integration/record-journal-drops.sh \
	tests/integration/record-setuid.sh \
	tests/integration/record-escape.sh \
	tests/integration/record-inject.sh \
	tests/integration/record-refuse.sh \
	tests/integration/record-hidden-input.sh \
	tests/integration/record-audit-loss.sh
TESTS += $(LB_RECORD_IT)
dist_check_SCRIPTS += $(LB_RECORD_IT)
EXTRA_DIST += tests/integration/record-lib.sh tests/integration/record-drive.py \
	tests/integration/record-check.py tests/integration/record-escaper.py \
	tests/integration/record-inject.py

dist_man_MANS += man/lockbox-record.8
EXTRA_DIST += conf/audit/lockbox.rules conf/catalog/lockbox-record.catalog
# --- end lockbox-record ---

# --- lockbox-replay ---
bin_PROGRAMS += recorder/lockbox-replay
noinst_LTLIBRARIES += recorder/libreplay.la
recorder_libreplay_la_SOURCES = \
	recorder/replay-buf.h \
	recorder/replay-sanitize.c recorder/replay-sanitize.h \
	recorder/replay-records.c recorder/replay-records.h \
	recorder/replay-asciicast.c recorder/replay-asciicast.h \
	recorder/replay-source.c recorder/replay-source.h
recorder_libreplay_la_CFLAGS = $(LB_COMMON_CFLAGS)
recorder_libreplay_la_LIBADD = $(LB_COMMON_LIBS)
recorder_lockbox_replay_SOURCES = recorder/lockbox-replay.c
recorder_lockbox_replay_CFLAGS = $(LB_COMMON_CFLAGS)
recorder_lockbox_replay_LDADD = recorder/libreplay.la $(LB_COMMON_LIBS) -lm
dist_man_MANS += man/lockbox-replay.1

check_PROGRAMS += tests/unit/test_replay_sanitize tests/unit/test_replay_records \
	tests/integration/replay-writer
TESTS += tests/unit/test_replay_sanitize tests/unit/test_replay_records
tests_unit_test_replay_sanitize_SOURCES = tests/unit/test_replay_sanitize.c
tests_unit_test_replay_sanitize_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/recorder
tests_unit_test_replay_sanitize_CFLAGS = $(LB_CHECK_CFLAGS)
tests_unit_test_replay_sanitize_LDADD = recorder/libreplay.la $(LB_CHECK_LIBS)
tests_unit_test_replay_records_SOURCES = tests/unit/test_replay_records.c
tests_unit_test_replay_records_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/recorder
tests_unit_test_replay_records_CFLAGS = $(LB_CHECK_CFLAGS)
tests_unit_test_replay_records_LDADD = recorder/libreplay.la $(LB_CHECK_LIBS)
tests_integration_replay_writer_SOURCES = tests/integration/replay-writer.c
tests_integration_replay_writer_CFLAGS = $(LB_COMMON_CFLAGS)
tests_integration_replay_writer_LDADD = $(LB_COMMON_LIBS)
TESTS += tests/integration/replay-journal.sh tests/integration/replay-spool.sh \
	tests/integration/replay-real.sh tests/integration/replay-trust.sh
dist_check_SCRIPTS += tests/integration/replay-journal.sh tests/integration/replay-spool.sh \
	tests/integration/replay-real.sh tests/integration/replay-trust.sh
EXTRA_DIST += tests/integration/replay-forge.c
# --- end lockbox-replay ---
