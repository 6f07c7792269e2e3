#!/usr/bin/env bash
# Installs the Debian packages sifkube and its tests use (Debian 12 and 13). Run as root.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

packages=(
  build-essential          # the native helper of the OCI runtime is compiled at build time
  squashfs-tools squashfuse fuse3   # SIF partitions: build, extract, mount without loop devices
  iproute2 iptables util-linux kmod openssl cpio
  conntrack                        # kube-proxy clears a removed Service's connection-tracking entries with it
  containernetworking-plugins      # bridge, host-local, loopback, portmap for pods
  busybox-static                   # root filesystems of test containers
  runc crun containerd             # peers, used as oracles and in benchmarks
  python3                          # the runtime's terminal test receives the pty over SCM_RIGHTS (Node cannot)
  docker-registry skopeo umoci     # a real OCI registry on loopback and images pushed to it
  etcd-server                      # etcd for the control plane
  curl                             # bench/cluster/peer.sh polls etcd's /health with it
  gnupg                            # another OpenPGP implementation checks what `sif sign` writes
  qemu-system-x86 linux-image-amd64  # a pure cgroup v2 VM for the cgroup v2 tests
  xz-utils zstd                    # scripts/vm/run.sh unpacks the kernel image (faster boot without KVM)
  debootstrap                      # `sifkube build`'s debootstrap agent (and its test)
  postgresql                       # the books example's tests run its database server on the host
  chromium                         # the TensorFlow example's page, driven headless by its tests
)
# kubectl: take Debian's only where none is installed (some images ship their own).
command -v kubectl >/dev/null 2>&1 || packages+=(kubernetes-client)

apt-get update -qq
available=()
for p in "${packages[@]}"; do
  policy=$(apt-cache policy "$p" 2>/dev/null || true)
  if [[ "$policy" =~ Candidate:\ [^\(] ]]; then
    available+=("$p")
  else
    echo "install-system-deps: $p is not packaged on this release; tests that need it say so and skip" >&2
  fi
done
apt-get install -y -qq --no-install-recommends "${available[@]}" >/dev/null
echo "install-system-deps: ${#available[@]} packages present"
