#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Staging is a copy of production: nothing drifts. Run as setup.sh PRODUCTION STAGING.
set -eu
cp -a "$1/." "$2/"
