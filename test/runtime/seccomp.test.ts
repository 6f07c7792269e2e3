import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { helperPath } from '../../src/runtime/native.js';
import { compileSeccomp, runtimeDefaultSeccomp, SeccompProfileError, SeccompUnsupportedError, SYSCALLS_X86_64, type LinuxSeccomp } from '../../src/runtime/seccomp/index.js';
import { outcome, runcRun, type Outcome } from '../helpers/runc-oracle.js';

/** Runs busybox `args` under the compiled profile with sifkube-helper seccomp-exec, in a scratch folder. */
function ours(profile: LinuxSeccomp, args: string[]): Outcome {
  const c = compileSeccomp(profile);
  const cwd = mkdtempSync(join(tmpdir(), 'sk-seccomp-'));
  try {
    const r = spawnSync(helperPath(), ['seccomp-exec', String(c.flags), '--', '/bin/busybox', ...args], { input: c.program, cwd, encoding: 'utf8' });
    return outcome(r);
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
}

/** The same profile and command under sifkube and under runc: same exit status and messages. */
function sameAsRunc(profile: LinuxSeccomp, args: string[]): Outcome {
  const mine = ours(profile, args);
  const theirs = runcRun(['/bin/busybox', ...args], { seccomp: profile });
  assert.equal(mine, theirs, `busybox ${args.join(' ')}`);
  return mine;
}

const allow = (syscalls: LinuxSeccomp['syscalls']): LinuxSeccomp => ({ defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'], syscalls });
const everythingBut = (...deny: string[]) => [{ names: Object.keys(SYSCALLS_X86_64).filter((n) => !deny.includes(n)), action: 'SCMP_ACT_ALLOW' }];

test('denying mkdir with errnoRet EPERM fails mkdir with "Operation not permitted", as under runc', () => {
  const r = sameAsRunc(allow([{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }]), ['mkdir', 'd']);
  assert.is(r.status, 1);
  assert.match(r.stderr, /can't create directory 'd': Operation not permitted/);
});

test('errnoRet picks the errno (EACCES), as under runc', () => {
  const r = sameAsRunc(allow([{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 }]), ['mkdir', 'd']);
  assert.match(r.stderr, /Permission denied/);
});

test('an argument condition (personality arg0 == PER_LINUX32) denies only that call, as under runc', () => {
  const profile = allow([{ names: ['personality'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 8, op: 'SCMP_CMP_EQ' }] }]);
  assert.is(sameAsRunc(profile, ['linux32', 'true']).status, 1);
  assert.is(sameAsRunc(profile, ['linux64', 'true']).status, 0);
});

test('64-bit arguments: a value differing only in the high word does not match', () => {
  const profile = allow([{ names: ['personality'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 0x1_0000_0008, op: 'SCMP_CMP_EQ' }] }]);
  assert.is(sameAsRunc(profile, ['linux32', 'true']).status, 0);
});

test('comparison operators NE/LT/LE/GE/GT/MASKED_EQ on umask agree with runc', () => {
  const cases: [string, number, number | undefined][] = [
    ['SCMP_CMP_NE', 0o22, undefined],
    ['SCMP_CMP_LT', 0o22, undefined],
    ['SCMP_CMP_LE', 0o22, undefined],
    ['SCMP_CMP_GE', 0o22, undefined],
    ['SCMP_CMP_GT', 0o22, undefined],
    ['SCMP_CMP_MASKED_EQ', 0o7, 0o7],
  ];
  const seen = new Set<number>();
  for (const [op, value, valueTwo] of cases) {
    const profile = allow([{ names: ['umask'], action: 'SCMP_ACT_KILL_PROCESS', args: [{ index: 0, value, ...(valueTwo !== undefined ? { valueTwo } : {}), op }] }]);
    for (const mask of ['011', '022', '077']) seen.add(sameAsRunc(profile, ['sh', '-c', `umask ${mask}; echo alive`]).status);
  }
  assert.equal([...seen].sort(), [0, 159], 'some calls matched (SIGSYS), some did not');
});

test('two conditions on the same argument are alternatives (runc adds them as separate rules)', () => {
  const profile = allow([
    {
      names: ['personality'],
      action: 'SCMP_ACT_ERRNO',
      args: [
        { index: 0, value: 8, op: 'SCMP_CMP_EQ' },
        { index: 0, value: 0, op: 'SCMP_CMP_EQ' },
      ],
    },
  ]);
  assert.is(sameAsRunc(profile, ['linux32', 'true']).status, 1);
  assert.is(sameAsRunc(profile, ['linux64', 'true']).status, 1);
});

test('SCMP_ACT_TRAP raises SIGSYS, as under runc', () => {
  assert.is(sameAsRunc(allow([{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_TRAP' }]), ['mkdir', 'd']).status, 159);
});

test('an unconditional rule and an argument rule on one syscall combine as under runc', () => {
  const mixed = allow([
    { names: ['personality'], action: 'SCMP_ACT_ERRNO', errnoRet: 13, args: [{ index: 0, value: 8, op: 'SCMP_CMP_EQ' }] },
    { names: ['personality'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 },
  ]);
  assert.match(sameAsRunc(mixed, ['linux32', 'true']).stderr, /Operation not permitted/);
  assert.match(sameAsRunc(mixed, ['linux64', 'true']).stderr, /Operation not permitted/);
  const reversed = { ...mixed, syscalls: [...(mixed.syscalls ?? [])].reverse() };
  assert.match(sameAsRunc(reversed, ['linux32', 'true']).stderr, /Operation not permitted/);
});

test('default action errno with an allow list: only the unlisted syscall fails, as under runc', () => {
  const r = sameAsRunc({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: everythingBut('mkdir', 'mkdirat') }, ['mkdir', 'd']);
  assert.match(r.stderr, /Operation not permitted/);
});

test('default action kill: the unlisted syscall kills the process with SIGSYS, as under runc', () => {
  assert.is(sameAsRunc({ defaultAction: 'SCMP_ACT_KILL_PROCESS', syscalls: everythingBut('mkdir', 'mkdirat') }, ['mkdir', 'd']).status, 159);
  assert.is(sameAsRunc({ defaultAction: 'SCMP_ACT_KILL', syscalls: everythingBut('mkdir', 'mkdirat') }, ['mkdir', 'd']).status, 159);
});

test('default action log allows everything, as under runc', () => {
  assert.is(sameAsRunc({ defaultAction: 'SCMP_ACT_LOG', syscalls: [] }, ['mkdir', 'd']).status, 0);
});

test('flags TSYNC, LOG and SPEC_ALLOW go to seccomp(2) (runc 1.1 refuses flags, so no oracle)', () => {
  const profile = allow([{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO' }]);
  const flagged = { ...profile, flags: ['SECCOMP_FILTER_FLAG_TSYNC', 'SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW'] };
  assert.is(compileSeccomp(flagged).flags, 7);
  assert.match(ours(flagged, ['mkdir', 'd']).stderr, /Operation not permitted/);
  const c = compileSeccomp(profile);
  const r = spawnSync(helperPath(), ['seccomp-exec', '0x4000', '--', '/bin/busybox', 'true'], { input: c.program, encoding: 'utf8' });
  assert.is(r.status, 1, 'an unknown flag bit is refused by the kernel');
  assert.match(r.stderr, /flags 0x4000: Invalid argument/);
});

test('the RuntimeDefault profile: ordinary work runs, unshare and mount are refused, as under runc', () => {
  const profile = runtimeDefaultSeccomp(['CAP_CHOWN', 'CAP_KILL']);
  assert.ok(compileSeccomp(profile).program.length / 8 < 4096);
  const ok = sameAsRunc(profile, ['sh', '-c', 'mkdir d && echo hi > d/f && cat d/f']);
  assert.is(ok.stdout, 'hi');
  const denied = sameAsRunc(profile, ['unshare', '-m', 'true']);
  assert.match(denied.stderr, /Operation not permitted/);
});

test('RuntimeDefault resolves capabilities: CAP_SYS_ADMIN allows mount syscalls and drops the clone3 ENOSYS rule', () => {
  const names = (p: LinuxSeccomp) => (p.syscalls ?? []).flatMap((s) => s.names);
  const plain = runtimeDefaultSeccomp([]);
  const admin = runtimeDefaultSeccomp(['CAP_SYS_ADMIN']);
  assert.not.ok(names(plain).includes('mount'));
  assert.ok(names(admin).includes('mount'));
  assert.ok(plain.syscalls?.some((s) => s.names.includes('clone3') && s.errnoRet === 38));
  assert.not.ok(admin.syscalls?.some((s) => s.names.includes('clone3') && s.action === 'SCMP_ACT_ERRNO'));
  assert.equal(plain.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
});

test('a profile without the running architecture kills the first syscall', () => {
  assert.is(ours({ defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86'] }, ['true']).status, 128 + 31);
});

test('the syscall table is complete for x86_64', () => {
  assert.ok(Object.keys(SYSCALLS_X86_64).length > 360);
  assert.is(SYSCALLS_X86_64.read, 0);
  assert.is(SYSCALLS_X86_64.mkdir, 83);
  assert.is(SYSCALLS_X86_64.clone3, 435);
  assert.is(SYSCALLS_X86_64.fchmodat2, 452);
});

test('unknown syscall names are skipped with a warning', () => {
  const warnings: string[] = [];
  const c = compileSeccomp(allow([{ names: ['no_such_call', 'mkdir'], action: 'SCMP_ACT_ERRNO' }]), (w) => warnings.push(w));
  assert.equal(c.skipped, ['no_such_call']);
  assert.match(warnings[0], /no_such_call/);
});

test('bad profiles are refused with the field and the fix', () => {
  const bad = (p: LinuxSeccomp, re: RegExp, cls: new (...a: never[]) => Error = SeccompProfileError) => {
    try {
      compileSeccomp(p);
      assert.unreachable(`should refuse ${JSON.stringify(p)}`);
    } catch (e) {
      assert.instance(e, cls);
      assert.match((e as Error).message, re);
    }
  };
  bad({ defaultAction: 'SCMP_ACT_MAYBE' }, /defaultAction is an unknown action "SCMP_ACT_MAYBE": use one of/);
  bad(allow([{ names: ['mkdir'], action: 'ALLOW' }]), /syscalls\[0\]\.action is an unknown action/);
  bad(allow([{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO', args: [{ index: 6, value: 1, op: 'SCMP_CMP_EQ' }] }]), /syscalls\[0\]\.args\[0\]\.index is 6/);
  bad(allow([{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 1, op: 'SCMP_CMP_ABOUT' }] }]), /args\[0\]\.op is an unknown operator/);
  bad(allow([{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: -1, op: 'SCMP_CMP_EQ' }] }]), /value is -1: use an unsigned 64-bit integer/);
  bad({ defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_Z80'] }, /architectures has an unknown architecture "SCMP_ARCH_Z80"/);
  bad({ defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_FAST'] }, /flags has an unknown flag/);
  bad(allow([{ names: ['mkdir'], action: 'SCMP_ACT_NOTIFY' }]), /not supported yet: SCMP_ACT_NOTIFY/, SeccompUnsupportedError);
});

test('seccomp-exec refuses bad usage and a malformed filter clearly', () => {
  const usage = spawnSync(helperPath(), ['seccomp-exec', '0', 'true'], { encoding: 'utf8' });
  assert.is(usage.status, 2);
  assert.match(usage.stderr, /usage: sifkube-helper seccomp-exec FLAGS -- CMD/);
  const bad = spawnSync(helperPath(), ['seccomp-exec', '0', '--', 'true'], { input: Buffer.alloc(5), encoding: 'utf8' });
  assert.is(bad.status, 1);
  assert.match(bad.stderr, /loading a 5-byte filter.*Invalid argument/);
});

test.run();
