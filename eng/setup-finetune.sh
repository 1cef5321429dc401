#!/bin/sh
# Installs the text samples/FineTune learns from: Debian's fortune cookie files in four languages
# (English: fortunes-min, German: fortunes-de, Italian: fortunes-it, Spanish: fortunes-es), under /usr/share/games/fortunes.
set -e
PACKAGES="fortunes-min fortunes-de fortunes-it fortunes-es"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "setup-finetune: installing $PACKAGES with apt-get"
$SUDO apt-get update -qq || echo "setup-finetune: apt-get update failed; trying the package lists already on this machine"
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $PACKAGES
echo "setup-finetune: done; files are in /usr/share/games/fortunes"
