#!/bin/bash
# Install every Debian package that building, testing and the demo need.
# Idempotent: installs only what is missing. Run as root on Debian 12.
set -euo pipefail

PACKAGES=(
  # build
  build-essential autoconf automake libtool pkg-config
  libpam0g-dev libcurl4-openssl-dev libjansson-dev libsystemd-dev libaudit-dev
  libmicrohttpd-dev libsqlite3-dev libssl-dev libcap-dev libseccomp-dev check
  # tests
  libpam-wrapper libpamtest0-dev openssh-server openssh-client auditd systemd
  sqlite3 openssl curl python3 util-linux procps psmisc libcap2-bin expect tmux
  # fuzzing (tests/fuzz): libFuzzer comes with clang's runtime
  clang libclang-rt-14-dev
  # the demo, replay and benchmarks
  asciinema tlog wrk hyperfine
)

if [ "$(id -u)" != 0 ]; then
    echo "setup.sh: run as root (it installs packages)" >&2
    exit 1
fi

missing=()
for p in "${PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$p")
    fi
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # no daemons may be started by package scripts here
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "setup: all ${#PACKAGES[@]} packages present"
