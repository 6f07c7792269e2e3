#!/usr/bin/env bash
# Runs a command inside a throwaway pure cgroup v2 VM and exits with its status:
#   scripts/vm/run.sh [--timeout SECONDS] [--modules "MODULE..."] -- COMMAND [ARGS...]
# --modules loads more kernel modules (with their dependencies), e.g. "bridge veth overlay squashfs loop"
# for pods through the CRI (CNI bridge, overlay root filesystems, SIF images on loop devices).
# COMMAND runs as root in this project's folder. The VM is QEMU (KVM when /dev/kvm is usable, else
# software emulation) booting the host's Debian kernel with a tiny initrd (busybox + the virtio-9p
# modules, built on each run in a scratch folder); its root filesystem is the host's, read-only.
# Needs: qemu-system-x86, linux-image-amd64, busybox-static, cpio (scripts/install-system-deps.sh).
set -euo pipefail
timeout=120
extra_modules=
if [[ "${1:-}" == --timeout ]]; then timeout=$2; shift 2; fi
if [[ "${1:-}" == --modules ]]; then extra_modules=$2; shift 2; fi
[[ "${1:-}" == -- ]] && shift
if [[ $# -eq 0 ]]; then echo "usage: scripts/vm/run.sh [--timeout SECONDS] [--modules \"MODULE...\"] -- COMMAND [ARGS...]" >&2; exit 2; fi

project=$(cd "$(dirname "$0")/../.." && pwd)
kernel=$(ls -1 /boot/vmlinuz-* 2>/dev/null | sort -V | tail -1 || true)
[[ -n "$kernel" ]] || { echo "sifkube-vm: no kernel in /boot: apt-get install -y linux-image-amd64" >&2; exit 3; }
kver=${kernel#/boot/vmlinuz-}
moddir=/lib/modules/$kver
[[ -f $moddir/modules.dep ]] || { echo "sifkube-vm: no modules for $kver in $moddir: apt-get install -y linux-image-amd64" >&2; exit 3; }
command -v qemu-system-x86_64 >/dev/null || { echo "sifkube-vm: qemu-system-x86_64 is missing: apt-get install -y qemu-system-x86" >&2; exit 3; }
[[ -x /bin/busybox ]] || { echo "sifkube-vm: /bin/busybox is missing: apt-get install -y busybox-static" >&2; exit 3; }

# Software emulation decompresses a bzImage slowly: boot the uncompressed ELF kernel (PVH entry)
# instead, extracted once into .vm/ (xz or zstd payload, as the kernel's extract-vmlinux finds it).
boot=$kernel
vmlinux=$project/.vm/vmlinux-$kver
if [[ ! -s "$vmlinux" ]]; then
  mkdir -p "$project/.vm"
  for magic in 'xz:\xfd7zXZ\x00' 'zstd:\x28\xb5\x2f\xfd'; do
    off=$(LC_ALL=C grep -obUaP "${magic#*:}" "$kernel" | head -1 | cut -d: -f1 || true)
    [[ -n "$off" ]] || continue
    tail -c +$((off + 1)) "$kernel" | "${magic%%:*}" -dc 2>/dev/null > "$vmlinux.tmp" || true
    if [[ "$(head -c4 "$vmlinux.tmp" | od -An -c | tr -d ' ')" == 177ELF ]]; then mv "$vmlinux.tmp" "$vmlinux"; break; fi
  done
  rm -f "$vmlinux.tmp"
fi
[[ -s "$vmlinux" ]] && boot=$vmlinux

job=$(mktemp -d /tmp/sk-vm-XXXXXXXX)
qemu_pid=
cleanup() {
  # SIGTERM to timeout(1) passes it on to QEMU.
  [[ -n "$qemu_pid" ]] && kill "$qemu_pid" 2>/dev/null && wait "$qemu_pid" 2>/dev/null || true
  rm -rf "$job"
}
trap cleanup EXIT

# The initrd: busybox, the init script, and the modules for virtio-pci and 9p with their dependencies.
root=$job/initrd
mkdir -p "$root"/{bin,proc,sys,dev,modules,newroot}
cp /bin/busybox "$root/bin/busybox"
ln -s busybox "$root/bin/sh"
cp "$project/scripts/vm/init.sh" "$root/init"
chmod +x "$root/init"
declare -A seen=()
order=()
add_module() {
  local path
  path=$(grep -E "(^|/)$1\.ko(\.[a-z]+)?:" "$moddir/modules.dep" | head -1 | cut -d: -f1)
  [[ -n "$path" ]] || { grep -qw "$1" "$moddir/modules.builtin" && return 0; echo "sifkube-vm: kernel module $1 not found" >&2; exit 3; }
  [[ -n "${seen[$path]:-}" ]] && return 0
  seen[$path]=1
  for dep in $(grep -E "^$path:" "$moddir/modules.dep" | cut -d: -f2); do add_module "$(basename "${dep%%.ko*}")"; done
  cp "$moddir/$path" "$root/modules/"
  order+=("$(basename "$path")")
}
# shellcheck disable=SC2086 # a list of names
for m in virtio_pci 9pnet_virtio 9p $extra_modules; do add_module "$m"; done
printf '%s\n' "${order[@]}" > "$root/modules.order"
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) > "$job/initrd.img"
rm -rf "$root"

printf 'cd %q && exec' "$project" > "$job/cmd.sh"
printf ' %q' "$@" >> "$job/cmd.sh"
printf '\n' >> "$job/cmd.sh"

# KVM only where the CPU shows virtualisation: a /dev/kvm without vmx/svm (some nested guests) hangs.
accel=(-accel tcg -cpu max)
if [[ -r /dev/kvm && -w /dev/kvm ]] && grep -qwE 'vmx|svm' /proc/cpuinfo; then accel=(-accel kvm -cpu host); fi
timeout -s KILL "$timeout" qemu-system-x86_64 "${accel[@]}" -bios qboot.rom -m 1024 -smp 2 -nodefaults -no-user-config -no-reboot -display none \
  -serial stdio -kernel "$boot" -initrd "$job/initrd.img" \
  -append "console=ttyS0 quiet loglevel=3 panic=-1 cgroup_no_v1=all mitigations=off i8042.noaux i8042.nokbd i8042.nopnp no_timer_check sifkube.job=$job sifkube.project=$project" \
  -virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
  -virtfs "local,path=$project,mount_tag=project,security_model=none,readonly=on,multidevs=remap" \
  -virtfs "local,path=$job,mount_tag=job,security_model=none" </dev/null &
qemu_pid=$!
wait "$qemu_pid" || true
qemu_pid=
if [[ ! -f "$job/rc" ]]; then echo "sifkube-vm: the VM stopped without a result (crash, or over the ${timeout}s timeout)" >&2; exit 124; fi
exit "$(cat "$job/rc")"
