#!/usr/bin/env bash
# Build CodePlan's sandbox base image without any registry: a Debian bookworm root file
# system from a Debian mirror (debootstrap), imported into the local Docker engine.  It is
# the stand-in for python:3.11-slim on machines that cannot pull images (air-gapped hosts,
# CI behind a registry-less proxy).  See sandboxes/README.md.
#
#   sudo sandboxes/bootstrap-base.sh [TAG]      # default TAG: codeplan/base:bookworm
#
# Environment: DEBIAN_MIRROR (default http://deb.debian.org/debian), DEBIAN_SUITE
# (default bookworm), FORCE=1 to rebuild a tag that already exists.
set -euo pipefail

TAG="${1:-codeplan/base:bookworm}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SUITE="${DEBIAN_SUITE:-bookworm}"
PACKAGES="python3,python3-venv,git,ca-certificates"

say() { printf 'bootstrap-base: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

command -v docker >/dev/null || die "the docker CLI is missing (apt-get install docker.io)"
docker info >/dev/null 2>&1 || die "no Docker engine answers (start dockerd, or set DOCKER_HOST)"

if [[ "${FORCE:-0}" != 1 ]] && docker image inspect "$TAG" >/dev/null 2>&1; then
    say "$TAG already exists, nothing to do (FORCE=1 rebuilds it)"
    exit 0
fi

[[ "$(id -u)" == 0 ]] || die "debootstrap needs root: run it with sudo"
command -v debootstrap >/dev/null || die "debootstrap is missing (apt-get install debootstrap)"

# /var/tmp rather than /tmp: /tmp is often a small tmpfs, and the tree is ~400 MB before
# the cleanup.
ROOT="$(mktemp -d /var/tmp/codeplan-base.XXXXXX)"
cleanup() {
    # a debootstrap that dies midway can leave /proc or /sys mounted inside the tree, and
    # `rm -rf` through a live /proc mount would be a disaster
    local mount
    for mount in $(awk -v root="$ROOT" 'index($2, root) == 1 {print $2}' /proc/mounts | sort -r); do
        umount -l "$mount" 2>/dev/null || true
    done
    rm -rf --one-file-system "$ROOT"
}
trap cleanup EXIT

start=$SECONDS
LOG="$ROOT.log"
say "debootstrap $SUITE from $MIRROR into $ROOT (log: $LOG)"
if ! debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$ROOT" "$MIRROR" >"$LOG" 2>&1; then
    tail -n 30 "$LOG" >&2
    die "debootstrap failed (full log: $LOG)"
fi
say "debootstrap done in $((SECONDS - start)) s"

# A venv owned by the image so `pip install` works despite Debian's PEP 668 marker, and
# `python`/`pip` exist as names (Debian only ships python3).
chroot "$ROOT" /usr/bin/python3 -m venv /opt/venv
chroot "$ROOT" /opt/venv/bin/python -m pip --version >/dev/null
PYTHON_VERSION="$(chroot "$ROOT" /usr/bin/python3 -c \
    'import sys; print("%d.%d" % sys.version_info[:2])')"
mkdir -p "$ROOT/work"

# Keep the image small and keep later `apt-get install`s small too (the same settings the
# official Debian images ship).
chroot "$ROOT" apt-get clean
cat >"$ROOT/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
cat >"$ROOT/etc/dpkg/dpkg.cfg.d/docker-excludes" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
EOF
find "$ROOT/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
find "$ROOT/usr/share/doc" -mindepth 1 -type d -empty -delete
rm -rf "$ROOT"/usr/share/{man,info,locale}/* "$ROOT"/var/lib/apt/lists/* \
    "$ROOT"/var/cache/apt/* "$ROOT"/var/cache/debconf/*-old "$ROOT"/var/log/* \
    "$ROOT"/tmp/* "$ROOT"/root/.cache
# the host's name and resolver must not leak into the image; the engine provides both
: >"$ROOT/etc/resolv.conf"
echo codeplan >"$ROOT/etc/hostname"

say "importing as $TAG (python $PYTHON_VERSION)"
PATH_VALUE=/opt/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
tar --numeric-owner --xattrs -C "$ROOT" \
    --exclude='./dev/*' --exclude='./proc/*' --exclude='./sys/*' -c . |
    docker import \
        --change "ENV PATH=$PATH_VALUE" \
        --change 'ENV LANG=C.UTF-8' \
        --change 'WORKDIR /work' \
        --change 'CMD ["bash"]' \
        --change 'LABEL codeplan.sandbox=1' \
        --change "LABEL codeplan.python=$PYTHON_VERSION" \
        --change "LABEL codeplan.base=debootstrap-$SUITE" \
        --message "codeplan bootstrap-base $SUITE from $MIRROR" \
        - "$TAG" >/dev/null

docker run --rm --network none "$TAG" python -c 'import ssl, venv, sqlite3' \
    || die "the imported image $TAG does not run python"
rm -f "$LOG"
size="$(docker image inspect "$TAG" --format '{{.Size}}')"
say "built $TAG: python $PYTHON_VERSION, $((size / 1000000)) MB, in $((SECONDS - start)) s"
