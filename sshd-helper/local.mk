# sshd-helper: rules for this part (included from the top Makefile.am)
