#!/bin/sh
# Installs the text samples/FineTune learns from: Debian's fortune cookie files in four languages
# (English: fortunes-min, German: fortunes-de, Italian: fortunes-it, Spanish: fortunes-es), under /usr/share/games/fortunes.
exec sh "$(dirname "$0")/setup-fortunes.sh" fortunes-min fortunes-de fortunes-it fortunes-es
