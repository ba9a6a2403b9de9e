// Synthetic captures for edge cases: each made with the simulator's writers, named by
// what it exercises. (Filled in below.)
export interface SyntheticCapture {
  name: string;
  bytes: Buffer;
}

export function syntheticCaptures(): SyntheticCapture[] {
  return [];
}
