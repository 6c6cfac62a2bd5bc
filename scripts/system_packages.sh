#!/bin/sh
# Optional Debian packages: Chromium (the browser check) and Fashion-MNIST (offline data).
# Installed when this runs as root with apt-get; otherwise says what it skipped.
need=""
command -v chromium >/dev/null 2>&1 || need="$need chromium"
[ -d /usr/share/datasets/fashion-mnist ] || need="$need dataset-fashion-mnist"
[ -z "$need" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing Debian packages:$need"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need >/dev/null; } \
        || echo "could not install$need: skipping them (see README, 'Offline data')"
else
    echo "skipped optional system packages (needs root and apt-get):$need"
    echo "  without chromium the browser check is skipped; without dataset-fashion-mnist,"
    echo "  Fashion-MNIST is downloaded by torchvision when online"
fi
