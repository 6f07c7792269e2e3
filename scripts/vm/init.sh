#!/bin/sh
# PID 1 of the sifkube cgroup v2 VM (see run.sh). The host's root filesystem, shared read-only over
# virtio-9p, becomes the VM's root with tmpfs on /tmp and /run, and cgroup2 alone at /sys/fs/cgroup
# (no v1 hierarchy: the kernel boots with cgroup_no_v1=all). Runs the job's cmd.sh and powers off.
export PATH=/bin
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in $(cat /modules.order); do insmod "/modules/$m" || echo "sifkube-vm: insmod $m failed"; done
job=$(sed -n 's/.*sifkube.job=\([^ ]*\).*/\1/p' /proc/cmdline)
project=$(sed -n 's/.*sifkube.project=\([^ ]*\).*/\1/p' /proc/cmdline)
opts=trans=virtio,version=9p2000.L,msize=524288
mkdir -p /newroot
mount -t 9p -o "$opts,ro,cache=loose" hostroot /newroot || { echo "sifkube-vm: cannot mount the host root"; poweroff -f; }
mount -t tmpfs tmp /newroot/tmp
mount -t tmpfs run /newroot/run
mount -t proc proc /newroot/proc
mount -t sysfs sys /newroot/sys
mount -t devtmpfs dev /newroot/dev
mount -t cgroup2 -o nsdelegate cgroup2 /newroot/sys/fs/cgroup
# The project is shared on its own: it may live under /tmp, which the tmpfs above hides.
mkdir -p "/newroot$project"
mount -t 9p -o "$opts,ro,cache=loose" project "/newroot$project"
mkdir -p "/newroot$job"
mount -t 9p -o "$opts" job "/newroot$job"
chroot /newroot /bin/sh -c "cd '$job' && exec /bin/sh ./cmd.sh"
echo $? > "/newroot$job/rc"
umount "/newroot$job" "/newroot$project"
sync
poweroff -f
