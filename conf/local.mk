# conf: installation of everything in conf/ and the install/uninstall hooks
# (included from the top Makefile.am).
#
# With ./configure --prefix=/usr --sysconfdir=/etc --localstatedir=/var this
# puts every file where a distribution would. The hooks that change the system
# (service users, directory owners, setuid recorder, journald catalog) run only
# for a "system install": no DESTDIR, run as root, localstatedir = /var. A
# staging install (DESTDIR, or a non-root or private prefix as in distcheck)
# places every file and says what it skipped.

# systemd's vendor directories, relative to the prefix (/usr/lib/...).
sysusersdir = $(prefix)/lib/sysusers.d
tmpfilesdir = $(prefix)/lib/tmpfiles.d
journaldconfdir = $(prefix)/lib/systemd/journald.conf.d
catalogdir = $(prefix)/lib/systemd/catalog
auditrulesdir = $(sysconfdir)/audit/rules.d
pamconfigsdir = $(datadir)/pam-configs
polkitrulesdir = $(datadir)/polkit-1/rules.d
lbexamplesdir = $(docdir)/examples

dist_sysusers_DATA = conf/sysusers.d/lockbox.conf
dist_tmpfiles_DATA = conf/tmpfiles.d/lockbox.conf
dist_journaldconf_DATA = conf/journald.conf.d/lockbox.conf

# Files other parts write in conf/, as place:file. Each is installed when it is
# in the source tree (the part that writes it also puts it in EXTRA_DIST).
# Places under /etc are never overwritten (an admin's copy is kept; the
# shipped one is always in $(lbexamplesdir)); the others are vendor files.
LB_CONF_FILES = \
	conf:conf/lockbox.conf \
	conf:conf/lockboxd.conf \
	pamd:conf/pam.d/lockbox-sshd \
	audit:conf/audit/lockbox.rules \
	pamconfigs:conf/pam-configs/lockbox \
	polkit:conf/polkit/10-lockbox-linger.rules \
	unit:conf/systemd/lockboxd.service \
	unit:conf/systemd/lockboxd.socket \
	catalog:conf/catalog/lockbox-host.catalog \
	catalog:conf/catalog/lockbox-record.catalog \
	catalog:conf/catalog/lockboxd.catalog \
	sshdexample:conf/sshd_config.d/lockbox.conf

# place -> directory, and whether an existing file is kept (shell fragment)
LB_CONF_PLACE = case $$place in \
	  conf) d="$(lockboxconfdir)"; keep=1;; \
	  pamd) d="$(sysconfdir)/pam.d"; keep=1;; \
	  audit) d="$(auditrulesdir)"; keep=1;; \
	  pamconfigs) d="$(pamconfigsdir)"; keep=0;; \
	  polkit) d="$(polkitrulesdir)"; keep=0;; \
	  unit) d="$(systemdsystemunitdir)"; keep=0;; \
	  catalog) d="$(catalogdir)"; keep=0;; \
	  sshdexample) d="$(lbexamplesdir)/sshd_config.d"; keep=0;; \
	  *) echo "conf/local.mk: unknown place $$place" >&2; exit 1;; \
	esac

# A staging or private-prefix install must never touch the running system.
LB_SYSTEM_INSTALL = test -z "$(DESTDIR)" && test "`id -u`" = 0 && test "$(localstatedir)" = /var

# distcheck installs into a staging prefix: keep the PAM module there too
# (configure's default comes from pam.pc and is an absolute system path).
AM_DISTCHECK_CONFIGURE_FLAGS = --with-pammoddir='$${libdir}/security'

install-data-local: lb-install-conf
uninstall-local: lb-uninstall-conf

lb-install-conf:
	@for p in $(LB_CONF_FILES); do \
	  place=$${p%%:*}; f=$${p#*:}; b=`basename $$f`; \
	  test -f "$(srcdir)/$$f" || continue; \
	  $(LB_CONF_PLACE); \
	  $(MKDIR_P) "$(DESTDIR)$$d" || exit 1; \
	  if test $$keep = 1; then \
	    $(MKDIR_P) "$(DESTDIR)$(lbexamplesdir)" && \
	    $(INSTALL_DATA) "$(srcdir)/$$f" "$(DESTDIR)$(lbexamplesdir)/$$b" || exit 1; \
	    if test -e "$(DESTDIR)$$d/$$b"; then \
	      cmp -s "$(srcdir)/$$f" "$(DESTDIR)$$d/$$b" || \
	        echo "  KEEP     $(DESTDIR)$$d/$$b (yours; the shipped one is $(lbexamplesdir)/$$b)"; \
	      continue; \
	    fi; \
	  fi; \
	  $(INSTALL_DATA) "$(srcdir)/$$f" "$(DESTDIR)$$d/$$b" || exit 1; \
	done

lb-uninstall-conf:
	@# the profile leaves every service's stack before the module goes: a
	@# common-account naming a missing pam_lockbox.so would refuse everyone
	@if $(LB_SYSTEM_INSTALL) && test "$(pamconfigsdir)" = /usr/share/pam-configs && \
	    command -v pam-auth-update >/dev/null 2>&1; then \
	  echo "  PAM      pam-auth-update --package --remove lockbox"; \
	  DEBIAN_FRONTEND=noninteractive pam-auth-update --package --remove lockbox || true; \
	fi
	@for p in $(LB_CONF_FILES); do \
	  place=$${p%%:*}; f=$${p#*:}; b=`basename $$f`; \
	  $(LB_CONF_PLACE); \
	  if test $$keep = 1; then \
	    rm -f "$(DESTDIR)$(lbexamplesdir)/$$b"; \
	    if test -f "$(DESTDIR)$$d/$$b" && test -f "$(srcdir)/$$f" && \
	       ! cmp -s "$(srcdir)/$$f" "$(DESTDIR)$$d/$$b"; then \
	      echo "  KEEP     $(DESTDIR)$$d/$$b (changed by the admin)"; \
	      continue; \
	    fi; \
	  fi; \
	  rm -f "$(DESTDIR)$$d/$$b"; \
	done

# System changes, after every file is in place.
install-data-hook:
	@if $(LB_SYSTEM_INSTALL); then \
	  echo "  USERS    lockbox, lockbox-keys, lockbox-rec and the lockbox-* groups"; \
	  if command -v systemd-sysusers >/dev/null 2>&1; then \
	    systemd-sysusers "$(sysusersdir)/lockbox.conf" || exit 1; \
	  else \
	    for g in lockbox-operators lockbox-approvers lockbox-auditors lockbox-clients; do \
	      getent group $$g >/dev/null || groupadd -r $$g || exit 1; \
	    done; \
	    for u in lockbox lockbox-keys lockbox-rec; do \
	      getent passwd $$u >/dev/null || \
	        useradd -r -U -d /nonexistent -M -s /usr/sbin/nologin $$u || exit 1; \
	    done; \
	    for u in lockbox-keys lockbox-rec; do \
	      usermod -a -G lockbox-clients $$u || exit 1; \
	    done; \
	  fi; \
	  echo "  DIRS     from $(tmpfilesdir)/lockbox.conf"; \
	  if command -v systemd-tmpfiles >/dev/null 2>&1; then \
	    systemd-tmpfiles --create "$(tmpfilesdir)/lockbox.conf" || exit 1; \
	  else \
	    install -d -m 0755 -o root -g root /run/lockbox && \
	    install -d -m 0700 -o root -g root /run/lockbox/sessions && \
	    install -d -m 0755 -o lockbox -g lockbox /var/lib/lockbox && \
	    install -d -m 0700 -o lockbox-rec -g lockbox-rec /var/lib/lockbox/spool || exit 1; \
	  fi; \
	  if test "$(catalogdir)" = /usr/lib/systemd/catalog && command -v journalctl >/dev/null 2>&1; then \
	    echo "  CATALOG  journalctl --update-catalog"; \
	    journalctl --update-catalog || true; \
	  fi; \
	else \
	  echo "  NOTE     staging install: service users, directory owners and the journald"; \
	  echo "           catalog were not set up; on the target run systemd-sysusers,"; \
	  echo "           systemd-tmpfiles --create and journalctl --update-catalog"; \
	fi

# lockbox-record starts as root (setuid) and drops to lockbox-rec keeping only
# CAP_AUDIT_WRITE, CAP_AUDIT_READ and CAP_KILL (see DESIGN.md, "The recorder").
install-exec-hook:
	@r="$(DESTDIR)$(lockboxlibexecdir)/lockbox-record"; \
	if test -f "$$r"; then \
	  if test -z "$(DESTDIR)" && test "`id -u`" = 0; then \
	    echo "  SETUID   $$r (4755 root:root)"; \
	    chown root:root "$$r" && chmod 4755 "$$r" || exit 1; \
	  else \
	    echo "  NOTE     $$r is not setuid root in a staging install;"; \
	    echo "           on the target: chown root:root $(lockboxlibexecdir)/lockbox-record &&"; \
	    echo "           chmod 4755 $(lockboxlibexecdir)/lockbox-record"; \
	  fi; \
	fi

uninstall-hook:
	@if $(LB_SYSTEM_INSTALL) && test "$(catalogdir)" = /usr/lib/systemd/catalog \
	    && command -v journalctl >/dev/null 2>&1; then \
	  journalctl --update-catalog || true; \
	fi

.PHONY: lb-install-conf lb-uninstall-conf

# Tests: staging install/uninstall (no root needed), doctor (root), and the
# README's first command end to end (root).
TESTS += tests/integration/install-staging.sh tests/integration/doctor-checks.sh \
	tests/integration/demo-twice.sh
dist_check_SCRIPTS += tests/integration/install-staging.sh tests/integration/doctor-checks.sh \
	tests/integration/demo-twice.sh

# Unit test of doctor's readers (cli/doctor.c; Check, no root).
check_PROGRAMS += tests/unit/test_doctor
TESTS += tests/unit/test_doctor
tests_unit_test_doctor_SOURCES = tests/unit/test_doctor.c cli/doctor.c cli/doctor.h
tests_unit_test_doctor_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/cli
tests_unit_test_doctor_CFLAGS = $(LB_CHECK_CFLAGS)
tests_unit_test_doctor_LDADD = $(LB_CHECK_LIBS)

# doctor-checks.sh runs doctor under a container-like seccomp profile with it
check_PROGRAMS += tests/integration/doctor-deny
tests_integration_doctor_deny_SOURCES = tests/integration/doctor-deny.c
tests_integration_doctor_deny_CFLAGS = $(SECCOMP_CFLAGS)
tests_integration_doctor_deny_LDADD = $(SECCOMP_LIBS)
