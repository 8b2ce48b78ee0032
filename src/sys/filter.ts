// A program as a stream filter (zstd -d, zstd, pigz): bytes in on its stdin, out of its stdout, on
// another core while this thread does the rest, as a shell pipeline would.
import path from 'node:path';
import { spawn } from 'node:child_process';
import { Duplex } from 'node:stream';

export function filterProcess(binary: string, args: string[]): Duplex {
  const name = path.basename(binary);
  const child = spawn(binary, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  // The program may quit early on bad input: its exit status, not the broken pipe, says why.
  let stdinBroken = false;
  let pendingWrite: (() => void) | undefined;
  child.stdin!.on('error', () => { stdinBroken = true; pendingWrite?.(); });
  const stdout = child.stdout!;
  const duplex = new Duplex({
    write(chunk: Buffer, _enc, cb) {
      if (stdinBroken || child.stdin!.write(chunk)) return cb();
      pendingWrite = () => { pendingWrite = undefined; cb(); };
      child.stdin!.once('drain', () => pendingWrite?.());
    },
    final(cb) { child.stdin!.end(); cb(); },
    read() { stdout.resume(); },
    destroy(err, cb) { if (child.exitCode === null) child.kill(); cb(err); },
  });
  stdout.on('data', (d: Buffer) => { if (!duplex.push(d)) stdout.pause(); });
  // The output ends only once the program has exited, and with its error if it failed.
  stdout.on('end', () => {
    void exited.then((code) => {
      if (code === 0) duplex.push(null);
      else duplex.destroy(Object.assign(new Error(`${name}: ${stderr.trim().split('\n').pop() || `exited with ${code}`}`), { code: `${name.toUpperCase()}_FAILED` }));
    });
  });
  return duplex;
}
