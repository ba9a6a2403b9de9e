@ipsec @simulated-wire
Feature: Only ESP between the nodes of the simulated cluster
  The seed document's set-up on every node (one server-to-server connection security rule:
  endpoint 1 = this node, endpoint 2 = every other node, authentication required inbound and
  outbound, all profiles; IPsec defaults SHA-256 / AES-CBC 256 / DH group 14, require
  encryption with AES-CBC 256 first) makes all traffic between the nodes travel inside ESP.
  The services really talk (repository 8060, TSM controller 8850, licensing 27000, vizqlserver
  to data server, backgrounder to file store, gateway to vizqlserver); a capture at the switch
  is judged by the same judge as `cryptgate check capture`, and a pass must show ESP between
  every pair. node1 is 10.0.0.11, node2 10.0.0.12, node3 10.0.0.13.

  Background:
    Given a simulated cluster of the nodes 10.0.0.11, 10.0.0.12 and 10.0.0.13
    And every node has the connection security rule and IPsec defaults the seed document describes

  @IPSEC-1 @IPSEC-5 @critical @audit:IPSEC-1=pass @audit:IPSEC-5=pass
  Scenario: With the seed's set-up on every node, every pair of nodes talks only ESP
    When the cluster runs for 8 seconds while the switch is captured as pcap
    Then check "ipsec.esp-only" passes
    And ESP was seen between every pair of nodes
    And check "ipsec.no-esp-null" passes
    And check "ipsec.no-ah-only" passes
    And check "ipsec.ike-policy" passes
    And tsm status shows every service running

  @IPSEC-1 @IPSEC-5 @critical @audit:IPSEC-1=pass @audit:IPSEC-5=pass
  Scenario: IKEv2 with NAT traversal puts ESP in UDP on port 4500, written as pcapng
    Given every rule uses the key module IKEv2
    And NAT traversal is on between the nodes
    When the cluster runs for 8 seconds while the switch is captured as pcapng
    Then check "ipsec.esp-only" passes
    And ESP was seen between every pair of nodes
    And ESP was carried in UDP on port 4500 between every pair of nodes
    And check "ipsec.no-esp-null" passes
    And every negotiated IKE SA uses ENCR_AES_CBC 256, AUTH_HMAC_SHA2_256_128, PRF_HMAC_SHA2_256 and group 14

  # The leak needs "request" on every node's rule: that is an IPSEC-2 violation of its own.
  @IPSEC-1 @IPSEC-5 @critical @audit:IPSEC-1=fail @audit:IPSEC-2=fail @audit:IPSEC-5=fail
  Scenario: One node without its rule leaks, and the report names the pair, the port and the service
    Given every node's rule requests authentication for inbound and requests it for outbound connections
    And node3 has no connection security rule
    When the cluster runs for 8 seconds while the switch is captured as pcap
    Then check "ipsec.esp-only" fails
    And a finding names the pair node3 and node1, port 8060 and the service "repository"
    And a finding names the pair node3 and node1, port 8850 and the service "TSM administration controller"
    And a finding names the pair node3 and node1, port 27000 and the service "licensing"
    And a finding names the pair node3 and node2, port 8300 and the service "data server"
    And a finding names the pair node2 and node3, port 8400 and the service "file store"
    And every plaintext finding between nodes involves node3
    And no finding names the pair 10.0.0.11 and 10.0.0.12
    And the IPsec log explains "node3 has no connection security rule covering 10.0.0.11"

  @IPSEC-1 @IPSEC-5 @critical @audit:IPSEC-1=fail @audit:IPSEC-2=fail @audit:IPSEC-5=fail
  Scenario: A rule whose endpoint 2 forgets one node leaves that pair in clear text
    Given every node's rule requests authentication for inbound and requests it for outbound connections
    And node1's rule does not list node2 in endpoint 2
    And node2's rule does not list node1 in endpoint 2
    When the cluster runs for 8 seconds while the switch is captured as pcap
    Then check "ipsec.esp-only" fails
    And a finding names the pair node2 and node1, port 8060 and the service "repository"
    And no finding names the pair 10.0.0.11 and 10.0.0.13
    And the IPsec log explains "does not list 10.0.0.12 in its other endpoint"
