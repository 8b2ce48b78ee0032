#!/bin/sh
# Everything tspod and its test suite need on a fresh Debian 12, run as root: the Debian packages
# (gcc builds tspod's small Node-API addon against Node's own headers),
# the npm packages and the build, the unprivileged test users, and a usable /dev/net/tun.
set -eu
cd "$(dirname "$0")/.."

export DEBIAN_FRONTEND=noninteractive
PKGS="gcc libc6-dev uidmap util-linux runc crun conmon slirp4netns passt netavark aardvark-dns iptables fuse-overlayfs zstd skopeo docker-registry podman busybox-static bsdutils procps python3 curl iproute2 systemd docker.io docker-compose python3-docker nodejs npm"
missing=""
for p in $PKGS; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"; done
# nodejs/npm may come from elsewhere (nodesource, nvm): only install them when node is absent.
command -v node >/dev/null 2>&1 && missing=$(echo "$missing" | tr ' ' '\n' | grep -vx -e nodejs -e npm | tr '\n' ' ')
if [ -n "$(echo "$missing" | tr -d ' ')" ]; then
  apt-get update -qq
  # docker.io brings the docker CLI the API tests drive, and a daemon that must never start here:
  # policy-rc.d tells its package scripts not to start services.
  made_policy=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; made_policy=1; fi
  apt-get install -y -qq $missing >/dev/null
  if [ -n "$made_policy" ]; then rm -f /usr/sbin/policy-rc.d; fi
fi
if pgrep -x dockerd >/dev/null; then echo "a Docker daemon is running: the API tests must reach tspod only; stop it" >&2; exit 1; fi

npm ci --no-audit --no-fund
npm run build

# The unprivileged user the suite runs tspod as, with 65536 subordinate ids; and one without any.
TEST_USER=${TSPOD_TEST_USER:-tspodtest}
id "$TEST_USER" >/dev/null 2>&1 || useradd -m -s /bin/bash "$TEST_USER"
grep -q "^$TEST_USER:" /etc/subuid 2>/dev/null || usermod --add-subuids 100000-165535 "$TEST_USER"
grep -q "^$TEST_USER:" /etc/subgid 2>/dev/null || usermod --add-subgids 100000-165535 "$TEST_USER"
id tspodnosub >/dev/null 2>&1 || useradd -m -s /bin/bash tspodnosub
sed -i '/^tspodnosub:/d' /etc/subuid /etc/subgid

# pasta and slirp4netns open /dev/net/tun, which is 0600 on these machines and 0666 on a desktop;
# fuse-overlayfs (the storage driver's second choice) opens /dev/fuse, the same.
[ -c /dev/net/tun ] && chmod 666 /dev/net/tun
[ -c /dev/fuse ] && chmod 666 /dev/fuse

# The test user must be able to reach the checkout: open the directories above it for traversal.
d=$(pwd)
while [ "$d" != "/" ]; do
  runuser -u "$TEST_USER" -- test -x "$d" || chmod o+x "$d"
  d=$(dirname "$d")
done
