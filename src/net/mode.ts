// What --network names: a mode (none, host, pasta[:OPTS], container:ID...) or user networks.

const MODES = ['none', 'host', 'pasta', 'slirp4netns', 'default', 'bridge', 'private'];

/** The user networks --network names (NAME[,NAME...]: the caller checks that they exist), or undefined for a mode. */
export function userNetworkNames(value: string | undefined): string[] | undefined {
  if (!value || MODES.includes(value)) return undefined;
  const names = value.split(',');
  return names.every((n) => /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(n)) ? names : undefined;
}
