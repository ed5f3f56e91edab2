#!/usr/bin/env bash
# bench:compare on a machine with a GPU that has Python with PyTorch (CUDA) but no Node.
#   bash bench/device.sh pack   here: bundle node, the built engine with its runtime packages (the
#                               `webgpu` package's dawn.node for linux-x64 only) and the Vulkan loader
#                               into .device/ (ignored by git), compressed
#   bash bench/device.sh run    there, from the repository root with .device carried: unpack, then
#                               the engine on the GPU beside PyTorch (CUDA eager when it has a GPU)
#   bash bench/device.sh check  there: the engine alone on the GPU, no PyTorch needed: `gradcam info`,
#                               `gradcam verify --all` (the float64 cases on this adapter), bench:kernels
#                               (both GEMM variants) and a short bench:soak (concurrent calls, repeats
#                               bit for bit); every output goes to $OUT/check.log where $OUT is set
# `run` and `check` also work here, on lavapipe: the script's own smoke test (`pack` first).
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
  tar -cJf "$BUNDLE/engine.tar.xz" bin dist shaders weights package.json test/fixtures/ops test/fixtures/nets/*_opset13 $modules \
    node_modules/webgpu/index.js node_modules/webgpu/package.json node_modules/webgpu/dist/linux-x64
  # The Vulkan loader and the GL dispatch libraries NVIDIA's Vulkan driver (libGLX_nvidia) loads.
  (cd "$BUNDLE" && apt-get download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2 >/dev/null)
  du -sh "$BUNDLE"
}

unpack() {
  [ -d "$BUNDLE" ] || { echo "no $BUNDLE: run 'bash bench/device.sh pack' first" >&2; exit 1; }
  work=/tmp/gradcam-device
  rm -rf "$work" && mkdir -p "$work"
  tar -xJf "$BUNDLE/node.tar.xz" -C "$work"
  tar -xJf "$BUNDLE/engine.tar.xz" -C "$work"
  # The Vulkan loader and the GL dispatch libraries, where the machine lacks them: without libglvnd the
  # loader finds NVIDIA's ICD but cannot create an instance through it.
  if ! ldconfig -p | grep -q libvulkan.so.1 || ! ldconfig -p | grep -q libGLdispatch.so.0; then
    for f in "$BUNDLE"/*.deb; do dpkg -x "$f" /; done
    ldconfig
  fi
  if [ -z "${VK_DRIVER_FILES:-}" ] && [ -f /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json ]; then
    export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
    export __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
  fi
}

check() {
  unpack
  local log=${OUT:-$work}/check.log
  cd "$work"
  export PATH="$work/bin:$PATH"
  {
    echo "== gradcam info"; node bin/gradcam.js info
    echo "== gradcam verify --all"; node bin/gradcam.js verify --all || echo "verify: exit $?"
    echo "== bench:kernels"; node dist/bench/kernels.js --runs "${RUNS:-5}" || echo "kernels: exit $?"
    echo "== bench:soak"; node dist/bench/soak.js --calls "${CALLS:-3000}" || echo "soak: exit $?"
  } 2>&1 | tee "$log"
}

run() {
  unpack
  mkdir -p "$work/bench" "$work/scripts"
  cp bench/compare.py "$work/bench/" && cp scripts/make_torchvision_refs.py scripts/float32_error_model.py "$work/scripts/"
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
  check) check ;;
  *) echo "usage: bash bench/device.sh pack|run|check" >&2; exit 2 ;;
esac
