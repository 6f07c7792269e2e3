import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidConfigError, NotSupportedError } from '../errors.js';
import { CAPABILITIES, IOPRIO_CLASSES, PERSONALITY_DOMAINS, RLIMITS, SCHED_FLAGS, SCHED_POLICIES } from './constants.js';
import { cpuListError } from './cpu-list.js';
import { HOOK_KINDS, NAMESPACE_TYPES, type Process, type Spec } from './types.js';

type Json = Record<string, unknown>;

/**
 * Checks a parsed config.json against runtime-spec 1.0–1.2 and returns it typed. Every failure names
 * the field; parts the runtime cannot honour on this host are refused, never ignored.
 */
export function validateSpec(raw: unknown, file = 'config.json'): Spec {
  const fail = (field: string, reason: string): never => {
    throw new InvalidConfigError(file, field, reason);
  };
  const obj = (v: unknown, field: string): Json => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(field, 'must be an object');
    return v as Json;
  };
  const str = (v: unknown, field: string): string => (typeof v === 'string' ? v : fail(field, 'must be a string'));
  const int = (v: unknown, field: string, min = -(2 ** 53), max = 2 ** 64): number =>
    typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max ? v : fail(field, `must be an integer from ${min} to ${max}`);
  const strs = (v: unknown, field: string): string[] =>
    Array.isArray(v) && v.every((s) => typeof s === 'string') ? (v as string[]) : fail(field, 'must be an array of strings');
  const arr = (v: unknown, field: string): unknown[] => (Array.isArray(v) ? v : fail(field, 'must be an array'));
  const abs = (v: unknown, field: string): string => {
    const s = str(v, field);
    return s.startsWith('/') ? s : fail(field, `${JSON.stringify(s)} must be an absolute path`);
  };
  const env = (v: unknown, field: string): void => {
    strs(v, field).forEach((e, i) => {
      if (!/^[^=]+=/.test(e)) fail(`${field}[${i}]`, `${JSON.stringify(e)} must look like KEY=value`);
    });
  };
  const mappings = (v: unknown, field: string): void => {
    arr(v, field).forEach((m, i) => {
      const o = obj(m, `${field}[${i}]`);
      for (const k of ['containerID', 'hostID']) int(o[k], `${field}[${i}].${k}`, 0, 2 ** 32 - 1);
      int(o.size, `${field}[${i}].size`, 1, 2 ** 32 - 1);
    });
  };
  const scheduler = (s: Json): void => {
    const policy = str(s.policy, 'process.scheduler.policy');
    if (!Object.hasOwn(SCHED_POLICIES, policy)) fail('process.scheduler.policy', `${policy} is not a policy (${Object.keys(SCHED_POLICIES).join(', ')})`);
    if (policy === 'SCHED_ISO') fail('process.scheduler.policy', 'SCHED_ISO is not implemented by Linux: use SCHED_OTHER, SCHED_BATCH, SCHED_IDLE, SCHED_FIFO, SCHED_RR or SCHED_DEADLINE');
    if (s.nice !== undefined) int(s.nice, 'process.scheduler.nice', -20, 19);
    const rt = policy === 'SCHED_FIFO' || policy === 'SCHED_RR';
    const priority = s.priority === undefined ? 0 : int(s.priority, 'process.scheduler.priority');
    if (rt && (priority < 1 || priority > 99)) fail('process.scheduler.priority', `${policy} needs a priority from 1 to 99`);
    if (!rt && priority !== 0) fail('process.scheduler.priority', `only SCHED_FIFO and SCHED_RR have a priority; ${policy} needs 0 or none`);
    if (s.flags !== undefined) {
      strs(s.flags, 'process.scheduler.flags').forEach((f, i) => {
        if (!Object.hasOwn(SCHED_FLAGS, f)) fail(`process.scheduler.flags[${i}]`, `${f} is not a scheduler flag (${Object.keys(SCHED_FLAGS).join(', ')})`);
      });
    }
    for (const k of ['runtime', 'deadline', 'period']) {
      if (s[k] === undefined) continue;
      int(s[k], `process.scheduler.${k}`, 0);
      if (s[k] !== 0 && policy !== 'SCHED_DEADLINE') fail(`process.scheduler.${k}`, 'only SCHED_DEADLINE has a runtime, deadline and period');
    }
  };

  const spec = obj(raw, '(top level)');
  const version = str(spec.ociVersion, 'ociVersion');
  if (!/^1\.[0-2]\.\d+(-[\w.+-]+)?$/.test(version)) fail('ociVersion', `${version} is not a runtime-spec version this runtime reads (1.0.0 to 1.2.x)`);
  const root = obj(spec.root, 'root');
  str(root.path, 'root.path');
  if (root.path === '') fail('root.path', 'must not be empty');
  if (root.readonly !== undefined && typeof root.readonly !== 'boolean') fail('root.readonly', 'must be true or false');
  for (const k of ['hostname', 'domainname'] as const) if (spec[k] !== undefined) str(spec[k], k);
  if (spec.annotations !== undefined) {
    for (const [k, v] of Object.entries(obj(spec.annotations, 'annotations'))) str(v, `annotations.${k}`);
  }

  if (spec.process !== undefined) {
    const p = obj(spec.process, 'process');
    const args = strs(p.args, 'process.args');
    if (args.length === 0) fail('process.args', 'must name at least the program to run');
    abs(p.cwd, 'process.cwd');
    if (p.env !== undefined) env(p.env, 'process.env');
    const u = obj(p.user, 'process.user');
    int(u.uid, 'process.user.uid', 0, 2 ** 32 - 2);
    int(u.gid, 'process.user.gid', 0, 2 ** 32 - 2);
    if (u.umask !== undefined) int(u.umask, 'process.user.umask', 0, 0o777);
    if (u.additionalGids !== undefined) arr(u.additionalGids, 'process.user.additionalGids').forEach((g, i) => int(g, `process.user.additionalGids[${i}]`, 0, 2 ** 32 - 2));
    if (u.username !== undefined) throw new NotSupportedError('process.user.username (a Windows field): use uid and gid');
    if (p.terminal !== undefined && typeof p.terminal !== 'boolean') fail('process.terminal', 'must be true or false');
    if (p.consoleSize !== undefined) {
      const c = obj(p.consoleSize, 'process.consoleSize');
      int(c.height, 'process.consoleSize.height', 0, 65535);
      int(c.width, 'process.consoleSize.width', 0, 65535);
    }
    if (p.capabilities !== undefined) {
      const caps = obj(p.capabilities, 'process.capabilities');
      for (const [set, list] of Object.entries(caps)) {
        if (!['bounding', 'effective', 'inheritable', 'permitted', 'ambient'].includes(set)) fail(`process.capabilities.${set}`, 'is not a capability set (bounding, effective, inheritable, permitted, ambient)');
        strs(list, `process.capabilities.${set}`).forEach((c, i) => {
          if (!(CAPABILITIES as readonly string[]).includes(c)) fail(`process.capabilities.${set}[${i}]`, `${c} is not a Linux capability name (e.g. CAP_CHOWN)`);
        });
      }
    }
    if (p.rlimits !== undefined) {
      arr(p.rlimits, 'process.rlimits').forEach((r, i) => {
        const o = obj(r, `process.rlimits[${i}]`);
        const t = str(o.type, `process.rlimits[${i}].type`);
        if (!(RLIMITS as readonly string[]).includes(t)) fail(`process.rlimits[${i}].type`, `${t} is not an RLIMIT_* name`);
        const soft = int(o.soft, `process.rlimits[${i}].soft`, 0);
        const hard = int(o.hard, `process.rlimits[${i}].hard`, 0);
        if (soft > hard) fail(`process.rlimits[${i}]`, `soft limit ${soft} is above hard limit ${hard}`);
      });
    }
    if (p.noNewPrivileges !== undefined && typeof p.noNewPrivileges !== 'boolean') fail('process.noNewPrivileges', 'must be true or false');
    if (p.oomScoreAdj !== undefined) int(p.oomScoreAdj, 'process.oomScoreAdj', -1000, 1000);
    if (p.apparmorProfile) throw new NotSupportedError(`process.apparmorProfile ${String(p.apparmorProfile)}: this host has no AppArmor; remove the field`);
    if (p.selinuxLabel) throw new NotSupportedError(`process.selinuxLabel ${String(p.selinuxLabel)}: this host has no SELinux; remove the field`);
    if (p.ioPriority !== undefined) {
      const io = obj(p.ioPriority, 'process.ioPriority');
      const c = str(io.class, 'process.ioPriority.class');
      if (!Object.hasOwn(IOPRIO_CLASSES, c)) fail('process.ioPriority.class', `${c} is not an I/O class (${Object.keys(IOPRIO_CLASSES).join(', ')})`);
      int(io.priority, 'process.ioPriority.priority', 0, 7);
    }
    if (p.scheduler !== undefined) scheduler(obj(p.scheduler, 'process.scheduler'));
    if (p.execCPUAffinity !== undefined) {
      const a = obj(p.execCPUAffinity, 'process.execCPUAffinity');
      for (const k of ['initial', 'final']) {
        if (a[k] === undefined) continue;
        const why = cpuListError(str(a[k], `process.execCPUAffinity.${k}`));
        if (why) fail(`process.execCPUAffinity.${k}`, why);
      }
    }
  }

  const idmapsWithoutMappings: number[] = [];
  if (spec.mounts !== undefined) {
    arr(spec.mounts, 'mounts').forEach((m, i) => {
      const o = obj(m, `mounts[${i}]`);
      abs(o.destination, `mounts[${i}].destination`);
      if (o.type !== undefined) str(o.type, `mounts[${i}].type`);
      if (o.source !== undefined) str(o.source, `mounts[${i}].source`);
      const opts = o.options === undefined ? [] : strs(o.options, `mounts[${i}].options`);
      const bind = o.type === 'bind' || opts.includes('bind') || opts.includes('rbind');
      for (const k of ['uidMappings', 'gidMappings']) if (o[k] !== undefined) mappings(o[k], `mounts[${i}].${k}`);
      if ((o.uidMappings === undefined) !== (o.gidMappings === undefined)) {
        fail(`mounts[${i}].${o.uidMappings === undefined ? 'uidMappings' : 'gidMappings'}`, 'uidMappings and gidMappings of a mount go together: give both');
      }
      // As runc: mappings without idmap/ridmap imply idmap.
      if (o.uidMappings !== undefined || opts.includes('idmap') || opts.includes('ridmap')) {
        if (!bind) fail(`mounts[${i}].options`, 'an idmapped mount (idmap, ridmap or uidMappings) must be a bind mount: add "bind" or "rbind"');
        if (o.uidMappings === undefined) idmapsWithoutMappings.push(i);
      }
      if (bind && !o.source) fail(`mounts[${i}].source`, 'a bind mount needs a source');
      if (!bind && !o.type) fail(`mounts[${i}].type`, 'a mount that is not a bind needs a filesystem type');
    });
  }

  if (spec.hooks !== undefined) {
    const hooks = obj(spec.hooks, 'hooks');
    for (const [kind, list] of Object.entries(hooks)) {
      if (!(HOOK_KINDS as readonly string[]).includes(kind)) fail(`hooks.${kind}`, `is not a hook kind (${HOOK_KINDS.join(', ')})`);
      arr(list, `hooks.${kind}`).forEach((h, i) => {
        const o = obj(h, `hooks.${kind}[${i}]`);
        abs(o.path, `hooks.${kind}[${i}].path`);
        if (o.args !== undefined) strs(o.args, `hooks.${kind}[${i}].args`);
        if (o.env !== undefined) env(o.env, `hooks.${kind}[${i}].env`);
        if (o.timeout !== undefined) int(o.timeout, `hooks.${kind}[${i}].timeout`, 1);
      });
    }
  }

  const seen = new Set<string>();
  if (spec.linux !== undefined) {
    const l = obj(spec.linux, 'linux');
    if (l.namespaces !== undefined) {
      arr(l.namespaces, 'linux.namespaces').forEach((n, i) => {
        const o = obj(n, `linux.namespaces[${i}]`);
        const t = str(o.type, `linux.namespaces[${i}].type`);
        if (!(NAMESPACE_TYPES as readonly string[]).includes(t)) fail(`linux.namespaces[${i}].type`, `${t} is not a namespace type (${NAMESPACE_TYPES.join(', ')})`);
        if (seen.has(t)) fail(`linux.namespaces[${i}].type`, `namespace ${t} is listed twice`);
        seen.add(t);
        if (o.path !== undefined) abs(o.path, `linux.namespaces[${i}].path`);
      });
    }
    for (const k of ['uidMappings', 'gidMappings']) if (l[k] !== undefined) mappings(l[k], `linux.${k}`);
    if ((l.uidMappings || l.gidMappings) && !seen.has('user')) fail('linux.uidMappings', 'id mappings need a user namespace in linux.namespaces');
    if (spec.hostname && !seen.has('uts')) fail('hostname', 'setting the hostname needs a uts namespace in linux.namespaces');
    if (spec.domainname && !seen.has('uts')) fail('domainname', 'setting the domainname needs a uts namespace in linux.namespaces');
    if (l.timeOffsets !== undefined) {
      if (!seen.has('time')) fail('linux.timeOffsets', 'time offsets need a time namespace in linux.namespaces');
      for (const [clock, off] of Object.entries(obj(l.timeOffsets, 'linux.timeOffsets'))) {
        if (clock !== 'monotonic' && clock !== 'boottime') fail(`linux.timeOffsets.${clock}`, 'only monotonic and boottime clocks have offsets');
        const o = obj(off, `linux.timeOffsets.${clock}`);
        if (o.secs !== undefined) int(o.secs, `linux.timeOffsets.${clock}.secs`);
        if (o.nanosecs !== undefined) int(o.nanosecs, `linux.timeOffsets.${clock}.nanosecs`, 0, 999999999);
      }
    }
    if (l.devices !== undefined) {
      arr(l.devices, 'linux.devices').forEach((d, i) => {
        const o = obj(d, `linux.devices[${i}]`);
        const t = str(o.type, `linux.devices[${i}].type`);
        if (!['c', 'b', 'u', 'p'].includes(t)) fail(`linux.devices[${i}].type`, `${t} is not a device type (c, b, u or p)`);
        abs(o.path, `linux.devices[${i}].path`);
        if (t !== 'p') {
          int(o.major, `linux.devices[${i}].major`, 0);
          int(o.minor, `linux.devices[${i}].minor`, 0);
        }
        for (const k of ['fileMode', 'uid', 'gid']) if (o[k] !== undefined) int(o[k], `linux.devices[${i}].${k}`, 0);
      });
    }
    if (l.rootfsPropagation !== undefined) {
      const p = str(l.rootfsPropagation, 'linux.rootfsPropagation');
      if (!['private', 'rprivate', 'slave', 'rslave', 'shared', 'rshared', 'unbindable', 'runbindable'].includes(p)) fail('linux.rootfsPropagation', `${p} is not a propagation (private, slave, shared, unbindable, with or without r)`);
    }
    if (l.sysctl !== undefined) {
      for (const [k, v] of Object.entries(obj(l.sysctl, 'linux.sysctl'))) {
        str(v, `linux.sysctl.${k}`);
        if (!/^[\w.-]+(\/[\w.-]+)*$/.test(k) || k.includes('..')) fail(`linux.sysctl.${k}`, 'is not a sysctl name');
      }
    }
    for (const k of ['maskedPaths', 'readonlyPaths']) if (l[k] !== undefined) strs(l[k], `linux.${k}`).forEach((p, i) => abs(p, `linux.${k}[${i}]`));
    if (l.cgroupsPath !== undefined) str(l.cgroupsPath, 'linux.cgroupsPath');
    if (l.resources !== undefined) obj(l.resources, 'linux.resources');
    if (l.seccomp !== undefined) obj(l.seccomp, 'linux.seccomp');
    if (l.mountLabel) throw new NotSupportedError(`linux.mountLabel ${String(l.mountLabel)}: this host has no SELinux; remove the field`);
    if (l.intelRdt !== undefined) throw new NotSupportedError('linux.intelRdt');
    if (l.personality !== undefined) {
      const p = obj(l.personality, 'linux.personality');
      const d = str(p.domain, 'linux.personality.domain');
      if (!Object.hasOwn(PERSONALITY_DOMAINS, d)) fail('linux.personality.domain', `${d} is not an execution domain (${Object.keys(PERSONALITY_DOMAINS).join(', ')})`);
      if (p.flags !== undefined && strs(p.flags, 'linux.personality.flags').length > 0) fail('linux.personality.flags', 'the runtime-spec defines no personality flags yet: remove them');
    }
  }
  for (const i of idmapsWithoutMappings) {
    if (!seen.has('user')) fail(`mounts[${i}].uidMappings`, 'an idmapped mount needs uidMappings and gidMappings, or a user namespace in linux.namespaces whose mappings it takes');
  }
  return spec as unknown as Spec;
}

/** Reads BUNDLE/config.json and validates it. */
export function loadConfig(bundle: string): Spec {
  const file = join(bundle, 'config.json');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new InvalidConfigError(file, '(file)', `cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)}); is ${bundle} an OCI bundle?`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new InvalidConfigError(file, '(file)', `is not valid JSON (${(err as Error).message})`);
  }
  return validateSpec(raw, file);
}

/** Validates a process.json (`exec --process`) with the same rules as config.json's process. */
export function validateProcess(raw: unknown, file = 'process.json'): Process {
  return validateSpec({ ociVersion: '1.0.0', root: { path: '/' }, process: raw }, file).process!;
}
