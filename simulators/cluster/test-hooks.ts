// A test-only window on key material. Tests register an observer to learn every plaintext
// key the simulator creates or unwraps (RMKs, MEKs, extract data keys, the local root), so
// they can scan every file, backup and log for it. Nothing is observed unless a test asks;
// the simulator never writes what it reports here anywhere.

export type KeyKind = 'rmk' | 'mek' | 'extract-data-key' | 'local-root';

export interface KeyMaterialEvent {
  kind: KeyKind;
  id: string;
  /** A copy: the observer may keep it; the simulator scrubs its own. */
  bytes: Buffer;
}

type Observer = (event: KeyMaterialEvent) => void;
const observers = new Set<Observer>();

/** Registers `fn`; returns the function that unregisters it. */
export function observeKeyMaterial(fn: Observer): () => void {
  observers.add(fn);
  return () => observers.delete(fn);
}

/** Called by the simulator wherever a plaintext key comes into being. */
export function reportKey(kind: KeyKind, id: string, bytes: Buffer): void {
  if (observers.size === 0) return;
  for (const fn of observers) fn({ kind, id, bytes: Buffer.from(bytes) });
}
