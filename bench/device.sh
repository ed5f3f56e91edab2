#!/usr/bin/env bash
# bench:compare on a machine with a GPU that has Python with PyTorch (CUDA) but no Node.
#   bash bench/device.sh pack   here: bundle node, the built engine with its runtime packages (the
#                               `webgpu` package's dawn.node for linux-x64 only) and the Vulkan loader
#                               into .device/ (ignored by git), compressed
#   bash bench/device.sh run    there, from the repository root with .device carried: unpack, then
#                               the engine on the GPU beside PyTorch (CUDA eager when it has a GPU)
# `run` also works here, on lavapipe and PyTorch CPU: the script's own smoke test (`pack` first).
set -euo pipefail
cd "$(dirname "$0")/.."
BUNDLE=.device
ARCHS=${ARCHS:-resnet18,resnet50,mobilenet_v2,densenet121,efficientnet_b0,vgg16}

pack() {
  grep -qx '/.device/' .git/info/exclude 2>/dev/null || echo '/.device/' >> .git/info/exclude
  rm -rf "$BUNDLE" && mkdir -p "$BUNDLE"
  npm run build --silent
  tar -cJf "$BUNDLE/node.tar.xz" -C "$(dirname "$(dirname "$(command -v node)")")" bin/node
  local modules
  modules=$(npm ls --omit=dev --parseable --all 2>/dev/null | tail -n +2 | sed "s#^$(pwd)/##" | grep -v '^node_modules/webgpu$')
  tar -cJf "$BUNDLE/engine.tar.xz" dist shaders weights package.json $modules \
    node_modules/webgpu/index.js node_modules/webgpu/package.json node_modules/webgpu/dist/linux-x64
  (cd "$BUNDLE" && apt-get download libvulkan1 >/dev/null)
  du -sh "$BUNDLE"
}

run() {
  [ -d "$BUNDLE" ] || { echo "no $BUNDLE: run 'bash bench/device.sh pack' first" >&2; exit 1; }
  local work=/tmp/gradcam-device
  rm -rf "$work" && mkdir -p "$work"
  tar -xJf "$BUNDLE/node.tar.xz" -C "$work"
  tar -xJf "$BUNDLE/engine.tar.xz" -C "$work"
  mkdir -p "$work/bench" "$work/scripts"
  cp bench/compare.py "$work/bench/" && cp scripts/make_torchvision_refs.py scripts/float32_error_model.py "$work/scripts/"
  # The Vulkan loader, where the machine has none.
  if ! ldconfig -p | grep -q libvulkan.so.1; then
    for f in "$BUNDLE"/*.deb; do dpkg -x "$f" /; done
    ldconfig
  fi
  if [ -z "${VK_DRIVER_FILES:-}" ] && [ -f /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json ]; then
    export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
  fi
  local python=${GRADCAM_PYTHON:-}
  [ -n "$python" ] || { [ -x /usr/bin/python3 ] && python=/usr/bin/python3 || python=$(command -v python3); }
  local device=cpu
  "$python" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null && device=cuda
  cd "$work"
  GRADCAM_PYTHON="$python" "$work/bin/node" dist/bench/compare.js --arch "$ARCHS" --torch-device "$device" ${RUNS:+--runs "$RUNS"}
  # On the device tool's machine, $OUT comes back.
  if [ -n "${OUT:-}" ]; then cp .cache/bench/compare.json "$OUT/"; fi
}

case "${1:-}" in
  pack) pack ;;
  run) run ;;
  *) echo "usage: bash bench/device.sh pack|run" >&2; exit 2 ;;
esac
