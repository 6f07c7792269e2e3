import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The NVIDIA character device major (fixed by the driver) and the one this tree gives nvidia-uvm (dynamic on a host). */
export const NVIDIA_MAJOR = 195;
export const UVM_MAJOR = 508;
export const DRIVER_VERSION = '535.104.05';
export const FAKE_GPUS = [
  { index: 0, uuid: 'GPU-11111111-2222-3333-4444-555555555555', pci: '0000:17:00.0', model: 'NVIDIA Fake T4' },
  { index: 1, uuid: 'GPU-66666666-7777-8888-9999-000000000000', pci: '0000:65:00.0', model: 'NVIDIA Fake T4' },
];
/** The driver's libraries the tree holds (real ELF shared objects, so ldconfig lists them), and one that is not the driver's. */
export const FAKE_LIBRARIES = ['libcuda', 'libnvidia-ml', 'libnvidia-ptxjitcompiler'];
export const LIB_DIR = '/usr/lib/x86_64-linux-gnu';

export interface FakeNvidiaTree {
  root: string;
  remove(): void;
}

/**
 * A fake NVIDIA driver tree under a new folder of `parent`, laid out as on a host: character devices
 * (mknod) in dev/, proc/driver/nvidia/ (version, and each GPU's information unless `procGpus` is
 * false), the driver's libraries in the linker cache (etc/ld.so.cache made by `ldconfig -r`), and a
 * `nvidia-smi` script in usr/bin printing `-L` output. Nothing in it is a driver: opening a device
 * node fails on a host without one.
 */
export function fakeNvidiaTree(parent: string, opts: { procGpus?: boolean } = {}): FakeNvidiaTree {
  const root = mkdtempSync(join(parent, 'sk-nvidia-'));
  chmodSync(root, 0o755);
  const at = (p: string) => join(root, p);
  for (const d of ['dev', 'proc/driver/nvidia/gpus', 'etc', `.${LIB_DIR}`, 'usr/bin']) mkdirSync(at(d), { recursive: true });
  const mknod = (name: string, major: number, minor: number) => execFileSync('mknod', ['-m', '666', at(`dev/${name}`), 'c', String(major), String(minor)]);
  for (const g of FAKE_GPUS) mknod(`nvidia${g.index}`, NVIDIA_MAJOR, g.index);
  mknod('nvidiactl', NVIDIA_MAJOR, 255);
  mknod('nvidia-uvm', UVM_MAJOR, 0);
  mknod('nvidia-uvm-tools', UVM_MAJOR, 1);
  writeFileSync(at('proc/driver/nvidia/version'), `NVRM version: NVIDIA UNIX x86_64 Kernel Module  ${DRIVER_VERSION}  Sat Aug 19 01:15:15 UTC 2023\nGCC version:  gcc version 12.2.0 (Debian 12.2.0-14)\n`);
  if (opts.procGpus !== false) {
    for (const g of FAKE_GPUS) {
      mkdirSync(at(`proc/driver/nvidia/gpus/${g.pci}`));
      writeFileSync(at(`proc/driver/nvidia/gpus/${g.pci}/information`), `Model: \t\t ${g.model}\nIRQ:   \t\t 120\nGPU UUID: \t ${g.uuid}\nVideo BIOS: \t 90.04.a7.00.01\nBus Type: \t PCIe\nDMA Size: \t 47 bits\nDMA Mask: \t 0x7fffffffffff\nBus Location: \t ${g.pci}\nDevice Minor: \t ${g.index}\nGPU Excluded:\t No\n`);
    }
  }
  const src = at('lib.c');
  writeFileSync(src, 'int fake_driver_symbol(void) { return 42; }\n');
  for (const lib of [...FAKE_LIBRARIES, 'libnotthedriver']) {
    const file = `${lib}.so.${DRIVER_VERSION}`;
    execFileSync('cc', ['-shared', '-fPIC', `-Wl,-soname,${lib}.so.1`, '-o', at(`.${LIB_DIR}/${file}`), src]);
    symlinkSync(file, at(`.${LIB_DIR}/${lib}.so.1`));
  }
  rmSync(src);
  writeFileSync(at('etc/ld.so.conf'), `${LIB_DIR}\n`);
  execFileSync('ldconfig', ['-r', root]);
  const smi = at('usr/bin/nvidia-smi');
  writeFileSync(smi, `#!/bin/sh\n[ "$1" = -L ] || { echo "fake nvidia-smi: only -L" >&2; exit 2; }\n${FAKE_GPUS.map((g) => `echo 'GPU ${g.index}: ${g.model} (UUID: ${g.uuid})'`).join('\n')}\n`);
  chmodSync(smi, 0o755);
  return { root, remove: () => rmSync(root, { recursive: true, force: true }) };
}
