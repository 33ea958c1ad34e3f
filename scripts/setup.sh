#!/usr/bin/env bash
# Installs every Debian package warren needs to build, test and run its demo.
# Idempotent: installs only what is missing, runs `apt-get update` only when needed.
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake clang libclang-rt-14-dev pkg-config git
  # ns-3 3.37 and what its CMake config requires
  libns3-dev ns3 libgsl-dev libsqlite3-dev libxml2-dev
  # crypto, codecs, graph, sockets, CLI
  libsodium-dev libb2-dev nlohmann-json3-dev libboost-graph-dev libboost-system-dev libcli11-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev python3 python3-pytest
  # real peers and network tools used by the interop tests
  coturn nftables conntrack iproute2 iputils-ping procps
  # pcap decoding in tests (Wireshark's dissectors, so "opens in Wireshark" is checked, not assumed)
  tshark
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages already installed"
  exit 0
fi

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Refresh the package lists only when they are absent or older than a day.
if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mtime -1 2>/dev/null | head -n1)" ]; then
  $SUDO apt-get update -qq
fi
if ! $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"; then
  # Lists younger than a day can still name versions the mirror no longer has.
  echo "setup: install failed; refreshing package lists and retrying once"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
echo "setup: done"
