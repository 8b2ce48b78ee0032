// Diagnostics in logrus's text format, as Podman writes them with --log-level, so scripts that
// grep `level=debug` keep working: `time="..." level=debug msg="..."` on stderr.
export const LEVELS = ['trace', 'debug', 'info', 'warn', 'warning', 'error', 'fatal', 'panic'] as const;
const RANK: Record<string, number> = { trace: 0, debug: 1, info: 2, warn: 3, warning: 3, error: 4, fatal: 5, panic: 6 };

function threshold(): number {
  return RANK[process.env.TSPOD_LOG_LEVEL ?? 'warn'] ?? 3;
}

export function enabled(level: 'trace' | 'debug' | 'info'): boolean {
  return RANK[level] >= threshold();
}

function write(level: string, msg: string): void {
  const time = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  process.stderr.write(`time="${time}" level=${level} msg=${JSON.stringify(msg)}\n`);
}

export const log = {
  trace: (msg: string) => { if (enabled('trace')) write('trace', msg); },
  debug: (msg: string) => { if (enabled('debug')) write('debug', msg); },
  info: (msg: string) => { if (enabled('info')) write('info', msg); },
};
