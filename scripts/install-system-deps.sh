#!/usr/bin/env bash
# Installs what a fresh Debian bookworm machine lacks to run gradcam-webgpu and its references:
#  - Mesa's lavapipe (CPU Vulkan driver) from bookworm-backports: bookworm's own 22.3 is too old for Dawn;
#  - PyTorch, torchvision, ONNX, NumPy and Pillow for /usr/bin/python3 (the reference generator);
#  - chromium-headless-shell, the real browser the web page's test drives (playwright-core, no download);
#  - redis-server, the Redis that the job queue's test starts on a free port of its own;
#  - libonnx-testdata, ONNX's own backend conformance tests (test/conformance.test.ts runs them).
# Idempotent: does nothing where everything is already installed.
set -euo pipefail

SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi

need_lavapipe=1
if ls /usr/share/vulkan/icd.d/lvp_icd*.json >/dev/null 2>&1; then
  ver=$(dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null || true)
  case "$ver" in 22.*|"") need_lavapipe=1 ;; *) need_lavapipe=0 ;; esac
fi

need_python=0
/usr/bin/python3 -c "import torch, torchvision, onnx, numpy, PIL" >/dev/null 2>&1 || need_python=1

need_browser=0
command -v chromium-headless-shell >/dev/null 2>&1 || need_browser=1

need_redis=0
command -v redis-server >/dev/null 2>&1 || need_redis=1

need_testdata=0
[ -d /usr/share/libonnx-testdata/data/node ] || need_testdata=1

if [ "$need_lavapipe" = 0 ] && [ "$need_python" = 0 ] && [ "$need_browser" = 0 ] && [ "$need_redis" = 0 ] && [ "$need_testdata" = 0 ]; then
  echo "install-system-deps: lavapipe, the Python references, the browser, Redis and ONNX's test data are already installed"
  exit 0
fi

if [ "$need_lavapipe" = 1 ]; then
  list=/etc/apt/sources.list.d/bookworm-backports.list
  if ! grep -rqs "bookworm-backports" /etc/apt/sources.list /etc/apt/sources.list.d/; then
    echo "deb http://deb.debian.org/debian bookworm-backports main" | $SUDO tee "$list" >/dev/null
  fi
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
if [ "$need_lavapipe" = 1 ]; then
  $SUDO apt-get install -y -qq -t bookworm-backports mesa-vulkan-drivers libvulkan1 >/dev/null
fi
if [ "$need_python" = 1 ]; then
  $SUDO apt-get install -y -qq --no-install-recommends python3-torch python3-torchvision python3-onnx python3-numpy python3-pil >/dev/null
fi
if [ "$need_browser" = 1 ]; then
  $SUDO apt-get install -y -qq --no-install-recommends chromium-headless-shell >/dev/null
fi
if [ "$need_redis" = 1 ]; then
  # The package's service is not needed (tests start their own server); where it cannot start, fine.
  $SUDO apt-get install -y -qq --no-install-recommends redis-server >/dev/null
fi
if [ "$need_testdata" = 1 ]; then
  $SUDO apt-get install -y -qq --no-install-recommends libonnx-testdata >/dev/null
fi
echo "install-system-deps: done"
