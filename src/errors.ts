// Every failure tspod reports is a TspodError: a permanent code, the exit code Podman would use,
// one line a person can act on, and an optional hint.

export const EXIT_TSPOD = 125;
export const EXIT_CANNOT_INVOKE = 126;
export const EXIT_NOT_FOUND = 127;

export class TspodError extends Error {
  readonly code: string;
  readonly exitCode: number;
  readonly hint?: string;
  /** printed as it is, without "Error: " (a few of Podman's messages are) */
  readonly bare: boolean;
  constructor(code: string, message: string, opts: { hint?: string; exitCode?: number; cause?: unknown; bare?: boolean } = {}) {
    super(message, { cause: opts.cause });
    this.code = code;
    this.exitCode = opts.exitCode ?? EXIT_TSPOD;
    this.hint = opts.hint;
    this.bare = opts.bare ?? false;
  }
}

export class InvalidReferenceError extends TspodError {
  constructor(ref: string, why: string) {
    super('E_REFERENCE', `invalid image reference "${ref}": ${why}`, { hint: 'use NAME[:TAG] or NAME@sha256:DIGEST, e.g. alpine:3.20' });
  }
}

/** Podman's words ("NAME: image not known"), which scripts match; a hint only where there is more to say. */
export class ImageNotFoundError extends TspodError {
  constructor(ref: string, hint?: string) {
    super('E_IMAGE_UNKNOWN', `${ref}: image not known`, { hint });
  }
}

export class ContainerNotFoundError extends TspodError {
  constructor(ref: string) {
    // Podman's rm exits 1 for this, its other commands 125: the command decides (see rm).
    super('E_NO_CONTAINER', `no container with name or ID "${ref}" found: no such container`);
  }
}

export class VolumeNotFoundError extends TspodError {
  constructor(name: string) {
    super('E_NO_VOLUME', `no volume with name "${name}" found: no such volume`);
  }
}

export class RegistryError extends TspodError {
  readonly status?: number;
  constructor(message: string, opts: { status?: number; hint?: string; cause?: unknown; code?: string } = {}) {
    super(opts.code ?? 'E_REGISTRY', message, opts);
    this.status = opts.status;
  }
}

export class DigestMismatchError extends TspodError {
  constructor(what: string, expected: string, actual: string) {
    super('E_DIGEST', `${what}: digest mismatch, expected ${expected} but the content is ${actual}`, {
      hint: 'the registry served corrupt data; nothing was stored. Retry, or check the registry',
    });
  }
}

export class CorruptLayerError extends TspodError {
  constructor(digest: string, why: string) {
    super('E_DIGEST', `layer ${digest} is corrupt: ${why}`, { hint: 'the registry served corrupt data; nothing was stored. Retry, or check the registry' });
  }
}

export class HostileLayerError extends TspodError {
  constructor(entry: string, why: string) {
    super('E_HOSTILE_LAYER', `refusing layer entry "${entry}": ${why}`, { hint: 'the image is malformed or malicious; nothing was stored' });
  }
}

export class UserNamespaceError extends TspodError {
  constructor(message: string, hint?: string) {
    super('E_USERNS', message, { hint });
  }
}

export class RuntimeError extends TspodError {
  constructor(message: string, opts: { hint?: string; exitCode?: number; cause?: unknown } = {}) {
    super('E_RUNTIME', message, opts);
  }
}

export class UsageError extends TspodError {
  constructor(message: string, hint?: string) {
    super('E_USAGE', message, { hint });
  }
}

/** Describe a child's failure in words, as zx does: "127 (Command not found)". */
export function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  if (signal) return `killed by ${signal}`;
  const words: Record<number, string> = { 1: 'General error', 2: 'Misuse of shell builtins', 126: 'Not executable', 127: 'Command not found' };
  return code === null ? 'unknown status' : `${code}${words[code] ? ` (${words[code]})` : ''}`;
}
