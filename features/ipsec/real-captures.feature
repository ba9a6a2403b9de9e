# audit:none: these scenarios judge fixed fixture captures (test/fixtures/captures/strongswan)
# through the capture judge `cryptgate audit` itself uses; they run no cluster and leave no
# evidence folder of their own to audit.
@ipsec @capture @audit:none
Feature: Judge real captures of the nodes' traffic
  The same readers and rules an auditor runs on a capture from a real cluster, here on
  real strongSwan IKEv2/IKEv1 + ESP traffic between network-namespace nodes
  (test/fixtures/captures/strongswan, made by scripts/fixtures/make-strongswan-captures.sh).

  Background:
    Given the cluster nodes are 10.77.0.11, 10.77.0.12 and 10.77.0.13

  @IPSEC-5 @critical
  Scenario: Every pair of nodes talks only ESP
    When cryptgate checks the real capture "compliant.pcap"
    Then check "ipsec.esp-only" passes
    And ESP was seen between every pair of nodes
    And check "ipsec.no-esp-null" passes
    And check "ipsec.no-ah-only" passes

  @IPSEC-5 @critical
  Scenario: The same traffic rewritten as pcapng gives the same verdicts
    When cryptgate checks the real capture "compliant.pcapng"
    Then check "ipsec.esp-only" passes
    And ESP was seen between every pair of nodes

  @IPSEC-5 @critical
  Scenario: A pair without a connection security rule leaks, and the report names it
    When cryptgate checks the real capture "leaking-pair.pcap"
    Then check "ipsec.esp-only" fails
    And a finding names TCP from 10.77.0.13 to 10.77.0.11 port 8060 for the service "repository"
    And a finding names TCP from 10.77.0.11 to 10.77.0.13 port 27000 for the service "licensing"
    And no finding names the pair 10.77.0.11 and 10.77.0.12

  @IPSEC-3 @high
  Scenario: The negotiated IKE SA is the configured strong suite
    When cryptgate checks the real capture "compliant.pcap"
    Then check "ipsec.ike-policy" passes
    And every negotiated IKE SA uses ENCR_AES_CBC 256, AUTH_HMAC_SHA2_256_128, PRF_HMAC_SHA2_256 and group 14

  @IPSEC-3 @high
  Scenario: A weak main mode (3DES, SHA-1, DH group 2) is flagged
    When cryptgate checks the real capture "weak-ike.pcap"
    Then check "ipsec.ike-policy" fails
    And a finding says "ENCR_3DES"
    And a finding says "group 2"

  @IPSEC-4 @critical
  Scenario: Integrity-only ESP (ESP-NULL) is flagged
    When cryptgate checks the real capture "esp-null.pcap"
    Then check "ipsec.no-esp-null" fails
    And a finding says "ESP-NULL between nodes"
