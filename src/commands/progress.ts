// Drawing copy progress (pull, push): bars on a terminal, plain lines otherwise. The engine only emits events.
import type { ProgressEvent } from '../copy/types.js';
import { humanSize } from './format.js';

const WORDS = {
  pull: { doing: 'Pulling', done: 'Pulled', moving: 'downloading' },
  push: { doing: 'Pushing', done: 'Pushed', moving: 'uploading' },
};

export function progressPrinter(out: NodeJS.WriteStream, quiet: boolean, kind: keyof typeof WORDS = 'pull'): (e: ProgressEvent) => void {
  if (quiet) return () => {};
  const words = WORDS[kind];
  const short = (d: string) => d.slice(7, 19);
  if (!out.isTTY) {
    // Off a terminal, containers/image's lines as Podman prints them (logs and scripts look for
    // them), and a blob not sent because the other side has it says so.
    let begun = false;
    return (e) => {
      if (e.type === 'layer-bytes' || e.type === 'layer-done') return;
      if (!begun) { begun = true; out.write('Getting image source signatures\n'); }
      if (e.type === 'layer-skip') out.write(`Copying blob ${e.digest} skipped: already exists\n`);
      else if (e.type === 'layer-start') out.write(`Copying blob ${e.digest}\n`);
      else if (e.type === 'done') { begun = false; out.write(`Copying config ${e.config}\nWriting manifest to image destination\nStoring signatures\n`); }
    };
  }
  const order: string[] = [];
  const state = new Map<string, { bytes: number; size: number; status: string; start: number }>();
  let drawn = 0;
  let lastDraw = 0;
  let started = Date.now();
  const draw = (force = false) => {
    const now = Date.now();
    if (!force && now - lastDraw < 100) return;
    lastDraw = now;
    if (drawn) out.write(`\x1b[${drawn}A`);
    for (const d of order) {
      const s = state.get(d)!;
      const width = 30;
      const frac = s.size ? Math.min(1, s.bytes / s.size) : 1;
      const bar = '='.repeat(Math.round(frac * width)).padEnd(width, ' ');
      const secs = Math.max(0.001, (now - s.start) / 1000);
      const rate = s.status === words.moving ? ` ${humanSize(s.bytes / secs)}/s` : '';
      out.write(`\x1b[2K${short(d)} [${bar}] ${humanSize(s.bytes)} / ${humanSize(s.size)} ${s.status}${rate}\n`);
    }
    drawn = order.length;
  };
  return (e) => {
    switch (e.type) {
      case 'resolved':
        started = Date.now();
        out.write(kind === 'pull' ? `Pulling ${e.name} (${e.digest.slice(0, 19)})\n` : `${words.doing} ${e.name}\n`);
        for (const l of e.layers) { if (!state.has(l.digest)) { order.push(l.digest); state.set(l.digest, { bytes: 0, size: l.size, status: 'waiting', start: Date.now() }); } }
        draw(true);
        break;
      case 'layer-skip': Object.assign(state.get(e.digest) ?? {}, { bytes: e.size, status: 'already exists' }); draw(true); break;
      case 'layer-start': Object.assign(state.get(e.digest) ?? {}, { status: words.moving, start: Date.now() }); draw(); break;
      case 'layer-bytes': Object.assign(state.get(e.digest) ?? {}, { bytes: e.bytes }); draw(); break;
      case 'layer-done': Object.assign(state.get(e.digest) ?? {}, { status: 'done' }); draw(true); break;
      case 'done': {
        const total = [...state.values()].reduce((n, s) => n + (s.status === 'done' ? s.size : 0), 0);
        out.write(`${words.done} ${humanSize(total)} in ${((Date.now() - started) / 1000).toFixed(1)}s; image ${e.id.slice(0, 12)}\n`);
        break;
      }
    }
  };
}
