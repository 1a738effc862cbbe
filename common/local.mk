# common/: the internal library linked into every binary and the PAM module.
noinst_LTLIBRARIES += common/liblockbox-common.la
common_liblockbox_common_la_SOURCES = \
	common/macro.h \
	common/util.c common/util.h \
	common/timeutil.c common/timeutil.h \
	common/conf.c common/conf.h \
	common/http.c common/http.h \
	common/broker_client.c common/broker_client.h \
	common/sshkey.c common/sshkey.h \
	common/log.c common/log.h \
	common/evidence.c common/evidence.h \
	common/chain.c common/chain.h \
	common/proc.c common/proc.h
common_liblockbox_common_la_CFLAGS = $(AM_CFLAGS) $(CURL_CFLAGS) $(JANSSON_CFLAGS) \
	$(SYSTEMD_CFLAGS) $(AUDIT_CFLAGS) $(CRYPTO_CFLAGS)
common_liblockbox_common_la_LIBADD = $(CURL_LIBS) $(JANSSON_LIBS) $(SYSTEMD_LIBS) \
	$(AUDIT_LIBS) $(CRYPTO_LIBS) -lpthread

# What a program links to use common/.
LB_COMMON_CFLAGS = $(AM_CFLAGS) $(CURL_CFLAGS) $(JANSSON_CFLAGS) $(SYSTEMD_CFLAGS) \
	$(AUDIT_CFLAGS) $(CRYPTO_CFLAGS)
LB_COMMON_LIBS = common/liblockbox-common.la
