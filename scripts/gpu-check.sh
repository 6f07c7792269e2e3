#!/usr/bin/env bash
# GPU passthrough check for a host with the NVIDIA driver (see README.md, "GPUs"). Needs root. It
# needs no package registry, no node_modules and no Kubernetes binaries for its main part:
#   1. probe: node --version, nvidia-smi -L, ls -l /dev/nvidia*, the linker cache's libcuda and
#      libnvidia-ml, uname -r, whether `unshare -m -n true` and an overlay mount work;
#   2. runtime path: containers run by `sifkube-oci run --nv` (dist/ built by `npm run build`,
#      carried here, and native/build/sifkube-helper, built here with cc when it is missing) on a
#      root filesystem of the host's libc only: nvidia-smi, then a CUDA driver-API program compiled
#      here with cc (scripts/gpu-check/cuda-check.c: libcuda by dlopen, no CUDA headers) that
#      allocates memory and runs a kernel; one GPU only with --gpus 0; nothing without --nv;
#   3. kubelet path, where node_modules and a kubelet binary (KUBELET=PATH, or kubelet in PATH) are
#      here: a standalone kubelet on sifkube's CRI server with the device plugin, and a static pod
#      asking for nvidia.com/gpu that runs nvidia-smi -L.
# Each step says PASS, FAIL or SKIP (with why); the summary ends the output, also written to
# OUT_DIR/gpu-check.log. GPU_ROOT names another driver tree (a copy, or the fake tree of the tests)
# instead of /. Usage: sudo bash scripts/gpu-check.sh [OUT_DIR]
set -uo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
out=${1:-${OUT:-$repo/gpu-check-out}}
mkdir -p "$out"
exec > >(tee "$out/gpu-check.log") 2>&1
gpu_root=${GPU_ROOT:-/}
# Lowercase only: the kubelet path names a SIF under it in an image reference.
work=/var/tmp/sifkube-gpu-check-$$
mkdir -m 700 "$work" || exit 1
summary=()
result() { summary+=("$1 $2"); echo "== $1: $2"; }
finish() {
  echo
  echo "## summary ($(date -u +%FT%TZ), $(uname -n), GPU root $gpu_root)"
  printf '%s\n' "${summary[@]}"
  exit 0
}
cleanup() {
  for c in $(node "$repo/bin/sifkube-oci.js" --root "$work/state" list -q 2>/dev/null); do node "$repo/bin/sifkube-oci.js" --root "$work/state" delete --force "$c"; done
  grep -o " $work[^ ]*" /proc/self/mountinfo | sort -r | xargs -r -n1 umount -l 2>/dev/null
  # The standalone kubelet's pod cgroups (the kubelet path), deepest first, once their last processes are gone.
  for _ in 1 2 3; do
    find /sys/fs/cgroup -depth -type d -path '*/sifkube-gpu-check*' -exec rmdir {} + 2>/dev/null && break
    sleep 1
  done
  rm -rf "$work"
}
trap cleanup EXIT

echo "## probe"
for cmd in 'node --version' 'nvidia-smi -L' 'ls -l /dev/nvidia*' "ldconfig -p | grep -E 'libcuda|nvidia-ml'" 'uname -r' 'unshare -m -n true && echo unshare ok' \
  'unshare -m sh -c "d=\$(mktemp -d) && mount -t tmpfs t \$d && mkdir \$d/l \$d/u \$d/w \$d/m && mount -t overlay o -o lowerdir=\$d/l,upperdir=\$d/u,workdir=\$d/w \$d/m && echo overlay ok; umount -R \$d; rmdir \$d"'; do
  echo "\$ $cmd"
  timeout 30 bash -c "$cmd"
  echo "(exit $?)"
done
[ "$(id -u)" = 0 ] || { result SKIP "everything after the probe: run it as root"; finish; }
if ! command -v node >/dev/null; then
  result SKIP "runtime and kubelet paths: no Node.js on this host (install Node.js 20 or newer, or put a node binary in PATH)"
  finish
fi
if [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 20 ]; then
  result SKIP "runtime and kubelet paths: Node.js $(node --version) is older than 20"
  finish
fi
if [ ! -f dist/src/runtime/cli/main.js ]; then
  if [ -d node_modules ]; then npm run build >/dev/null || true; fi
  [ -f dist/src/runtime/cli/main.js ] || { result SKIP "runtime and kubelet paths: no dist/ here (run npm run build where node_modules are, and carry dist/)"; finish; }
fi
if [ ! -x native/build/sifkube-helper ]; then
  if command -v cc >/dev/null; then node scripts/build-native.mjs || true; fi
  [ -x native/build/sifkube-helper ] || { result SKIP "runtime and kubelet paths: no native/build/sifkube-helper and no cc (with a static libc) to build it: carry native/build/"; finish; }
fi
oci() { node "$repo/bin/sifkube-oci.js" --root "$work/state" "$@"; }

echo "## runtime path"
rootfs=$work/bundle/rootfs
mkdir -p "$rootfs"/{proc,sys,dev,tmp,check}
# A program and the host libraries it links (never the driver's: those must come from --nv).
copy_with_libs() {
  install -D -m 755 "$1" "$rootfs$2"
  ldd "$1" 2>/dev/null | grep -o '/[^ ]*' | grep -vE 'nvidia|libcuda' | while read -r lib; do
    [ -e "$rootfs$lib" ] || install -D -m 755 "$(readlink -f "$lib")" "$rootfs$lib"
  done || true
}
smi=$(ls "$gpu_root"/usr/bin/nvidia-smi 2>/dev/null || command -v nvidia-smi)
[ -n "$smi" ] && copy_with_libs "$smi" /check/smi-libs-from
rm -f "$rootfs/check/smi-libs-from"
have_busybox=no
if command -v busybox >/dev/null; then copy_with_libs "$(command -v busybox)" /bin/busybox && ln -s busybox "$rootfs/bin/sh" && have_busybox=yes; fi
have_cuda=no
if command -v cc >/dev/null && cc -O2 -o "$work/cuda-check" scripts/gpu-check/cuda-check.c -ldl; then
  copy_with_libs "$work/cuda-check" /check/cuda-check
  have_cuda=yes
fi
# The kubelet path's image, made before any container run adds mount points to the folder.
if [ -d node_modules ]; then node bin/sifkube.js sif create --rootfs "$rootfs" --deterministic "$work/gpu.sif" >/dev/null || rm -f "$work/gpu.sif"; fi
spec() {
  node -e '
    const caps = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"];
    console.log(JSON.stringify({ ociVersion: "1.0.2", root: { path: "rootfs", readonly: true }, hostname: "gpu-check",
      process: { user: { uid: 0, gid: 0 }, args: process.argv.slice(1), cwd: "/", env: ["PATH=/usr/bin:/bin:/check"], capabilities: { bounding: caps, effective: caps, permitted: caps }, noNewPrivileges: true },
      mounts: [{ destination: "/proc", type: "proc", source: "proc" }, { destination: "/dev", type: "tmpfs", source: "tmpfs", options: ["nosuid", "mode=755"] }, { destination: "/tmp", type: "tmpfs", source: "tmpfs" }],
      linux: { namespaces: [{ type: "pid" }, { type: "network" }, { type: "ipc" }, { type: "uts" }, { type: "mount" }] } }));' -- "$@" > "$work/bundle/config.json"
}
run_case() { # ID WHAT EXPECT FLAGS... -- ARGS...   (EXPECT: ok, or a pattern the failing output must match)
  local id=$1 what=$2 expect=$3 flags=() t0 t1 rc
  shift 3
  while [ "$1" != -- ]; do flags+=("$1"); shift; done
  shift
  spec "$@"
  echo "\$ sifkube-oci run ${flags[*]} --bundle BUNDLE $id   # process: $*"
  t0=$(date +%s%N)
  oci run "${flags[@]}" --bundle "$work/bundle" "gpu-check-$id-$$" > "$work/run.out" 2>&1
  rc=$?
  t1=$(date +%s%N)
  cat "$work/run.out"
  echo "(exit $rc, $(( (t1 - t0) / 1000000 )) ms)"
  if { [ "$expect" = ok ] && [ $rc = 0 ]; } || { [ "$expect" != ok ] && [ $rc != 0 ] && grep -q "$expect" "$work/run.out"; }; then result PASS "runtime: $what"; else result FAIL "runtime: $what (exit $rc)"; fi
}
nv=(--nv --gpu-root "$gpu_root")
if [ -n "$smi" ]; then
  run_case smi "nvidia-smi in a --nv container" ok "${nv[@]}" -- /usr/bin/nvidia-smi
  run_case smi-l "nvidia-smi -L in a --nv container" ok "${nv[@]}" -- /usr/bin/nvidia-smi -L
else
  result SKIP "runtime: nvidia-smi (not on this host)"
fi
if [ "$have_cuda" = yes ]; then
  run_case cuda "CUDA driver-API program (allocate, kernel, copy back) in a --nv container" ok "${nv[@]}" -- /check/cuda-check
  run_case no-nv "the same program without --nv finds no libcuda" 'cannot open libcuda.so.1' -- /check/cuda-check
else
  result SKIP "runtime: CUDA program (no cc here to compile scripts/gpu-check/cuda-check.c)"
fi
if [ "$have_busybox" = yes ]; then
  run_case gpus0 "--gpus 0: /dev has nvidia0 and the driver nodes only" ok --gpus 0 --gpu-root "$gpu_root" -- /bin/sh -c 'ls /dev; [ -e /dev/nvidia0 ] && ! ls /dev | grep -q "nvidia[1-9]"'
fi

echo "## kubelet path"
kubelet=${KUBELET:-$(command -v kubelet || true)}
if [ ! -d node_modules ] || [ -z "$kubelet" ]; then
  result SKIP "kubelet path: needs node_modules (the CRI server's gRPC) and a kubelet binary (KUBELET=PATH): $([ -d node_modules ] || echo 'no node_modules ')$([ -n "$kubelet" ] || echo 'no kubelet')"
  finish
fi
bash scripts/gpu-check/kubelet-path.sh "$work" "$gpu_root" "$kubelet" "$work/gpu.sif" && result PASS "kubelet: a static pod asking for nvidia.com/gpu ran nvidia-smi -L" || result FAIL "kubelet: static pod with nvidia.com/gpu (see the output above)"
finish
