// tspod build as the unprivileged user, each result read back by running the built image and
// by its inspect: the instructions, ignore files, multi-stage with --target and COPY --from, a
// RUN's deletions as whiteouts, the cache (same id unchanged, an edit reruns from its COPY on,
// mtimes do not count, --no-cache), failures, and a built image pushed and run by Podman.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { getWorld, tspod, tspodCommand, TEST_USER } from '../fixtures/world.js';

const HOME = `/home/${TEST_USER}`;
const WORK = `/tmp/tspod-build-${process.pid}`;
const PODMAN_ROOT = `${HOME}/.cache/tspod-test-podman-build`;
let registry = '';
let alpine = '';

const ok = (args: string[], opts: { input?: string; cwd?: string; env?: Record<string, string> } = {}) => {
  const r = tspod(args, { ...opts, timeout: 300_000 });
  assert.is(r.status, 0, `${args.join(' ')}: ${r.stdout}\n${r.stderr}`);
  return r.stdout;
};
const inspect = (ref: string, fmt: string) => ok(['image', 'inspect', '--format', fmt, ref]).trim();

/** A context directory the test user can read, with these files (mode 0644 unless a number is given). */
function context(name: string, files: Record<string, string | [string, number]>): string {
  const dir = path.join(WORK, name);
  fs.rmSync(dir, { recursive: true, force: true });
  for (const [rel, v] of Object.entries(files)) {
    const [content, mode] = typeof v === 'string' ? [v, 0o644] : v;
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), content, { mode });
    fs.chmodSync(path.join(dir, rel), mode);
  }
  spawnSync('chmod', ['-R', 'a+rX', dir]);
  return dir;
}

test.before(async () => {
  ({ registry } = await getWorld());
  alpine = `${registry}/alpine:3.20`;
  fs.mkdirSync(WORK, { recursive: true });
  fs.chmodSync(WORK, 0o777);
  ok(['pull', '-q', alpine]);
});
test.after(() => {
  spawnSync('runuser', ['-u', TEST_USER, '--', 'podman', '--root', `${PODMAN_ROOT}/root`, '--runroot', `${PODMAN_ROOT}/run`, 'system', 'reset', '-f'], { cwd: '/' });
  fs.rmSync(PODMAN_ROOT, { recursive: true, force: true });
  fs.rmSync(WORK, { recursive: true, force: true });
});

test('the instructions: ARG scope, ENV, LABEL, WORKDIR, USER, EXPOSE, VOLUME, CMD/ENTRYPOINT, STOPSIGNAL, COPY --chown/--chmod/globs, heredocs, ADD of a tarball', () => {
  const tarDir = path.join(WORK, 'tarsrc');
  fs.mkdirSync(path.join(tarDir, 'pkg'), { recursive: true });
  fs.writeFileSync(path.join(tarDir, 'pkg/tool'), 'tool\n', { mode: 0o750 });
  const ctx = context('instructions', { 'app/a.js': 'a\n', 'app/b.js': 'b\n', 'app/c.txt': 'c\n', 'run.sh': ['#!/bin/sh\necho run\n', 0o755] });
  // A tarball with an owner and mode of its own, which ADD keeps.
  assert.is(spawnSync('tar', ['-czf', path.join(ctx, 'pkg.tar.gz'), '-C', tarDir, '--owner=123', '--group=456', 'pkg']).status, 0);
  fs.chmodSync(path.join(ctx, 'pkg.tar.gz'), 0o644);
  fs.writeFileSync(path.join(ctx, 'Containerfile'), `
ARG BASE=${alpine}
ARG ONLY_FROM=from-only
FROM $BASE
ARG VERSION=1.0
ARG ONLY_FROM
ENV APP_HOME=/srv/app \\
    GREETING="hello world"
LABEL version=$VERSION maintainer="a b"
WORKDIR $APP_HOME
WORKDIR sub
RUN adduser -D -u 1234 appuser && echo "v=$VERSION from=$ONLY_FROM" > /srv/args
COPY --chown=appuser:appuser app/*.js ./js/
COPY --chmod=0700 run.sh /usr/local/bin/
COPY <<EOF /srv/note
note for \${APP_HOME}
EOF
RUN <<EOS
set -e
echo heredoc-ran > /srv/heredoc
EOS
ADD pkg.tar.gz /opt/
USER appuser
EXPOSE 8080/tcp 53/udp
VOLUME /data
STOPSIGNAL SIGTERM
ENTRYPOINT ["/bin/sh", "-c"]
CMD ["echo $GREETING; id -u; pwd"]
`);
  ok(['build', '-q', '-t', 'b-instr', '--build-arg', 'VERSION=2.5', ctx]);
  assert.is(ok(['run', '--rm', 'b-instr']), 'hello world\n1234\n/srv/app/sub\n');
  const check = ok(['run', '--rm', '--user', 'root', 'b-instr', [
    'cat /srv/args /srv/note /srv/heredoc',
    'stat -c "%U:%G %n" /srv/app/sub/js/a.js /srv/app/sub/js/b.js',
    'test -e /srv/app/sub/js/c.txt || echo no-txt',
    'stat -c "%a %u:%g" /usr/local/bin/run.sh /opt/pkg/tool',
    'run.sh',
  ].join('; ')]);
  assert.is(check, 'v=2.5 from=from-only\nnote for /srv/app\nheredoc-ran\nappuser:appuser /srv/app/sub/js/a.js\nappuser:appuser /srv/app/sub/js/b.js\nno-txt\n700 0:0\n750 123:456\nrun\n');
  const env = JSON.parse(inspect('b-instr', '{{json .Config.Env}}')) as string[];
  assert.ok(env.includes('APP_HOME=/srv/app') && env.includes('GREETING=hello world'), env.join(','));
  assert.not.ok(env.some((e) => /^(VERSION|BASE|ONLY_FROM)=/.test(e)), `ARGs never reach Env: ${env.join(',')}`);
  assert.equal(JSON.parse(inspect('b-instr', '{{json .Config.Labels}}')), { version: '2.5', maintainer: 'a b' });
  assert.is(inspect('b-instr', '{{.Config.WorkingDir}} {{.Config.User}} {{.Config.StopSignal}}'), '/srv/app/sub appuser SIGTERM');
  assert.equal(Object.keys(JSON.parse(inspect('b-instr', '{{json .Config.ExposedPorts}}'))).sort(), ['53/udp', '8080/tcp']);
  assert.equal(Object.keys(JSON.parse(inspect('b-instr', '{{json .Config.Volumes}}'))), ['/data']);
  assert.equal(JSON.parse(inspect('b-instr', '{{json .Config.Entrypoint}}')), ['/bin/sh', '-c']);
});

test('.dockerignore with exceptions and a directory; .containerignore wins over it', () => {
  const ctx = context('ignore', {
    'Containerfile': `FROM ${alpine}\nCOPY . /ctx/\n`, 'keep.txt': 'k', 'drop.log': 'd', 'important.log': 'i', 'cache/x': 'x', 'src/deep/a.tmp': 't', 'src/deep/b.c': 'b',
    '.dockerignore': '# comment\n*.log\n!important.log\ncache/\n**/*.tmp\n',
  });
  ok(['build', '-q', '-t', 'b-ignore', ctx]);
  assert.is(ok(['run', '--rm', 'b-ignore', 'sh', '-c', 'cd /ctx && find . -type f | sort']), './.dockerignore\n./Containerfile\n./important.log\n./keep.txt\n./src/deep/b.c\n');
  fs.writeFileSync(path.join(ctx, '.containerignore'), 'keep.txt\n');
  fs.chmodSync(path.join(ctx, '.containerignore'), 0o644);
  ok(['build', '-q', '-t', 'b-ignore', ctx]);
  assert.match(ok(['run', '--rm', 'b-ignore', 'ls', '/ctx']), /drop\.log/);
  assert.not.match(ok(['run', '--rm', 'b-ignore', 'ls', '/ctx']), /keep\.txt/);
});

test('multi-stage: --target stops early, COPY --from a stage and from an image that must be pulled, unneeded stages skipped', () => {
  const ctx = context('stages', {
    'Containerfile': `FROM ${alpine} AS builder
RUN echo built > /artifact
FROM ${alpine} AS unused
RUN echo never-runs-for-the-final-target
FROM ${alpine}
COPY --from=builder /artifact /artifact
COPY --from=${registry}/alpine:3.19 /etc/alpine-release /old-release
CMD ["cat", "/artifact", "/old-release"]
`,
  });
  tspod(['rmi', '-f', `${registry}/alpine:3.19`]);
  const out = ok(['build', '-t', 'b-stages', ctx]);
  assert.not.match(out, /never-runs/, 'the unneeded stage did not run');
  assert.match(out, /\[1\/3\] STEP 1\/2: FROM/);
  assert.match(ok(['run', '--rm', 'b-stages']), /^built\n3\.19\.\d+\n$/);
  assert.is(ok(['image', 'exists', `${registry}/alpine:3.19`]), '');
  ok(['build', '-q', '--target', 'builder', '-t', 'b-builder', ctx]);
  assert.is(ok(['run', '--rm', 'b-builder', 'cat', '/artifact']), 'built\n');
  assert.is(tspod(['run', '--rm', 'b-builder', 'test', '-e', '/old-release']).status, 1);
});

test('a RUN that deletes base files leaves whiteouts: gone in the image, and for Podman after a push', () => {
  const ctx = context('whiteout', { 'Containerfile': `FROM ${alpine}\nRUN rm /etc/motd && rm -r /etc/apk/keys\nCMD ["sh", "-c", "test -e /etc/motd || echo motd-gone; test -e /etc/apk/keys || echo keys-gone"]\n` });
  ok(['build', '-q', '-t', 'b-whiteout', ctx]);
  assert.is(ok(['run', '--rm', 'b-whiteout']), 'motd-gone\nkeys-gone\n');
  const dest = `${registry}/built/whiteout:1`;
  ok(['push', 'b-whiteout', dest]);
  const podman = spawnSync('runuser', ['-u', TEST_USER, '--', 'env', `HOME=${HOME}`, 'podman', '--root', `${PODMAN_ROOT}/root`, '--runroot', `${PODMAN_ROOT}/run`, '--storage-driver', 'overlay', '--runtime', 'runc',
    'run', '--rm', '--tls-verify=false', dest], { encoding: 'utf8', cwd: '/' });
  assert.is(podman.status, 0, podman.stderr);
  assert.is(podman.stdout, 'motd-gone\nkeys-gone\n');
});

test('the cache: an unchanged rebuild gives the same id and makes nothing; touch keeps it; an edit reruns from its COPY on; --no-cache builds again', () => {
  const ctx = context('cache', {
    'Containerfile': `FROM ${alpine}\nCOPY package.json /app/\nRUN echo installing-$((1+1)) && cat /app/package.json > /deps\nCOPY src /app/src\nRUN echo compiling-$((2+2)) && cat /app/src/* > /out\n`,
    'package.json': '{"deps":1}\n', 'src/main.js': 'main v1\n',
  });
  const first = ok(['build', '-t', 'b-cache', ctx]);
  assert.match(first, /installing-2/);
  const id = inspect('b-cache', '{{.Id}}');
  const count = ok(['images', '-a', '-q']).split('\n').length;
  const again = ok(['build', '-t', 'b-cache', ctx]);
  assert.not.match(again, /installing-2|compiling-4/);
  assert.is((again.match(/--> Using cache/g) ?? []).length, 4);
  assert.is(inspect('b-cache', '{{.Id}}'), id, 'the same image id');
  assert.is(ok(['images', '-a', '-q']).split('\n').length, count, 'no new image');
  const later = new Date(Date.now() + 3600_000);
  fs.utimesSync(path.join(ctx, 'src/main.js'), later, later);
  fs.utimesSync(path.join(ctx, 'package.json'), later, later);
  assert.is(ok(['build', '-q', '-t', 'b-cache', ctx]).trim(), id, 'mtimes alone keep the cache');
  fs.writeFileSync(path.join(ctx, 'src/main.js'), 'main v2\n');
  const edit = ok(['build', '-t', 'b-cache', ctx]);
  assert.not.match(edit, /installing-2/, 'the dependency step stays cached');
  assert.match(edit, /compiling-4/);
  assert.is(ok(['run', '--rm', 'b-cache', 'cat', '/out']), 'main v2\n');
  const nocache = ok(['build', '--no-cache', '-t', 'b-cache', ctx]);
  assert.match(nocache, /installing-2/);
  assert.not.match(nocache, /Using cache/);
});

test('failures: a failing RUN exits with its status, names the step and tags nothing; missing COPY source, syntax error, no Containerfile: 125 with one line', () => {
  const fail = context('fail', { 'Containerfile': `FROM ${alpine}\nRUN echo before\nRUN echo failing; exit 7\n` });
  const r = tspod(['build', '-t', 'b-fail', fail]);
  assert.is(r.status, 7, r.stderr);
  assert.match(r.stderr, /Error: building at STEP "RUN echo failing; exit 7"/);
  assert.is(tspod(['image', 'exists', 'b-fail']).status, 1, 'nothing tagged');
  assert.is(ok(['ps', '-a', '--external', '-q', '--filter', 'label=io.tspod.build=1']), '', 'no build container left');
  const missing = context('missing', { 'Containerfile': `FROM ${alpine}\nCOPY nothere.txt /x\n` });
  const m = tspod(['build', missing]);
  assert.is(m.status, 125);
  assert.match(m.stderr, /^Error: building at STEP "COPY nothere\.txt \/x": .*nothere\.txt.*no such file or directory/m);
  const syntax = context('syntax', { 'Containerfile': `FROM ${alpine}\nRUN true\nFLY away\n` });
  const s = tspod(['build', syntax]);
  assert.is(s.status, 125);
  assert.match(s.stderr, /Containerfile:3: unknown instruction: FLY/);
  const none = context('none', { 'README': 'x' });
  const n = tspod(['build', none]);
  assert.is(n.status, 125);
  assert.match(n.stderr, /no Containerfile or Dockerfile.*no such file or directory/);
  assert.is(n.stderr.trim().split('\n').length, 1, n.stderr);
});

test('a Containerfile on stdin, -f outside the context, --iidfile, and --volumes-from a container of the built image', () => {
  const out = ok(['build', '-t', 'b-stdin', '-'], { input: `FROM ${alpine}\nRUN echo from-stdin > /f\nVOLUME /vol\n` });
  assert.match(out, /STEP 2\/3: RUN echo from-stdin/);
  assert.match(out, /COMMIT b-stdin\n--> [0-9a-f]{11}\nSuccessfully tagged localhost\/b-stdin:latest\n[0-9a-f]{64}\n$/);
  const ctx = context('external', { 'data.txt': 'data\n' });
  const file = path.join(WORK, 'External.containerfile');
  fs.writeFileSync(file, `FROM ${alpine}\nCOPY data.txt /\n`);
  fs.chmodSync(file, 0o644);
  ok(['build', '-q', '-f', file, '--iidfile', `${WORK}/iid`, '-t', 'b-ext', ctx]);
  assert.is(fs.readFileSync(`${WORK}/iid`, 'utf8'), `sha256:${inspect('b-ext', '{{.Id}}')}`);
  ok(['run', '-d', '--name', 'b-vol-owner', 'b-stdin', 'sh', '-c', 'echo shared > /vol/x; sleep 60']);
  try {
    const deadline = Date.now() + 10_000;
    let got = '';
    while (Date.now() < deadline && got !== 'shared\n') got = tspod(['run', '--rm', '--volumes-from', 'b-vol-owner', alpine, 'cat', '/vol/x']).stdout;
    assert.is(got, 'shared\n');
  } finally { tspod(['rm', '-f', '-t', '0', 'b-vol-owner']); }
});

test('RUN --mount: a cache kept between builds, a secret only the step sees, a bind of the context and of another stage', () => {
  const secretFile = path.join(WORK, 'token');
  fs.writeFileSync(secretFile, 's3cret-value\n', { mode: 0o600 });
  spawnSync('chown', [TEST_USER, secretFile]);
  const ctx = context('mounts', {
    'Containerfile': `FROM ${alpine} AS tools
RUN echo tool-v1 > /tool
FROM ${alpine}
RUN --mount=type=cache,target=/var/cache/app sh -c 'echo run >> /var/cache/app/log; wc -l < /var/cache/app/log > /cache-count'
RUN --mount=type=secret,id=token sh -c 'cat /run/secrets/token > /dev/null && echo secret-seen-$(wc -c < /run/secrets/token) > /secret-note'
RUN --mount=type=bind,source=data.txt,target=/mnt/data.txt --mount=type=bind,from=tools,source=/tool,target=/mnt/tool cat /mnt/data.txt /mnt/tool > /from-binds
`,
    'data.txt': 'context-data\n',
  });
  ok(['build', '-q', '--secret', `id=token,src=${secretFile}`, '-t', 'b-mounts', ctx]);
  assert.is(ok(['run', '--rm', 'b-mounts', 'cat', '/cache-count', '/secret-note', '/from-binds']), '1\nsecret-seen-13\ncontext-data\ntool-v1\n');
  assert.is(tspod(['run', '--rm', 'b-mounts', 'sh', '-c', 'test -e /run/secrets/token || test -e /var/cache/app/log || test -e /mnt/data.txt']).status, 1, 'no mount leaves anything in the image');
  ok(['build', '-q', '--no-cache', '--secret', `id=token,src=${secretFile}`, '-t', 'b-mounts', ctx]);
  assert.is(ok(['run', '--rm', 'b-mounts', 'cat', '/cache-count']), '2\n', 'the cache mount kept the first build\'s file');
  const missing = tspod(['build', '-q', '--no-cache', '-t', 'b-mounts-nosecret', ctx]);
  assert.is(missing.status, 1, 'without the secret the step finds no file');
});

test('--squash makes the new layers one, whiteouts of base files and of earlier steps kept right', () => {
  const ctx = context('squash', { 'Containerfile': `FROM ${alpine}\nRUN mkdir /s && echo 1 > /s/a && echo 2 > /s/b\nRUN rm /s/a /etc/motd && echo 3 > /s/c\nRUN rm -r /etc/apk && mkdir -p /etc/apk && echo new > /etc/apk/only\n` });
  ok(['build', '-q', '--squash', '-t', 'b-squash', ctx]);
  const base = Number(inspect(alpine, '{{len .RootFS.Layers}}'));
  assert.is(Number(inspect('b-squash', '{{len .RootFS.Layers}}')), base + 1);
  assert.is(ok(['run', '--rm', 'b-squash', 'sh', '-c', 'ls /s; test -e /etc/motd || echo motd-gone; ls /etc/apk']), 'b\nc\nmotd-gone\nonly\n');
});

test('--cache-to pushes the steps to a registry; another store builds from them with --cache-from: the same image id, nothing run', () => {
  const ctx = context('remote-cache', { 'Containerfile': `FROM ${alpine}\nRUN echo ran-$((3*3)) > /r\nCOPY f /f\n`, 'f': 'file\n' });
  const repo = `${registry}/buildcache/app`;
  ok(['build', '-q', '--cache-to', repo, '-t', 'b-remote', ctx]);
  const id = inspect('b-remote', '{{.Id}}');
  const other = `${HOME}/.local/share/tspod-other-store`;
  fs.rmSync(other, { recursive: true, force: true });
  try {
    const env = { TSPOD_STORE: other };
    assert.is(tspod(['pull', '-q', alpine], { env }).status, 0);
    const r = tspod(['build', '--cache-from', repo, '-t', 'b-remote', ctx], { env, timeout: 300_000 });
    assert.is(r.status, 0, r.stderr);
    assert.not.match(r.stdout, /ran-9/, 'the RUN came from the registry');
    assert.is((r.stdout.match(/Using cache/g) ?? []).length, 2);
    assert.is(tspod(['image', 'inspect', '--format', '{{.Id}}', 'b-remote'], { env }).stdout.trim(), id);
  } finally { tspod(['system', 'reset', '-f'], { env: { TSPOD_STORE: other } }); fs.rmSync(other, { recursive: true, force: true }); }
});

test('build --dns-search and --add-host reach RUN; --default-mounts-file mounts into RUN and run; run --env-host; image tree of a built image', () => {
  const secrets = path.join(WORK, 'secrets');
  fs.mkdirSync(secrets, { recursive: true });
  fs.writeFileSync(path.join(secrets, 'token'), 'mounted-secret\n');
  spawnSync('chmod', ['-R', 'a+rX', secrets]);
  const mountsConf = path.join(WORK, 'mounts.conf');
  fs.writeFileSync(mountsConf, `${secrets}:/run/secrets\n`);
  fs.chmodSync(mountsConf, 0o644);
  const ctx = context('dns', { 'Containerfile': `FROM ${alpine}\nRUN grep search /etc/resolv.conf; grep buildhost /etc/hosts; cat /run/secrets/token\nENV FROM_IMAGE=image\n` });
  const out = ok(['--default-mounts-file', mountsConf, 'build', '--dns-search', 'nx.example', '--add-host', 'buildhost:10.1.2.3', '-t', 'b-dns', ctx]);
  assert.match(out, /search nx\.example/);
  assert.match(out, /10\.1\.2\.3\s+buildhost/);
  assert.match(out, /mounted-secret/);
  assert.is(tspod(['run', '--rm', 'b-dns', 'test', '-e', '/run/secrets/token']).status, 1, 'the mount is not in the image');
  assert.is(ok(['--default-mounts-file', mountsConf, 'run', '--rm', 'b-dns', 'cat', '/run/secrets/token']), 'mounted-secret\n');
  assert.is(ok(['run', '--rm', '--env-host', 'b-dns', 'sh', '-c', 'echo $FROM_IMAGE $HOST_ONLY'], { env: { FROM_IMAGE: 'host', HOST_ONLY: 'yes' } }), 'host yes\n');
  const tree = ok(['image', 'tree', 'b-dns']).split('\n');
  assert.match(tree[0], new RegExp(`^Image ID: ${inspect('b-dns', '{{.Id}}').slice(0, 12)}$`));
  assert.is(tree[1], 'Tags:     [localhost/b-dns:latest]');
  assert.match(tree[2], /^Size: +[0-9.]+[kM]B$/);
  assert.is(tree[3], 'Image Layers');
  assert.match(tree[tree.length - 2], /^└── ID: [0-9a-f]{12} Size: .* Top Layer of: \[localhost\/b-dns:latest\]$/);
  assert.match(ok(['image', 'tree', '--whatrequires', alpine]), /ID: .* Top Layer of: \[localhost\/b-dns:latest\]\n$/);
});

test('SHELL, HEALTHCHECK and ONBUILD: kept in --format docker, dropped from OCI images with a warning (SHELL still runs the later RUNs); ONBUILD triggers run in the child', () => {
  const parent = context('onbuild-parent', { 'Containerfile': `FROM ${alpine}\nSHELL ["/bin/busybox", "sh", "-c"]\nRUN echo "shell=$0" > /shell\nHEALTHCHECK --interval=5s CMD true\nONBUILD RUN echo triggered > /t\n` });
  ok(['build', '-q', '--format', 'docker', '-t', 'b-parent', parent]);
  assert.is(ok(['run', '--rm', 'b-parent', 'cat', '/shell']), 'shell=sh\n');
  assert.equal(JSON.parse(inspect('b-parent', '{{json .Config.OnBuild}}')), ['RUN echo triggered > /t']);
  assert.equal(JSON.parse(inspect('b-parent', '{{json .Config.Healthcheck}}')).Test, ['CMD-SHELL', 'true']);
  const child = context('onbuild-child', { 'Containerfile': 'FROM localhost/b-parent\nRUN cat /t\n' });
  const r = tspod(['build', '-t', 'b-child', child], { timeout: 300_000 });
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /triggered\n/);
  assert.match(r.stderr, /HEALTHCHECK, SHELL are not supported for OCI image format/);
  const childConfig = JSON.parse(inspect('b-child', '{{json .Config}}'));
  assert.not.ok(childConfig.OnBuild?.length, 'triggers are not inherited');
  assert.not.ok(childConfig.Healthcheck || childConfig.Shell, 'not in an OCI image');
  const again = tspod(['build', '-q', '-t', 'b-child', child]);
  assert.is(again.stdout.trim(), inspect('b-child', '{{.Id}}'), 'the same id on an unchanged rebuild');
});

test('COPY follows a symlink in the context only inside it: one to the host\'s /etc/passwd is not found, one within is copied', () => {
  const ctx = context('symlinks', { 'Containerfile': `FROM ${alpine}\nCOPY inside /inside\nCOPY leak /leak\n`, 'real.txt': 'real\n' });
  fs.symlinkSync('real.txt', path.join(ctx, 'inside'));
  fs.symlinkSync('/etc/passwd', path.join(ctx, 'leak'));
  const r = tspod(['build', '-t', 'b-symlink', ctx]);
  assert.is(r.status, 125, r.stderr);
  assert.match(r.stderr, /COPY leak \/leak.*no such file or directory/);
  fs.writeFileSync(path.join(ctx, 'Containerfile'), `FROM ${alpine}\nCOPY inside /inside\n`);
  ok(['build', '-q', '-t', 'b-symlink', ctx]);
  assert.is(ok(['run', '--rm', 'b-symlink', 'cat', '/inside']), 'real\n');
});

test('--annotation goes into the OCI manifest: inspect shows it, and a push carries it to the registry', () => {
  const ctx = context('annotated', { 'Containerfile': `FROM ${alpine}\nRUN echo x > /x\n` });
  ok(['build', '-q', '--annotation', 'org.example.team=builders', '-t', 'b-annotated', ctx]);
  assert.equal(JSON.parse(inspect('b-annotated', '{{json .Annotations}}')), { 'org.example.team': 'builders' });
  const dest = `${registry}/built/annotated:1`;
  ok(['push', 'b-annotated', dest]);
  const raw = JSON.parse(spawnSync('skopeo', ['inspect', '--tls-verify=false', '--raw', `docker://${dest}`], { encoding: 'utf8' }).stdout);
  assert.equal(raw.annotations, { 'org.example.team': 'builders' });
});

test('a context as a tar on stdin, --build-arg-file, ADD of a URL (COPY of one refused), --platform of another machine and --pull=never of a missing image refused', async () => {
  const ctx = context('tarctx', { 'Containerfile': `FROM ${alpine}\nARG FROMFILE\nCOPY hello.txt /\nRUN echo "arg=$FROMFILE" > /arg\n`, 'hello.txt': 'from the tar\n' });
  const tar = spawnSync('tar', ['-C', ctx, '-cf', '-', '.'], { maxBuffer: 1 << 26 }).stdout;
  fs.writeFileSync(path.join(WORK, 'args.env'), 'FROMFILE=value-from-file\n# a comment\n');
  fs.chmodSync(path.join(WORK, 'args.env'), 0o644);
  const [cmd, ...argv] = tspodCommand(['build', '-q', '--build-arg-file', path.join(WORK, 'args.env'), '-t', 'b-tarctx', '-']);
  const r = spawnSync(cmd, argv, { input: tar, encoding: 'utf8', timeout: 300_000 });
  assert.is(r.status, 0, r.stderr);
  assert.is(ok(['run', '--rm', 'b-tarctx', 'cat', '/hello.txt', '/arg']), 'from the tar\narg=value-from-file\n');
  // ADD fetches a URL (here a local web server); COPY refuses one.
  const srv = path.join(WORK, 'www');
  fs.mkdirSync(srv, { recursive: true });
  fs.writeFileSync(path.join(srv, 'remote.txt'), 'fetched\n');
  const http = spawn('python3', ['-m', 'http.server', '0', '--bind', '127.0.0.1', '--directory', srv], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const port = await new Promise<string>((resolve) => http.stdout.on('data', (d: Buffer) => { const m = /port (\d+)/.exec(d.toString()); if (m) resolve(m[1]); }));
    const url = context('url', { 'Containerfile': `FROM ${alpine}\nADD http://127.0.0.1:${port}/remote.txt /srv/\n` });
    ok(['build', '-q', '-t', 'b-url', url]);
    assert.is(ok(['run', '--rm', 'b-url', 'sh', '-c', 'cat /srv/remote.txt; stat -c %a /srv/remote.txt']), 'fetched\n600\n');
    fs.writeFileSync(path.join(url, 'Containerfile'), `FROM ${alpine}\nCOPY http://127.0.0.1:${port}/remote.txt /srv/\n`);
    const c = tspod(['build', url]);
    assert.is(c.status, 125);
    assert.match(c.stderr, /building at STEP .*: source can't be a URL for COPY/);
  } finally { http.kill(); }
  const plat = tspod(['build', '--platform', 'linux/s390x', ctx]);
  assert.is(plat.status, 125);
  assert.match(plat.stderr, /linux\/s390x: this machine builds only linux\//);
  const never = context('never', { 'Containerfile': `FROM ${registry}/nosuch/image:1\nRUN true\n` });
  const n = tspod(['build', '--pull=never', never]);
  assert.is(n.status, 125);
  assert.match(n.stderr, /creating build container: .*nosuch\/image:1: image not known/);
});

test('Ctrl-C during a RUN ends the build: exit 130, nothing tagged, no container or mount left', async () => {
  const ctx = context('interrupt', { 'Containerfile': `FROM ${alpine}\nRUN echo step-started; sleep 60\nRUN echo never\n` });
  const [cmd, ...argv] = tspodCommand(['build', '-t', 'b-interrupted', ctx]);
  const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { out += d.toString(); });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const deadline = Date.now() + 60_000;
  while (!out.includes('step-started') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.ok(out.includes('step-started'), out);
  // The terminal sends SIGINT to the foreground process: tspod's own process, not runuser.
  const pid = spawnSync('pgrep', ['-u', TEST_USER, '-f', 'tspod.*build -t b-interrupted'], { encoding: 'utf8' }).stdout.trim().split('\n').filter(Boolean).map(Number).sort((a, b) => b - a)[0];
  assert.ok(pid, 'found the build process');
  const t0 = Date.now();
  process.kill(pid, 'SIGINT');
  const code = await exited;
  assert.ok(Date.now() - t0 < 15_000, `the RUN was stopped at once, not waited for (${Date.now() - t0} ms)`);
  assert.is(code, 130, out);
  assert.not.match(out, /never\n/);
  assert.is(tspod(['image', 'exists', 'b-interrupted']).status, 1);
  assert.is(ok(['ps', '-a', '--external', '-q', '--filter', 'label=io.tspod.build=1']), '');
  assert.not.match(fs.readFileSync('/proc/self/mountinfo', 'utf8') + spawnSync('pgrep', ['-u', TEST_USER, '-a', 'sleep'], { encoding: 'utf8' }).stdout, /sleep 60|tspod-build/);
});

test('a build killed with SIGKILL during a RUN: the next tspod command takes its container away, running or not; ps shows build containers only with --external', async () => {
  const ctx = context('sigkill', { 'Containerfile': `FROM ${alpine}\nRUN echo kill-me; sleep 60\n` });
  const [cmd, ...argv] = tspodCommand(['build', '-t', 'b-killed', ctx]);
  const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  const deadline = Date.now() + 60_000;
  while (!out.includes('kill-me') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.is(ok(['ps', '-q']), '', 'a running build step is not an ordinary container');
  assert.is(ok(['ps', '-q', '--external']).trim().split('\n').length, 1, 'it is there with --external');
  const pid = spawnSync('pgrep', ['-u', TEST_USER, '-f', 'tspod.*build -t b-killed'], { encoding: 'utf8' }).stdout.trim().split('\n').map(Number).sort((a, b) => b - a)[0];
  process.kill(pid, 'SIGKILL');
  await exited;
  assert.is(ok(['ps', '-a', '--external', '-q']), '', 'swept by the next command');
  const sleepers = () => spawnSync('pgrep', ['-u', TEST_USER, '-f', 'sleep 60'], { encoding: 'utf8' }).stdout.trim();
  const until = Date.now() + 5000;
  while (sleepers() && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
  assert.is(sleepers(), '', 'the step\'s process is gone');
  assert.is(tspod(['image', 'exists', 'b-killed']).status, 1);
});

test.run();
