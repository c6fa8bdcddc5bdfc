#!/bin/sh
# The fresh-machine check: does a brand-new Debian 12 machine "just work"?
#
# Builds a minimal bookworm root filesystem with mmdebstrap (variant minbase: apt,
# dpkg and the essential packages), preinstalls only git and make in it, copies a
# clean clone of this branch (its last commit; uncommitted changes are not in it)
# to /root/helpcrunch-lua, then runs, as root inside it, each command in turn
# (default: `make demo`, then `make test`) and reports each one's wall time and exit
# status. apt inside uses the Debian mirror. The run is in its own mount and PID
# namespaces (unshare) with /proc, /sys and /dev mounted, so nothing it starts
# outlives it and no mount is left behind. /usr/sbin/policy-rc.d (exit 101, as in
# Debian's container images) keeps the packages' daemons (nginx, redis) from
# starting on the host's network while they install; the suite starts its own.
#
#   sh tools/fresh-machine.sh [--keep] [--dir DIR] [COMMAND ...]
#     --keep     leave the root filesystem (default: removed at the end)
#     --dir DIR  where to build it (default: a new directory under /var/tmp)
#     COMMAND    run these instead, e.g. 'make demo' 'make test-fast'
# Needs root and mmdebstrap (sh tools/deps.sh fresh). Logs: DIR.logs/.
# Exit status: 0 when every command exited 0.
set -u
MIRROR=${MIRROR:-http://deb.debian.org/debian}
SUITE=${SUITE:-bookworm}
keep=
dir=
while [ $# -gt 0 ]; do
  case $1 in
    --keep) keep=1; shift ;;
    --dir) dir=$2; shift 2 ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) break ;;
  esac
done
[ $# -eq 0 ] && set -- "make demo" "make test"

cd "$(dirname "$0")/.." || exit 1
top=$(pwd)
if [ "$(id -u)" != 0 ]; then echo "fresh-machine: run as root (mmdebstrap, chroot)"; exit 2; fi
sh tools/deps.sh fresh || exit 2
branch=$(git rev-parse --abbrev-ref HEAD) || exit 2
commit=$(git rev-parse --short HEAD)
if [ -n "$(git status --porcelain --untracked-files=no)" ]; then
  echo "fresh-machine: note: uncommitted changes are not in the clone (it is $branch at $commit)"
fi

[ -n "$dir" ] || dir=$(mktemp -d /var/tmp/helpcrunch-fresh.XXXXXX)
logs=$dir.logs
mkdir -p "$dir" "$logs" || exit 2
cleanup() { [ -z "$keep" ] && rm -rf "$dir"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f", b - a }'; }

echo "fresh-machine: $SUITE (minbase + git, make) in $dir"
t0=$(now)
if ! mmdebstrap --variant=minbase --include=git,make \
      "$SUITE" "$dir" "$MIRROR" >"$logs/mmdebstrap.log" 2>&1; then
  tail -20 "$logs/mmdebstrap.log"; echo "fresh-machine: mmdebstrap failed"; exit 2
fi
echo "fresh-machine: root filesystem ready ($(secs "$t0" "$(now)") s, $(du -sh "$dir" | cut -f1))"

printf '#!/bin/sh\nexit 101\n' >"$dir/usr/sbin/policy-rc.d"
chmod 0755 "$dir/usr/sbin/policy-rc.d"
cp -L /etc/resolv.conf "$dir/etc/resolv.conf" 2>/dev/null || true
git clone --quiet --no-hardlinks --branch "$branch" "$top" "$dir/root/helpcrunch-lua" || exit 2
echo "fresh-machine: clone of $branch at $commit in /root/helpcrunch-lua"
echo "fresh-machine: preinstalled beyond minbase: $(chroot "$dir" dpkg-query -W -f='${Package} ' git make)"

# inside NAME COMMAND: run COMMAND as root in the image, in fresh namespaces, with a
# plain root environment, cwd the clone.
inside() {
  unshare --mount --pid --fork --kill-child --propagation private sh -c '
    root=$1; shift
    mount -t proc proc "$root/proc" && mount --rbind /sys "$root/sys" &&
      mount --rbind /dev "$root/dev" || exit 125
    exec chroot "$root" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM=dumb \
      PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
      /bin/sh -c "cd /root/helpcrunch-lua && $*"
  ' inside "$dir" "$@"
}

status=0
summary=""
i=0
for cmd in "$@"; do
  i=$((i + 1))
  log=$logs/$i-$(echo "$cmd" | tr -c 'A-Za-z0-9\n' '-').log
  echo "fresh-machine: \$ $cmd"
  t=$(now)
  inside "$cmd" >"$log" 2>&1
  rc=$?
  took=$(secs "$t" "$(now)")
  tail -25 "$log" | sed 's/^/    /'
  echo "fresh-machine: '$cmd' exited $rc after $took s (log: $log)"
  summary="$summary
  $cmd: exit $rc, $took s"
  [ $rc -eq 0 ] || status=1
done
echo "fresh-machine: $SUITE minbase + git + make, $branch at $commit:$summary"
exit $status
