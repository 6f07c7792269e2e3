#!/usr/bin/env bash
# The kubelet path of scripts/gpu-check.sh: in a private mount namespace (a tmpfs over /var/lib/kubelet,
# /var/log/pods and /run/sifkube, so the host's are untouched), sifkube's CRI server (gpuRoot set), the
# GPU device plugin on /var/lib/kubelet/device-plugins and a standalone kubelet (no API server) whose
# static pod asks for nvidia.com/gpu: 1 and runs nvidia-smi -L from SIF (a root filesystem with the host's libc).
# Usage: kubelet-path.sh WORK GPU_ROOT KUBELET SIF (exit 0: the pod's container printed a GPU)
set -euo pipefail
work=$1 gpu_root=$2 kubelet=$3 sif=$4
repo=$PWD
k=$work/kube
mkdir -p "$k/manifests"
[ -f "$sif" ] || { echo "no image $sif (sifkube sif create needs mksquashfs)"; exit 1; }
cat > "$k/cri.yaml" <<YAML
stateDir: $k/cri-state
runDir: /run/sifkube/gpu-check-cri
imageDir: $k/images
gpuRoot: $gpu_root
cgroupParent: /sifkube-gpu-check
YAML
cat > "$k/kubelet.yaml" <<YAML
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
containerRuntimeEndpoint: unix:///run/sifkube/gpu-check-cri.sock
staticPodPath: $k/manifests
cgroupDriver: cgroupfs
cgroupRoot: /sifkube-gpu-check
failSwapOn: false
failCgroupV1: false
enableServer: false
readOnlyPort: 0
healthzPort: 0
authentication: {anonymous: {enabled: true}, webhook: {enabled: false}}
authorization: {mode: AlwaysAllow}
evictionHard: {memory.available: 1Mi, nodefs.available: 0%, imagefs.available: 0%, nodefs.inodesFree: 0%}
YAML
cat > "$k/manifests/gpu.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata: {name: gpu-check, namespace: default}
spec:
  restartPolicy: Never
  hostNetwork: true
  containers:
  - name: smi
    image: local.file$sif
    command: [/usr/bin/nvidia-smi, -L]
    resources: {limits: {nvidia.com/gpu: 1}}
YAML
unshare -m --propagation private bash -s "$repo" "$k" "$gpu_root" "$kubelet" <<'INNER'
set -uo pipefail
repo=$1 k=$2 gpu_root=$3 kubelet=$4
for d in /var/lib/kubelet /var/log/pods /run/sifkube; do mkdir -p "$d" && mount -t tmpfs tmpfs "$d"; done
node "$repo/bin/sifkube.js" cri serve --config "$k/cri.yaml" --socket /run/sifkube/gpu-check-cri.sock > "$k/cri.log" 2>&1 &
cri=$!
node --input-type=module -e "
  const { runGpuDevicePlugin } = await import('$repo/dist/src/cluster/addons/gpu/index.js');
  const { discoverGpus } = await import('$repo/dist/src/runtime/index.js');
  const host = discoverGpus('$gpu_root');
  await runGpuDevicePlugin({ dir: '/var/lib/kubelet/device-plugins', host, gpus: host.gpus, log: (l) => console.log(l), healthPort: 0 });
" > "$k/plugin.log" 2>&1 &
plugin=$!
for _ in $(seq 1 60); do [ -S /run/sifkube/gpu-check-cri.sock ] && break; sleep 0.5; done
# The kubelet's cgroupRoot must exist in every hierarchy (gpu-check.sh removes it afterwards).
if [ -f /sys/fs/cgroup/cgroup.controllers ]; then mkdir -p /sys/fs/cgroup/sifkube-gpu-check
else for h in /sys/fs/cgroup/*/; do [ -L "${h%/}" ] || mkdir -p "${h}sifkube-gpu-check"; done; fi
"$kubelet" --config="$k/kubelet.yaml" --root-dir=/var/lib/kubelet --hostname-override=gpu-check > "$k/kubelet.log" 2>&1 &
kl=$!
rc=1
for _ in $(seq 1 120); do
  log=$(grep -l "GPU 0" /var/log/pods/*/smi/*.log 2>/dev/null | head -1)
  if [ -n "$log" ] && grep -q 'GPU 0' "$log"; then cat "$log"; rc=0; break; fi
  sleep 1
done
[ $rc = 0 ] || { echo "no GPU line from the static pod in 120 s:"; tail -n 8 "$k/plugin.log" "$k/kubelet.log" "$k/cri.log"; for f in /var/log/pods/*/*/*.log; do echo "== $f"; cat "$f"; done; }
kill "$kl"; wait "$kl" 2>/dev/null
for c in $(node "$repo/bin/sifkube-oci.js" --root /run/sifkube/gpu-check-cri/runtime list -q 2>/dev/null); do node "$repo/bin/sifkube-oci.js" --root /run/sifkube/gpu-check-cri/runtime delete --force "$c"; done
kill "$plugin" "$cri"; wait 2>/dev/null
grep -o ' /run/sifkube[^ ]*\| /var/lib/kubelet[^ ]*' /proc/self/mountinfo | sort -r | xargs -r -n1 umount -l 2>/dev/null
exit $rc
INNER
