// Startup accounting: with TSPOD_TRACE=1, each mark prints the milliseconds since the process began
// (performance.now() counts from Node's own start), so the README's breakdown can be measured.
const enabled = !!process.env.TSPOD_TRACE;
let last = 0;

export function mark(label: string): void {
  if (!enabled) return;
  const now = performance.now();
  process.stderr.write(`trace ${now.toFixed(1).padStart(7)} ms  +${(now - last).toFixed(1).padStart(6)}  ${label}\n`);
  last = now;
}
