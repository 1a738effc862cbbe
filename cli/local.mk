# cli: lockboxctl (included from the top Makefile.am)
bin_PROGRAMS += lockboxctl

# Pure parts (arguments, display, audit chain check), shared with the unit tests.
noinst_LTLIBRARIES += cli/liblockboxctl.la
cli_liblockboxctl_la_SOURCES = \
	cli/args.c cli/args.h \
	cli/display.c cli/display.h
cli_liblockboxctl_la_CFLAGS = $(LB_COMMON_CFLAGS)

lockboxctl_SOURCES = \
	cli/lockboxctl.c \
	cli/ctl.c cli/ctl.h \
	cli/cmd_request.c \
	cli/cmd_audit.c \
	cli/cmd_token.c \
	cli/cmd_health.c \
	cli/cmd_connect.c \
	cli/cmd_doctor.c
lockboxctl_CFLAGS = $(LB_COMMON_CFLAGS)
lockboxctl_LDADD = cli/liblockboxctl.la $(LB_COMMON_LIBS)
