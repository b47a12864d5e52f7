#!/usr/bin/env bash
# Checks the Prometheus alert rules and runs their unit tests:
# docs/prometheus/alerts.yml against docs/prometheus/alerts_test.yml.
# Installs promtool (Debian package `prometheus`) when it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v promtool >/dev/null 2>&1; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq && $sudo apt-get install -y -qq prometheus
fi
promtool --version 2>&1 | sed -n 1p

promtool check rules docs/prometheus/alerts.yml
promtool test rules docs/prometheus/alerts_test.yml
