// The IPsec policy model (Windows Firewall with Advanced Security terms), its validation,
// the Windows → IANA algorithm names, and the negotiation plan.
//
// The plan is the contract other front ends consume (the simulated wire, and a live mode
// that configures real IKE daemons from it): `planDirection(policy, from, to, traffic)`
// returns a `DirectionPlan` per direction of traffic, saying
//   - `outcome`: 'protected' (IKE then ESP/AH), 'plaintext' or 'blocked';
//   - `rules`: the connection security rule each side applied, with its requirement;
//   - `ike`: the keying protocol (IKEv2, IKEv1 main mode, AuthIP), how far it got, the
//     main-mode proposals offered (initiator's order) and chosen, the authentication method,
//     and the quick-mode proposals offered and chosen with the PFS group, both as Windows
//     names (`MainModeProposal`, `QuickModeProposal`) and as IANA suites (`IanaIkeSuite`,
//     `IanaChildSuite`), the names `cryptgate check capture` reports;
//   - `reason` and `remedy`: the administrator's explanation and what to change.
// `planPairs(policy)` gives both directions of every node pair (any traffic).
export * from './policy-model.js';
export * from './iana.js';
export * from './negotiate.js';
export { addressListCovers, parseAddressEntry, parseAddressList, type AddressEntry } from './address-list.js';
export { seedSetupPolicy, seedRule, nodeNamed, SEED_CA_NAME, SEED_RULE_NAME, type NodeAddress, type SeedSetupOptions } from './seed-setup.js';
