import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';

/** What sifkube could leave on the host: each entry is one object, as a readable line. */
export type HostSnapshot = Set<string>;

function safe(fn: () => string[]): string[] {
  try {
    return fn();
  } catch {
    return [];
  }
}

function mounts(): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((l) => /sifkube/.test(l))
    .map((l) => `mount ${l.split(' ')[4]}`);
}

function netns(): string[] {
  const dir = '/run/netns';
  return existsSync(dir) ? readdirSync(dir).map((n) => `netns ${n}`) : [];
}

function links(): string[] {
  const out = execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' });
  return out
    .split('\n')
    .map((l) => l.split(': ')[1]?.split('@')[0])
    .filter((n): n is string => !!n && n.startsWith('sk'))
    .map((n) => `link ${n}`);
}

function loops(): string[] {
  return readdirSync('/sys/block')
    .filter((d) => d.startsWith('loop') && existsSync(`/sys/block/${d}/loop/backing_file`))
    .map((d) => `loop ${d} ${readFileSync(`/sys/block/${d}/loop/backing_file`, 'utf8').trim()}`);
}

function cgroups(): string[] {
  const out: string[] = [];
  const base = '/sys/fs/cgroup';
  const roots = [base, ...readdirSync(base).map((d) => `${base}/${d}`)];
  for (const r of roots) {
    for (const d of safe(() => readdirSync(r))) {
      if (d.startsWith('sifkube')) out.push(`cgroup ${r}/${d}`);
    }
  }
  return out;
}

function processes(): string[] {
  const mine = new Set<number>();
  for (let pid = process.pid; pid > 1; ) {
    mine.add(pid);
    const stat = safe(() => [readFileSync(`/proc/${pid}/stat`, 'utf8')])[0];
    if (!stat) break;
    pid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  }
  const out: string[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d) || mine.has(Number(d))) continue;
    const cmd = safe(() => [readFileSync(`/proc/${d}/cmdline`, 'utf8').replace(/\0/g, ' ').trim()])[0];
    if (cmd && /sifkube|kubelet|etcd|kube-apiserver|containerd|registry serve|docker-registry|busybox/.test(cmd)) {
      out.push(`process ${d} ${cmd.slice(0, 120)}`);
    }
  }
  return out;
}

export function hostSnapshot(): HostSnapshot {
  return new Set([...safe(mounts), ...safe(netns), ...safe(links), ...safe(loops), ...safe(cgroups), ...safe(processes)]);
}

/** Objects present in `after` but not in `before`. */
export function diffSnapshots(before: HostSnapshot, after: HostSnapshot): string[] {
  return [...after].filter((x) => !before.has(x));
}
