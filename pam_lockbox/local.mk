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

