// Image references parsed as Docker and Podman parse them (distribution/reference grammar).
import { InvalidReferenceError } from '../errors.js';

export interface Reference {
  /** registry host[:port], e.g. "docker.io" or "localhost:5000" */
  domain: string;
  /** repository path inside the registry, e.g. "library/alpine" */
  path: string;
  tag?: string;
  digest?: string;
}

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$|^sha512:[a-f0-9]{128}$/;
const DOMAIN = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?$|^\[[0-9a-fA-F:]+\](?::[0-9]+)?$/;

export const DOCKER_HUB = 'docker.io';

function looksLikeDomain(first: string): boolean {
  return first.includes('.') || first.includes(':') || first === 'localhost' || first !== first.toLowerCase();
}

/** Split "name[:tag][@digest]" without qualifying it. `domain` is '' when the name has none. */
export function parseReference(input: string): Reference {
  if (!input) throw new InvalidReferenceError(input, 'it is empty');
  let rest = input;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw new InvalidReferenceError(input, `"${digest}" is not a valid digest (sha256:<64 hex>)`);
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw new InvalidReferenceError(input, `"${tag}" is not a valid tag`);
  }
  const parts = rest.split('/');
  let domain = '';
  if (parts.length > 1 && looksLikeDomain(parts[0])) {
    domain = parts.shift()!;
    if (!DOMAIN.test(domain)) throw new InvalidReferenceError(input, `"${domain}" is not a valid registry host`);
  }
  if (parts.length === 0 || parts.some((p) => !COMPONENT.test(p))) {
    const bad = parts.find((p) => !COMPONENT.test(p)) ?? '';
    throw new InvalidReferenceError(input, bad !== bad.toLowerCase() ? 'repository names must be lowercase' : `"${bad}" is not a valid name component`);
  }
  const path = parts.join('/');
  if ((domain ? domain.length + 1 : 0) + path.length > 255) throw new InvalidReferenceError(input, 'the name is longer than 255 characters');
  return { domain, path, tag, digest };
}

/** Qualify with a registry: docker.io names get "library/", a bare name gets ":latest". */
export function qualify(ref: Reference, domain: string): Reference {
  let path = ref.path;
  if (domain === DOCKER_HUB && !path.includes('/')) path = `library/${path}`;
  return { domain, path, tag: ref.tag ?? (ref.digest ? undefined : 'latest'), digest: ref.digest };
}

export function isQualified(input: string): boolean {
  return parseReference(input).domain !== '';
}

export function repoName(ref: Reference): string {
  return `${ref.domain}/${ref.path}`;
}

export function formatReference(ref: Reference): string {
  return `${repoName(ref)}${ref.tag ? `:${ref.tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`;
}

/** The host to talk to: Docker Hub's API lives on registry-1.docker.io. */
export function apiHost(domain: string): string {
  return domain === DOCKER_HUB ? 'registry-1.docker.io' : domain;
}
