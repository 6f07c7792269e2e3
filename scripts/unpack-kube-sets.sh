#!/usr/bin/env bash
# Unpacks every upstream Kubernetes set of SHARED/kubernetes/ (v*-linux-amd64.tar.xz) into OUT/<version>/
# and crictl from SHARED/cri-tools/ into OUT/crictl, checking each binary against SHA256SUMS, then prints
# the environment the end-to-end tests read: SIFKUBE_KUBE_SETS (the set folders, `:`-separated) and
# SIFKUBE_CRICTL. A missing set or crictl is an error: CI must not skip the end-to-end suite.
# Usage: eval "$(bash scripts/unpack-kube-sets.sh SHARED OUT)"
set -euo pipefail
shared=${1:?usage: unpack-kube-sets.sh SHARED_DIR OUT_DIR}
out=${2:?usage: unpack-kube-sets.sh SHARED_DIR OUT_DIR}
# Not under /tmp or /run: a node's /tmp and /run are its own, and the kubelet runs inside the node.
case "$(realpath -m "$out")" in /tmp/*|/run/*) echo "unpack-kube-sets: $out is under /tmp or /run, which nodes do not see: choose a folder elsewhere (/var/tmp)" >&2; exit 1 ;; esac

shopt -s nullglob
tarballs=("$shared"/kubernetes/v*-linux-amd64.tar.xz)
crictl_xz=("$shared"/cri-tools/crictl-*-linux-amd64.xz)
[ ${#tarballs[@]} -gt 0 ] || { echo "unpack-kube-sets: no Kubernetes set in $shared/kubernetes/ (v*-linux-amd64.tar.xz)" >&2; exit 1; }
[ ${#crictl_xz[@]} -gt 0 ] || { echo "unpack-kube-sets: no crictl in $shared/cri-tools/ (crictl-*-linux-amd64.xz)" >&2; exit 1; }

mkdir -p "$out"
sets=()
pids=()
for t in "${tarballs[@]}"; do
  v=$(basename "$t" -linux-amd64.tar.xz)
  mkdir -p "$out/$v"
  tar -xJf "$t" -C "$out/$v" &
  pids+=($!)
  sets+=("$out/$v")
done
xz -dc "${crictl_xz[0]}" > "$out/crictl"
chmod +x "$out/crictl"
for p in "${pids[@]}"; do wait "$p"; done

# SHA256SUMS lines: VERSION SHA256 BINARY. Every unpacked binary must match its line.
sums="$shared/kubernetes/SHA256SUMS"
[ -f "$sums" ] || { echo "unpack-kube-sets: $sums is missing: cannot check the sets" >&2; exit 1; }
for s in "${sets[@]}"; do
  v=$(basename "$s")
  awk -v v="$v" -v d="$s" '$1 == v { print $2 "  " d "/" $3 }' "$sums" | sha256sum -c --quiet - >&2 \
    || { echo "unpack-kube-sets: the binaries of $v do not match $sums" >&2; exit 1; }
done

IFS=:
echo "export SIFKUBE_KUBE_SETS='${sets[*]}'"
echo "export SIFKUBE_CRICTL='$out/crictl'"
