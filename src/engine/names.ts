// Generated container names, adjective_surname as Docker makes them.
import crypto from 'node:crypto';

const ADJECTIVES = ['admiring', 'agitated', 'amazing', 'awesome', 'blissful', 'bold', 'brave', 'busy', 'charming', 'clever',
  'compassionate', 'confident', 'cool', 'dazzling', 'determined', 'eager', 'ecstatic', 'elegant', 'epic', 'festive',
  'focused', 'friendly', 'funny', 'gallant', 'gifted', 'gracious', 'happy', 'hopeful', 'inspiring', 'jolly', 'keen',
  'kind', 'laughing', 'loving', 'lucid', 'magical', 'modest', 'nice', 'nifty', 'optimistic', 'peaceful', 'pensive',
  'practical', 'quirky', 'relaxed', 'serene', 'sharp', 'stoic', 'sweet', 'tender', 'upbeat', 'vibrant', 'wizardly', 'zealous'];
const SURNAMES = ['albattani', 'allen', 'babbage', 'banach', 'bardeen', 'bartik', 'bell', 'bohr', 'booth', 'carson', 'cerf',
  'curie', 'darwin', 'dijkstra', 'einstein', 'euler', 'fermat', 'feynman', 'franklin', 'galileo', 'gauss', 'goldberg',
  'hamilton', 'hawking', 'hopper', 'hypatia', 'johnson', 'kepler', 'knuth', 'lamarr', 'liskov', 'lovelace', 'mccarthy',
  'meitner', 'morse', 'newton', 'noether', 'pascal', 'perlman', 'ritchie', 'shannon', 'sinoussi', 'thompson', 'torvalds',
  'turing', 'wilson', 'wozniak', 'yonath'];

export function generateName(): string {
  const a = ADJECTIVES[crypto.randomInt(ADJECTIVES.length)];
  const s = SURNAMES[crypto.randomInt(SURNAMES.length)];
  return `${a}_${s}`;
}
