#!/usr/bin/env bash
# Installs the Debian packages leadrouter needs when they are missing: a Java 17+ runtime and
# Maven for the local Kafka broker. Run as root (CI and these machines are); otherwise it says
# what to install and stops.
set -euo pipefail

missing=()
java_major=$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n1 || true)
if [ -z "${java_major}" ] || [ "${java_major}" -lt 17 ]; then missing+=(openjdk-17-jre-headless); fi
command -v mvn >/dev/null 2>&1 || missing+=(maven)
for extra in "$@"; do
  command -v "${extra%%:*}" >/dev/null 2>&1 || missing+=("${extra##*:}")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "setup: please install: ${missing[*]}" >&2
  exit 1
fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
