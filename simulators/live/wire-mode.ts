// Which wire carries the IPsec scenarios' traffic (`cryptgate run --wire`): the simulated
// one, or real strongSwan in network namespaces. A module of its own, without imports, so
// the CLI can offer the choices without loading the live wire.
export type WireMode = 'simulated' | 'strongswan';
export const WIRE_MODES: readonly WireMode[] = ['simulated', 'strongswan'];
