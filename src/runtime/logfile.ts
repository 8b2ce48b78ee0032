// A container log in conmon's k8s-file format, for containers tspod watches itself (run and start -a
// in the foreground), so that `tspod logs` shows their output as it shows a detached one's:
//   2026-11-23T01:02:03.456789012Z stdout F a full line
//   2026-11-23T01:02:03.456789012Z stderr P a partial line, continued by the next record
import fs from 'node:fs';

export class K8sLogWriter {
  private readonly fd: number;
  private readonly pending: Record<'stdout' | 'stderr', string> = { stdout: '', stderr: '' };
  private size = 0;

  /** maxSize: past it the log starts over, as conmon's --log-size-max does */
  constructor(file: string, private readonly maxSize?: number) {
    this.fd = fs.openSync(file, 'a', 0o600);
    this.size = fs.fstatSync(this.fd).size;
  }

  write(stream: 'stdout' | 'stderr', chunk: Buffer): void {
    const lines = (this.pending[stream] + chunk.toString('utf8')).split('\n');
    this.pending[stream] = lines.pop()!;
    if (lines.length) this.append(lines.map((l) => this.record(stream, 'F', l)).join(''));
  }

  close(): void {
    for (const stream of ['stdout', 'stderr'] as const) {
      if (this.pending[stream]) this.append(this.record(stream, 'P', this.pending[stream]));
    }
    fs.closeSync(this.fd);
  }

  private record(stream: string, tag: 'F' | 'P', text: string): string {
    return `${new Date().toISOString().replace('Z', '000000Z')} ${stream} ${tag} ${text}\n`;
  }

  private append(text: string): void {
    const bytes = Buffer.byteLength(text);
    if (this.maxSize && this.size + bytes > this.maxSize) { fs.ftruncateSync(this.fd, 0); this.size = 0; }
    fs.writeSync(this.fd, text);
    this.size += bytes;
  }
}
