# libFuzzer harnesses (tests/fuzz/README.md). Built only in a tree configured
#   CC=clang ../configure --enable-fuzzing && make fuzz
# and run by tests/fuzz/run.sh (short, from scripts/test.sh) or
# tests/fuzz/run-long.sh. Each links the code it fuzzes the way tests/unit do.
LB_FUZZ_HARNESSES = \
	tests/fuzz/fuzz_sanitize \
	tests/fuzz/fuzz_records \
	tests/fuzz/fuzz_replay_source \
	tests/fuzz/fuzz_asciicast \
	tests/fuzz/fuzz_broker_answer \
	tests/fuzz/fuzz_authinfo \
	tests/fuzz/fuzz_conf \
	tests/fuzz/fuzz_broker_route \
	tests/fuzz/fuzz_request_json \
	tests/fuzz/fuzz_audit_cmd \
	tests/fuzz/fuzz_rec_session \
	tests/fuzz/fuzz_util \
	tests/fuzz/fuzz_cli_answer

if FUZZING
noinst_PROGRAMS += $(LB_FUZZ_HARNESSES)
fuzz: $(LB_FUZZ_HARNESSES)
else
fuzz:
	@echo "make fuzz: configure with CC=clang --enable-fuzzing" >&2; exit 1
endif
.PHONY: fuzz

LB_FUZZ_CC = $(LB_COMMON_CFLAGS) $(MHD_CFLAGS) $(SQLITE_CFLAGS) -I$(top_srcdir)/tests/fuzz
LB_FUZZ_LINK = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)

tests_fuzz_fuzz_sanitize_SOURCES = tests/fuzz/fuzz_sanitize.c tests/fuzz/fuzz.h
tests_fuzz_fuzz_sanitize_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/recorder
tests_fuzz_fuzz_sanitize_CFLAGS = $(LB_FUZZ_CC)
tests_fuzz_fuzz_sanitize_LDFLAGS = $(LB_FUZZ_LINK)
tests_fuzz_fuzz_sanitize_LDADD = recorder/libreplay.la $(LB_COMMON_LIBS)

tests_fuzz_fuzz_records_SOURCES = tests/fuzz/fuzz_records.c tests/fuzz/fuzz.h
tests_fuzz_fuzz_records_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/recorder
tests_fuzz_fuzz_records_CFLAGS = $(LB_FUZZ_CC)
tests_fuzz_fuzz_records_LDFLAGS = $(LB_FUZZ_LINK)
tests_fuzz_fuzz_records_LDADD = recorder/libreplay.la $(LB_COMMON_LIBS)

tests_fuzz_fuzz_replay_source_SOURCES = tests/fuzz/fuzz_replay_source.c tests/fuzz/fuzz.h
tests_fuzz_fuzz_replay_source_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/recorder
tests_fuzz_fuzz_replay_source_CFLAGS = $(LB_FUZZ_CC)
tests_fuzz_fuzz_replay_source_LDFLAGS = $(LB_FUZZ_LINK)
tests_fuzz_fuzz_replay_source_LDADD = recorder/libreplay.la $(LB_COMMON_LIBS)

tests_fuzz_fuzz_asciicast_SOURCES = tests/fuzz/fuzz_asciicast.c tests/fuzz/fuzz.h
tests_fuzz_fuzz_asciicast_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/recorder
tests_fuzz_fuzz_asciicast_CFLAGS = $(LB_FUZZ_CC)
tests_fuzz_fuzz_asciicast_LDFLAGS = $(LB_FUZZ_LINK)
tests_fuzz_fuzz_asciicast_LDADD = recorder/libreplay.la $(LB_COMMON_LIBS)

tests_fuzz_fuzz_broker_answer_SOURCES = tests/fuzz/fuzz_broker_answer.c tests/fuzz/fuzz.h sshd-helper/keys_line.c pam_lockbox/messages.c pam_lockbox/record.c recorder/record-session.c
tests_fuzz_fuzz_broker_answer_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/sshd-helper -I$(top_srcdir)/pam_lockbox -I$(top_srcdir)/recorder
tests_fuzz_fuzz_broker_answer_CFLAGS = $(LB_FUZZ_CC)
tests_fuzz_fuzz_broker_answer_LDFLAGS = $(LB_FUZZ_LINK)
tests_fuzz_fuzz_broker_answer_LDADD = $(LB_COMMON_LIBS)

tests_fuzz_fuzz_authinfo_SOURCES = tests/fuzz/fuzz_authinfo.c tests/fuzz/fuzz.h sshd-helper/keys_line.c
tests_fuzz_fuzz_authinfo_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/sshd-helper
tests_fuzz_fuzz_authinfo_CFLAGS = $(LB_FUZZ_CC)
tests_fuzz_fuzz_authinfo_LDFLAGS = $(LB_FUZZ_LINK)
tests_fuzz_fuzz_authinfo_LDADD = $(LB_COMMON_LIBS)

tests_fuzz_fuzz_conf_SOURCES = tests/fuzz/fuzz_conf.c tests/fuzz/fuzz.h
tests_fuzz_fuzz_conf_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/broker
tests_fuzz_fuzz_conf_CFLAGS = $(LB_FUZZ_CC)
tests_fuzz_fuzz_conf_LDFLAGS = $(LB_FUZZ_LINK)
tests_fuzz_fuzz_conf_LDADD = broker/liblockbox-broker.la $(LB_COMMON_LIBS)

tests_fuzz_fuzz_broker_route_SOURCES = tests/fuzz/fuzz_broker_route.c tests/fuzz/fuzz.h
tests_fuzz_fuzz_broker_route_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/broker
tests_fuzz_fuzz_broker_route_CFLAGS = $(LB_FUZZ_CC)
tests_fuzz_fuzz_broker_route_LDFLAGS = $(LB_FUZZ_LINK)
tests_fuzz_fuzz_broker_route_LDADD = broker/liblockbox-broker.la $(LB_COMMON_LIBS)

tests_fuzz_fuzz_request_json_SOURCES = tests/fuzz/fuzz_request_json.c tests/fuzz/fuzz.h
tests_fuzz_fuzz_request_json_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/broker
tests_fuzz_fuzz_request_json_CFLAGS = $(LB_FUZZ_CC)
tests_fuzz_fuzz_request_json_LDFLAGS = $(LB_FUZZ_LINK)
tests_fuzz_fuzz_request_json_LDADD = broker/liblockbox-broker.la $(LB_COMMON_LIBS)

tests_fuzz_fuzz_audit_cmd_SOURCES = tests/fuzz/fuzz_audit_cmd.c tests/fuzz/fuzz.h recorder/audit_cmd.c recorder/record.c
tests_fuzz_fuzz_audit_cmd_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/recorder
tests_fuzz_fuzz_audit_cmd_CFLAGS = $(LB_FUZZ_CC)
tests_fuzz_fuzz_audit_cmd_LDFLAGS = $(LB_FUZZ_LINK)
tests_fuzz_fuzz_audit_cmd_LDADD = $(LB_COMMON_LIBS)

tests_fuzz_fuzz_rec_session_SOURCES = tests/fuzz/fuzz_rec_session.c tests/fuzz/fuzz.h recorder/record.c recorder/record-session.c
tests_fuzz_fuzz_rec_session_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/recorder
tests_fuzz_fuzz_rec_session_CFLAGS = $(LB_FUZZ_CC)
tests_fuzz_fuzz_rec_session_LDFLAGS = $(LB_FUZZ_LINK)
tests_fuzz_fuzz_rec_session_LDADD = recorder/libreplay.la $(LB_COMMON_LIBS)

tests_fuzz_fuzz_util_SOURCES = tests/fuzz/fuzz_util.c tests/fuzz/fuzz.h
tests_fuzz_fuzz_util_CPPFLAGS = $(AM_CPPFLAGS)
tests_fuzz_fuzz_util_CFLAGS = $(LB_FUZZ_CC)
tests_fuzz_fuzz_util_LDFLAGS = $(LB_FUZZ_LINK)
tests_fuzz_fuzz_util_LDADD = $(LB_COMMON_LIBS)

tests_fuzz_fuzz_cli_answer_SOURCES = tests/fuzz/fuzz_cli_answer.c tests/fuzz/fuzz.h
tests_fuzz_fuzz_cli_answer_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/cli
tests_fuzz_fuzz_cli_answer_CFLAGS = $(LB_FUZZ_CC)
tests_fuzz_fuzz_cli_answer_LDFLAGS = $(LB_FUZZ_LINK)
tests_fuzz_fuzz_cli_answer_LDADD = cli/liblockboxctl.la $(LB_COMMON_LIBS)

EXTRA_DIST += tests/fuzz/README.md tests/fuzz/corpus tests/fuzz/dict tests/fuzz/findings \
	tests/fuzz/seeds.py
dist_noinst_SCRIPTS += tests/fuzz/run.sh tests/fuzz/run-long.sh
