#!/bin/sh
# Generate the locales the JSON specs run under (spec/json_exact_spec.lua:
# decoding and encoding must not depend on LC_NUMERIC): de_DE.UTF-8 (decimal
# comma) and ps_AF.UTF-8 (a two-byte decimal point, U+066B). Needs the Debian
# package `locales` and root; without them it says what to run, and the
# specs skip those cases with a message naming this script.
for loc in de_DE ps_AF; do
  if locale -a 2>/dev/null | grep -qix "$loc.utf-\?8"; then continue; fi
  if [ "$(id -u)" != 0 ]; then
    echo "helpcrunch: locale $loc.UTF-8 missing; as root: sh tools/locales.sh" >&2
    exit 1
  fi
  if ! command -v localedef >/dev/null 2>&1; then
    echo "helpcrunch: localedef missing: apt-get install -y locales" >&2
    exit 1
  fi
  localedef -i "$loc" -f UTF-8 "$loc.UTF-8" || exit 1
done
exit 0
