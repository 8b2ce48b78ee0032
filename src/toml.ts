// TOML for the config files (registries.conf, containers.conf): the parser is required on first
// use, so a command whose config answers from its cache never loads it.
import { createRequire } from 'node:module';

let parser: ((text: string) => Record<string, unknown>) | undefined;

export function parseToml(text: string): Record<string, unknown> {
  parser ??= (createRequire(import.meta.url)('smol-toml') as { parse: (t: string) => Record<string, unknown> }).parse;
  return parser(text);
}
