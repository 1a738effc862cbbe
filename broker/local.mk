# broker: lockboxd (HTTP API over libmicrohttpd, SQLite store, lifecycle, notifications)

# The broker's code, shared by lockboxd and its unit tests.
noinst_LTLIBRARIES += broker/liblockbox-broker.la
broker_liblockbox_broker_la_SOURCES = \
	broker/request.c broker/request.h \
	broker/lifecycle.c broker/lifecycle.h \
	broker/broker_conf.c broker/broker_conf.h \
	broker/store.h broker/store_sqlite.c \
	broker/audit.c broker/audit.h \
	broker/service.c broker/service.h \
	broker/notify.c broker/notify.h \
	broker/server.c broker/server.h \
	broker/text.c broker/text.h \
	broker/limits.c broker/limits.h
broker_liblockbox_broker_la_CFLAGS = $(LB_COMMON_CFLAGS) $(MHD_CFLAGS) $(SQLITE_CFLAGS)
broker_liblockbox_broker_la_LIBADD = $(LB_COMMON_LIBS) $(MHD_LIBS) $(SQLITE_LIBS)

sbin_PROGRAMS += broker/lockboxd
broker_lockboxd_SOURCES = broker/lockboxd.c
broker_lockboxd_CFLAGS = $(LB_COMMON_CFLAGS) $(MHD_CFLAGS) $(SQLITE_CFLAGS)
broker_lockboxd_LDADD = broker/liblockbox-broker.la $(LB_COMMON_LIBS) $(MHD_LIBS) $(SQLITE_LIBS)

# Integration test helpers for every part that needs a real broker.
dist_noinst_SCRIPTS += tests/integration/lib-broker.sh

# Unit tests (Check; no root, no network): lifecycle with an injected clock,
# and the calls over a real SQLite file.
check_PROGRAMS += tests/unit/test_broker_lifecycle tests/unit/test_broker_store \
	tests/unit/test_broker_text tests/unit/test_broker_limits
TESTS += tests/unit/test_broker_lifecycle tests/unit/test_broker_store \
	tests/unit/test_broker_text tests/unit/test_broker_limits
tests_unit_test_broker_limits_SOURCES = tests/unit/test_broker_limits.c
tests_unit_test_broker_limits_CFLAGS = $(LB_CHECK_CFLAGS) -I$(top_srcdir)/broker
tests_unit_test_broker_limits_LDADD = broker/liblockbox-broker.la $(LB_CHECK_LIBS)
tests_unit_test_broker_text_SOURCES = tests/unit/test_broker_text.c
tests_unit_test_broker_text_CFLAGS = $(LB_CHECK_CFLAGS) -I$(top_srcdir)/broker
tests_unit_test_broker_text_LDADD = broker/liblockbox-broker.la $(LB_CHECK_LIBS)
tests_unit_test_broker_lifecycle_SOURCES = tests/unit/test_broker_lifecycle.c
tests_unit_test_broker_lifecycle_CFLAGS = $(LB_CHECK_CFLAGS) -I$(top_srcdir)/broker
tests_unit_test_broker_lifecycle_LDADD = broker/liblockbox-broker.la $(LB_CHECK_LIBS)
tests_unit_test_broker_store_SOURCES = tests/unit/test_broker_store.c
tests_unit_test_broker_store_CFLAGS = $(LB_CHECK_CFLAGS) $(SQLITE_CFLAGS) -I$(top_srcdir)/broker
tests_unit_test_broker_store_LDADD = broker/liblockbox-broker.la $(LB_CHECK_LIBS) $(SQLITE_LIBS)

# What the broker ships: man page, example config, systemd units, journald
# catalog (installed by conf/local.mk where it lists them).
dist_man_MANS += man/lockboxd.8
EXTRA_DIST += conf/lockboxd.conf conf/systemd/lockboxd.service conf/systemd/lockboxd.socket \
	conf/catalog/lockboxd.catalog

# Integration tests (root, a real lockboxd): crash safety, notifications,
# journald/auditd copies and clean shutdown. (TLS and tokens: api-tls.sh.)
# api-limits.sh: one hostile local user cannot deny the broker to others.
TESTS += tests/integration/broker-crash.sh tests/integration/broker-notify.sh \
	tests/integration/broker-evidence.sh tests/integration/api-limits.sh
dist_check_SCRIPTS += tests/integration/broker-crash.sh tests/integration/broker-notify.sh \
	tests/integration/broker-evidence.sh tests/integration/api-limits.sh
EXTRA_DIST += tests/integration/broker-verify-chain.py tests/integration/broker-webhook-receiver.py \
	tests/integration/broker-check-delivery.py tests/integration/api-slow-clients.py
