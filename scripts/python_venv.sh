#!/bin/sh
# Debian's Python ships without venv (ensurepip): as root with apt-get, install the
# package that has it for this Python version; otherwise fail and let make say what to do.
[ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 || exit 1
version=$("${1:-python3}" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
echo "python3 -m venv failed: installing python$version-venv"
apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "python$version-venv" >/dev/null
