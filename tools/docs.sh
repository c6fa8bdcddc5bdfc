#!/bin/sh
# `make docs`: the HTML reference of every module under lua/helpcrunch, built by
# LDoc (Debian's lua-ldoc) from config.ld into docs/ (generated, not committed).
# Fails when LDoc stops on an error or a module has no page; LDoc's warnings
# (undocumented arguments and the like) are counted, not fatal.
cd "$(dirname "$0")/.." || exit 1
if ! command -v ldoc >/dev/null 2>&1; then
  echo "make docs: ldoc is missing (Debian: apt-get install lua-ldoc)"
  exit 1
fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
rm -rf docs
if ! ldoc . >"$log" 2>&1; then
  grep -v '^reading configuration\|^format:' "$log"
  echo "make docs: ldoc failed"
  exit 1
fi
missing=0
for f in $(find lua/helpcrunch -name '*.lua' | LC_ALL=C sort); do
  grep -q "\"$f\"" config.ld && continue          # left out on purpose (see config.ld)
  m=$(echo "$f" | sed -e 's|^lua/||' -e 's|/init\.lua$||' -e 's|\.lua$||' -e 's|/|.|g')
  if [ ! -f "docs/modules/$m.html" ]; then
    echo "make docs: no page for $m ($f): is its @module line right?"
    missing=$((missing + 1))
  fi
done
[ "$missing" -eq 0 ] || exit 1
pages=$(ls docs/modules | wc -l)
warnings=$(grep -c ': ' "$log" | tr -d ' ')
echo "make docs: docs/index.html, $pages module pages ($warnings LDoc warnings)"
