#!/bin/sh
# Installs Debian fortune cookie packages with apt-get (files under /usr/share/games/fortunes), for the samples.
#   sh eng/setup-fortunes.sh PACKAGE...      e.g. fortunes-min fortunes-de
set -e
[ $# -gt 0 ] || { echo "usage: setup-fortunes.sh PACKAGE..." >&2; exit 2; }
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "setup-fortunes: installing $* with apt-get"
$SUDO apt-get update -qq || echo "setup-fortunes: apt-get update failed; trying the package lists already on this machine"
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$@"
echo "setup-fortunes: done; files are in /usr/share/games/fortunes"
