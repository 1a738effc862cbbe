/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The operator's side, before it drops to the operator: refuse, for this
 * process and everything it will ever start, the ioctls that push bytes into
 * a terminal's input queue without going through its master (TIOCSTI, and
 * TIOCLINUX's paste on a virtual console). Those bytes would be read by the
 * shell as typed, yet never pass through the recorder. The filter is loaded
 * without no_new_privs (setuid programs such as sudo keep working), so it
 * needs CAP_SYS_ADMIN: call it while still root. */
int lb_rec_confine_terminal_injection(void);
