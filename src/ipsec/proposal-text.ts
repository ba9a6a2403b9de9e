// The compact proposal notation the plan's reasons use ("SHA256/AES256/DH14" for main mode,
// "ESP AES256/SHA256", "ESP None/SHA256", "AH SHA256", "AH SHA256 + ESP AES256/SHA256" for
// quick mode), read back into the model: scenarios and command lines write proposals the
// way the reports print them. Throws InputError naming what was expected.
import { InputError } from '../util/errors.js';
import {
  KEY_EXCHANGE, MAIN_MODE_ENCRYPTION, MAIN_MODE_INTEGRITY, QUICK_MODE_ENCRYPTION, QUICK_MODE_INTEGRITY, qm,
  type MainModeProposal, type QuickModeProposal,
} from './policy-model.js';

function pick<T extends string>(value: string | undefined, allowed: readonly T[], what: string, text: string): T {
  const hit = allowed.find((a) => a.toLowerCase() === (value ?? '').trim().toLowerCase());
  if (hit === undefined) throw new InputError(`"${text}": ${what}: expected one of ${allowed.join(', ')}, found "${value ?? ''}"`);
  return hit;
}

/** "SHA256/AES256/DH14": integrity / encryption / key exchange. */
export function parseMainModeProposal(text: string): MainModeProposal {
  const parts = text.trim().split('/');
  if (parts.length !== 3) throw new InputError(`"${text}": expected integrity/encryption/key exchange, e.g. SHA256/AES256/DH14`);
  return {
    integrity: pick(parts[0], MAIN_MODE_INTEGRITY, 'integrity', text),
    encryption: pick(parts[1], MAIN_MODE_ENCRYPTION, 'encryption', text),
    keyExchange: pick(parts[2], KEY_EXCHANGE, 'key exchange', text),
  };
}

/** "ESP AES256/SHA256", "ESP None/SHA256", "AH SHA256", or "AH SHA256 + ESP AES256/SHA256". */
export function parseQuickModeProposal(text: string): QuickModeProposal {
  const t = text.trim();
  const both = /^AH\s+(\S+)\s*\+\s*ESP\s+([^/\s]+)\/(\S+)$/i.exec(t);
  if (both) {
    return qm('AH+ESP', pick(both[2], QUICK_MODE_ENCRYPTION, 'ESP encryption', t), pick(both[3], QUICK_MODE_INTEGRITY, 'ESP integrity', t), pick(both[1], QUICK_MODE_INTEGRITY, 'AH integrity', t));
  }
  const esp = /^ESP\s+([^/\s]+)\/(\S+)$/i.exec(t);
  if (esp) return qm('ESP', pick(esp[1], QUICK_MODE_ENCRYPTION, 'ESP encryption', t), pick(esp[2], QUICK_MODE_INTEGRITY, 'ESP integrity', t));
  const ah = /^AH\s+(\S+)$/i.exec(t);
  if (ah) return qm('AH', 'None', 'None', pick(ah[1], QUICK_MODE_INTEGRITY, 'AH integrity', t));
  throw new InputError(`"${text}": expected a quick-mode proposal such as "ESP AES256/SHA256", "ESP None/SHA256" or "AH SHA256"`);
}

/** A comma- or "then"-separated list, in order. */
export function parseProposalList<T>(text: string, one: (s: string) => T): T[] {
  return text.split(/\s*(?:,|\bthen\b)\s*/).filter((s) => s.trim() !== '').map(one);
}
