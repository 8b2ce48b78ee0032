// The translation of a Docker-format seccomp profile into the OCI spec's linux.seccomp: this
// machine's architecture, rules kept or dropped by the container's capabilities and the kernel,
// argument filters and errno values carried over; a bad profile named; the result cached by content.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tspod-seccomp-'));
process.env.TSPOD_RUNTIME_DIR = dir;
const { seccompFor, parseSecurityOpts } = await import('../../src/runtime/seccomp.js');

const profile = {
  defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 38,
  archMap: [{ architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X86', 'SCMP_ARCH_X32'] }, { architecture: 'SCMP_ARCH_AARCH64', subArchitectures: ['SCMP_ARCH_ARM'] }],
  syscalls: [
    { names: ['read', 'write'], action: 'SCMP_ACT_ALLOW' },
    { names: ['ptrace'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_SYS_PTRACE'] } },
    { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 0, op: 'SCMP_CMP_EQ' }], excludes: { caps: ['CAP_SYS_ADMIN'] } },
    { names: ['arch_prctl'], action: 'SCMP_ACT_ALLOW', includes: { arches: ['amd64'] } },
    { names: ['arm_fadvise64_64'], action: 'SCMP_ACT_ALLOW', includes: { arches: ['arm', 'arm64'] } },
    { names: ['future_call'], action: 'SCMP_ACT_ALLOW', includes: { minKernel: '99.0' } },
    { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 },
  ],
};
const file = path.join(dir, 'profile.json');
fs.writeFileSync(file, JSON.stringify(profile));
type Spec = { defaultAction: string; defaultErrnoRet?: number; architectures: string[]; syscalls: Array<{ names: string[]; action: string; errnoRet?: number; args?: unknown[] }> };
const names = (s: Spec) => s.syscalls.flatMap((r) => r.names);

test('this machine\'s architecture and its sub-architectures, the x32 one only where the kernel runs it', () => {
  const s = seccompFor(file, []) as Spec;
  if (process.arch !== 'x64') return;
  assert.is(s.architectures[0], 'SCMP_ARCH_X86_64');
  assert.ok(s.architectures.includes('SCMP_ARCH_X86'));
  assert.is(s.defaultAction, 'SCMP_ACT_ERRNO');
  assert.is(s.defaultErrnoRet, 38);
  assert.ok(names(s).includes('arch_prctl'));
  assert.not.ok(names(s).includes('arm_fadvise64_64'));
});

test('rules follow the capabilities: includes need them all, excludes drop with any; args and errnoRet are kept', () => {
  const plain = seccompFor(file, ['CAP_CHOWN']) as Spec;
  assert.not.ok(names(plain).includes('ptrace'));
  assert.equal(plain.syscalls.find((r) => r.names.includes('personality'))?.args, [{ index: 0, value: 0, op: 'SCMP_CMP_EQ' }]);
  assert.is(plain.syscalls.find((r) => r.names.includes('clone3'))?.errnoRet, 38);
  const admin = seccompFor(file, ['CAP_SYS_PTRACE', 'CAP_SYS_ADMIN']) as Spec;
  assert.ok(names(admin).includes('ptrace'));
  assert.not.ok(names(admin).includes('personality'));
  assert.not.ok(names(admin).includes('future_call'), 'a rule for a later kernel is left out');
});

test('unconfined is no filter; a missing or broken profile is named; the translation is cached by content', () => {
  assert.is(seccompFor('unconfined', []), undefined);
  assert.throws(() => seccompFor(path.join(dir, 'none.json'), []), /seccomp profile .*none\.json: no such file or directory/);
  fs.writeFileSync(path.join(dir, 'broken.json'), '{');
  assert.throws(() => seccompFor(path.join(dir, 'broken.json'), []), /seccomp profile .*broken\.json: /);
  fs.writeFileSync(path.join(dir, 'other.json'), '{"x":1}');
  assert.throws(() => seccompFor(path.join(dir, 'other.json'), []), /has no defaultAction/);
  const before = fs.readdirSync(path.join(dir, 'seccomp')).length;
  seccompFor(file, ['CAP_CHOWN']);
  assert.is(fs.readdirSync(path.join(dir, 'seccomp')).length, before, 'the same profile and capabilities: read from the cache');
  fs.writeFileSync(file, JSON.stringify({ ...profile, defaultErrnoRet: 1 }));
  assert.is((seccompFor(file, ['CAP_CHOWN']) as Spec).defaultErrnoRet, 1, 'a changed profile is translated again');
});

test('--security-opt: the kinds tspod knows, mask/unmask paths; anything else refused', () => {
  assert.equal(parseSecurityOpts(['no-new-privileges', 'label=disable', 'mask=/a:/b', 'unmask=ALL', 'seccomp=unconfined']), { noNewPrivileges: true, mask: ['/a', '/b'], unmask: ['ALL'], seccomp: 'unconfined' });
  assert.is(parseSecurityOpts(['no-new-privileges=false']).noNewPrivileges, false);
  assert.throws(() => parseSecurityOpts(['apparmor=x']), /invalid --security-opt "apparmor=x"/);
  assert.throws(() => parseSecurityOpts(['mask=rel']), /mask takes absolute paths/);
});

test('the built-in rules, used where containers-common is not installed, filter as its seccomp.json does', async () => {
  const { builtinProfile } = await import('../../src/runtime/seccomp-builtin.js');
  const installed = '/usr/share/containers/seccomp.json';
  if (!fs.existsSync(installed)) return;
  fs.writeFileSync(path.join(dir, 'builtin.json'), JSON.stringify(builtinProfile()));
  const norm = (s: Spec) => [...new Set(s.syscalls.flatMap((r) => r.names.map((n) => JSON.stringify([n, r.action, r.errnoRet ?? null, r.args ?? []]))))].sort();
  for (const caps of [[], ['CAP_CHOWN', 'CAP_KILL'], ['CAP_SYS_ADMIN', 'CAP_SYS_PTRACE', 'CAP_AUDIT_WRITE'], ['CAP_SYS_TIME', 'CAP_DAC_READ_SEARCH', 'CAP_SYS_MODULE']]) {
    const a = seccompFor(installed, caps) as Spec, b = seccompFor(path.join(dir, 'builtin.json'), caps) as Spec;
    assert.equal(norm(b), norm(a), caps.join(','));
    assert.equal(b.architectures, a.architectures);
    assert.is(b.defaultErrnoRet, a.defaultErrnoRet);
  }
});

test.after(() => fs.rmSync(dir, { recursive: true, force: true }));
test.run();
