#!/usr/bin/env bash
# Sets up everything the platform needs on a Debian machine, idempotently:
# Debian packages (fonts, Chromium, WebKitGTK's WebDriver and Xvfb for the WebKit tests, gettext, WeasyPrint's libraries, Node.js),
# the virtual environment at .venv, Python packages, pdf.js, compiled translations.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi

debs=(python3 python3-venv python3-dev gcc gettext fonts-noto-cjk chromium nodejs npm
      libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libjpeg62-turbo libffi-dev libqpdf-dev
      nginx openssl
      webkit2gtk-driver xvfb)  # nginx: the production-stack test runs the shipped site (deploy/)
missing=()
for p in "${debs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# node/npm may come from elsewhere (nodesource); only ask Debian for them when absent.
if command -v node >/dev/null && command -v npm >/dev/null; then
  missing=($(printf '%s\n' "${missing[@]}" | grep -vxE 'nodejs|npm' || true))
fi
if command -v python3 >/dev/null && python3 -c 'import venv, sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  missing=($(printf '%s\n' "${missing[@]}" | grep -vxE 'python3|python3-venv|python3-dev' || true))
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  python3 -m venv .venv
fi
stamp=.venv/.deps-$(sha256sum pyproject.toml | cut -c1-16)
if [ ! -f "$stamp" ]; then
  echo "setup: installing Python packages"
  .venv/bin/pip install -q --upgrade pip >/dev/null
  .venv/bin/pip install -q -e '.[test]'
  rm -f .venv/.deps-*; touch "$stamp"
fi

nstamp=node_modules/.deps-$(sha256sum package-lock.json | cut -c1-16)
if [ ! -f "$nstamp" ]; then
  echo "setup: installing npm packages"
  npm ci --no-audit --no-fund --silent
  touch "$nstamp"
fi
mkdir -p staticfiles  # collectstatic target; whitenoise warns when it is missing
# pdf.js is served by the app itself, never from a CDN.
vendor=static/vendor/pdfjs
mkdir -p "$vendor"
cp node_modules/pdfjs-dist/build/pdf.min.mjs node_modules/pdfjs-dist/build/pdf.worker.min.mjs "$vendor/"
cp node_modules/pdfjs-dist/web/pdf_viewer.css "$vendor/" 2>/dev/null || true
rm -rf "$vendor/cmaps" "$vendor/standard_fonts"
cp -r node_modules/pdfjs-dist/cmaps node_modules/pdfjs-dist/standard_fonts "$vendor/"
cp node_modules/pdfjs-dist/LICENSE "$vendor/"
# documents: image decoders (JPEG 2000, JBIG2 in scanned packets) as wasm with JS fallbacks.
rm -rf "$vendor/wasm" && cp -r node_modules/pdfjs-dist/wasm "$vendor/"

# Translations: merge each area's part into one catalogue, then compile it.
mkdir -p locale/ja/LC_MESSAGES
msgcat --use-first --no-wrap -o locale/ja/LC_MESSAGES/django.po locale/ja/parts/*.po
.venv/bin/python manage.py compilemessages -v0 --ignore=.venv --ignore=node_modules
echo "setup: done"
