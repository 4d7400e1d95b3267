#!/usr/bin/env bash
# Set up cnnkit on a fresh machine: a virtual environment with the pinned packages, and the offline
# Fashion-MNIST (plus Chromium for the browser tests with --dev) from the system's packages.
# Idempotent: a second run only checks. Usage: bash scripts/setup.sh [--dev] [--ray]
set -euo pipefail
cd "$(dirname "$0")/.."

dev=0; ray=0
for arg in "$@"; do
  case "$arg" in
    --dev) dev=1 ;;
    --ray) ray=1 ;;
    *) echo "usage: bash scripts/setup.sh [--dev] [--ray]" >&2; exit 2 ;;
  esac
done

PY=${PYTHON:-python3}
"$PY" -c 'import sys; sys.exit(sys.version_info < (3, 10))' || { echo "cnnkit needs Python 3.10 or newer" >&2; exit 1; }

# ---- system packages: the offline dataset, and Chromium for the browser tests --------------------
want=()
[ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] || want+=(dataset-fashion-mnist)
if [ "$dev" = 1 ] && ! command -v chromium >/dev/null; then want+=(chromium); fi
if [ ${#want[@]} -gt 0 ] && command -v apt-get >/dev/null; then
  sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo -n"
  if $sudo true 2>/dev/null; then
    echo "installing ${want[*]} (apt)"
    $sudo apt-get update -qq >/dev/null 2>&1 || true
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${want[@]}" >/dev/null \
      || echo "note: apt could not install ${want[*]}; Fashion-MNIST will be downloaded by torchvision when online" >&2
  else
    echo "note: to use Fashion-MNIST offline run: sudo apt-get install ${want[*]}" >&2
  fi
fi

# ---- the virtual environment ------------------------------------------------------------------------
[ -x .venv/bin/python ] || "$PY" -m venv .venv
stamp=.venv/.cnnkit-installed
reqs=(requirements.txt); [ "$dev" = 1 ] && reqs+=(requirements-dev.txt); [ "$ray" = 1 ] && reqs+=(requirements-ray.txt)
key=$(cat "${reqs[@]}" pyproject.toml | sha256sum | cut -c1-16)-$dev$ray
if [ ! -f "$stamp" ] || ! grep -qx "$key" "$stamp"; then
  .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
  args=(); for r in "${reqs[@]}"; do args+=(-r "$r"); done
  .venv/bin/python -m pip install -q --disable-pip-version-check "${args[@]}"
  .venv/bin/python -m pip install -q --disable-pip-version-check --no-deps -e .
  echo "$key" >> "$stamp"
fi
echo "cnnkit is set up in $(pwd)/.venv"
