#!/usr/bin/env bash
# System tools the tests use, from Debian's packages: sipp (sip-tester) plays the carrier in
# the SIP tests, kamailio plays a carrier's edge proxy (Digest, Record-Route, TCP/TLS),
# chromium is the browser the console tests drive, sipsak sends a single OPTIONS by hand,
# docker-compose validates deploy/, openssl makes the TLS tests' CA and certificates.
set -euo pipefail
need=()
command -v sipp >/dev/null || need+=(sip-tester)
command -v sipsak >/dev/null || need+=(sipsak)
command -v docker-compose >/dev/null || need+=(docker-compose)
command -v kamailio >/dev/null || [ -x /usr/sbin/kamailio ] || need+=(kamailio)
ls /usr/lib/*/kamailio/modules/tls.so >/dev/null 2>&1 || need+=(kamailio-tls-modules)
command -v chromium >/dev/null || need+=(chromium)
command -v openssl >/dev/null || need+=(openssl)
[ ${#need[@]} -eq 0 ] && exit 0
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "need root (or sudo) to apt-get install ${need[*]}" >&2; exit 1; }
  SUDO=sudo
fi
echo "installing ${need[*]} from Debian's packages..."
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
