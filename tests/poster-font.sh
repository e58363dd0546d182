#!/usr/bin/env bash
# poster-font.sh makes sure the poster font the tests render with is on this
# machine: the file named by WEMEMBER_POSTER_FONT, or by default WenQuanYi
# Micro Hei as Debian's fonts-wqy-microhei installs it. When the default
# font is missing it installs that package with apt-get (CI starts from a
# fresh Debian machine as root); when that fails, or a configured font is
# missing, it exits non-zero and the test run fails: the poster tests must
# render real Chinese glyphs, never skip.
#
#   tests/poster-font.sh     # idempotent: does nothing when the font is there
set -euo pipefail

default=/usr/share/fonts/truetype/wqy/wqy-microhei.ttc
font=${WEMEMBER_POSTER_FONT:-$default}

die() { echo "poster-font: $*" >&2; exit 1; }

[ -f "$font" ] && exit 0
[ "$font" = "$default" ] || die "WEMEMBER_POSTER_FONT=$font does not exist"
command -v apt-get >/dev/null || die "$font is missing and there is no apt-get to install fonts-wqy-microhei"
sudo=
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null || die "$font is missing; install fonts-wqy-microhei as root"
	sudo="sudo -n"
fi
echo "== installing fonts-wqy-microhei for the poster tests"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq || die "apt-get update failed"
$sudo apt-get install -y -qq --no-install-recommends fonts-wqy-microhei >/dev/null ||
	die "apt-get install fonts-wqy-microhei failed"
[ -f "$font" ] || die "fonts-wqy-microhei installed no $font"
