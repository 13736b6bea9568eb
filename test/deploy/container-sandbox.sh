#!/usr/bin/env bash
# Runs a command the way a container runtime runs an image's entry point, without a container
# engine: in new mount and PID namespaces (the command is PID 1), chrooted into ROOTFS, which is
# remounted read-only, as a numeric non-root user with no capabilities and no new privileges,
# with only the given tmpfs paths writable. The host's /usr and /etc stand in for the base
# image's Debian userland, and the given Bun binary appears at /usr/local/bin/bun, where the
# official image has it. The network namespace is the host's, so a test can reach the port.
#
# usage: container-sandbox.sh --rootfs DIR --user UID:GID --workdir DIR --bun FILE
#          [--tmpfs PATH]... [--env NAME=VALUE]... -- COMMAND [ARG]...
# Needs root (namespaces, mounts, chroot); the command itself never runs as root.
set -euo pipefail
shopt -s extglob

all_args=("$@")
rootfs='' user='' workdir='' bun='' inner=0
tmpfs=() env=()
while (($#)); do
  case $1 in
    --rootfs) rootfs=$2; shift 2 ;;
    --user) user=$2; shift 2 ;;
    --workdir) workdir=$2; shift 2 ;;
    --bun) bun=$2; shift 2 ;;
    --tmpfs) tmpfs+=("$2"); shift 2 ;;
    --env) env+=("$2"); shift 2 ;;
    --inner) inner=1; shift ;;
    --) shift; break ;;
    *) echo "container-sandbox: unknown option $1" >&2; exit 64 ;;
  esac
done
if [[ -z $rootfs || -z $user || -z $workdir || -z $bun || $# -eq 0 ]]; then
  echo 'container-sandbox: --rootfs, --user, --workdir, --bun and a command are required' >&2
  exit 64
fi
if [[ $user != +([0-9]):+([0-9]) || ${user%%:*} == 0 ]]; then
  echo "container-sandbox: --user must be a numeric UID:GID other than root, got $user" >&2
  exit 64
fi

if ((!inner)); then
  # --kill-child: if whoever started the sandbox dies, the sandboxed process dies with it.
  exec unshare --mount --pid --fork --kill-child -- "$0" --inner "${all_args[@]}"
fi

# From here on we are PID 1 of a new PID namespace, in a private mount namespace.
mount --make-rprivate /
mount --bind "$rootfs" "$rootfs"

for dir in usr/bin usr/sbin usr/lib usr/lib64 usr/libexec usr/share etc; do
  [[ -d /$dir ]] || continue
  mkdir -p "$rootfs/$dir"
  mount --bind -o ro "/$dir" "$rootfs/$dir"
done
for link in bin sbin lib lib64; do
  [[ -e $rootfs/$link || -L $rootfs/$link ]] || ln -s "usr/$link" "$rootfs/$link"
done
mkdir -p "$rootfs/usr/local/bin"
touch "$rootfs/usr/local/bin/bun"
mount --bind -o ro "$bun" "$rootfs/usr/local/bin/bun"

mkdir -p "$rootfs/dev" "$rootfs/proc"
mount -t tmpfs -o mode=0755,size=64k,nosuid tmpfs "$rootfs/dev"
for node in null zero random urandom; do
  touch "$rootfs/dev/$node"
  mount --bind "/dev/$node" "$rootfs/dev/$node"
done
mount -t proc -o nosuid,nodev,noexec proc "$rootfs/proc"

for path in "${tmpfs[@]}"; do
  mkdir -p "$rootfs$path"
  mount -t tmpfs -o mode=1777,size=256m,nosuid,nodev tmpfs "$rootfs$path"
done

# The root filesystem itself is now read-only (readOnlyRootFilesystem); only the tmpfs mounts
# above accept writes.
mount -o remount,bind,ro "$rootfs"
mount -o remount,ro,size=64k "$rootfs/dev"

exec chroot "$rootfs" /usr/bin/env -i -C "$workdir" "${env[@]}" \
  /usr/bin/setpriv --reuid="${user%%:*}" --regid="${user##*:}" --clear-groups --no-new-privs \
  --inh-caps=-all --bounding-set=-all -- "$@"
