@ipsec @simulated-wire
Feature: External clients and gateway-only nodes are reported separately
  External clients reach the gateway over TLS on 443; that traffic is not between nodes and
  is reported as information, never judged. The seed leaves open whether a gateway-only node
  needs IPsec (IPSEC-6): when the compliance policy names it, its clear traffic is reported
  separately; when it does not, it is judged like any node. node1 is 10.0.0.11, node2
  10.0.0.12, node3 10.0.0.13, node4 10.0.0.14.

  @IPSEC-6 @info @audit:IPSEC-6=pass
  Scenario: External clients on 443 to the gateway are reported as information
    Given a simulated cluster of the nodes 10.0.0.11, 10.0.0.12 and 10.0.0.13
    And every node has the connection security rule and IPsec defaults the seed document describes
    And 3 external clients browse the gateway over TLS
    When the cluster runs for 8 seconds while the switch is captured as pcap
    Then check "ipsec.esp-only" passes
    And the clear traffic of the external clients to node1 port 443 is reported as information only
    And ESP was seen between every pair of nodes

  # Named as gateway-only, node4 and its missing rules are reported, not judged, by the
  # configuration checks too (ipsec.rules, ipsec.rule-coverage), as by ipsec.esp-only.
  @IPSEC-6 @info @audit:IPSEC-1=pass @audit:IPSEC-5=pass @audit:IPSEC-6=pass
  Scenario: A gateway-only node named in the compliance policy is reported separately
    Given a simulated cluster of the nodes 10.0.0.11, 10.0.0.12, 10.0.0.13 and 10.0.0.14
    And every node has the connection security rule and IPsec defaults the seed document describes
    And node4 runs only the gateway and has no connection security rule
    And 2 external clients browse the gateway over TLS
    And the compliance policy lists node4 as a gateway-only node
    When the cluster runs for 8 seconds while the switch is captured as pcap
    Then check "ipsec.esp-only" passes
    And the traffic of node4 is reported separately as gateway-only node traffic
    And ESP was seen between node1 and node2

  # Judged as a node, node4 has no rule and no other node's rule covers it (IPSEC-1), and its
  # clear traffic to the nodes is a leak (IPSEC-5); IPSEC-6 itself is only ever reported.
  @IPSEC-6 @IPSEC-5 @critical @audit:IPSEC-1=fail @audit:IPSEC-5=fail @audit:IPSEC-6=pass
  Scenario: The same gateway-only node not named in the compliance policy is judged as a node
    Given a simulated cluster of the nodes 10.0.0.11, 10.0.0.12, 10.0.0.13 and 10.0.0.14
    And every node has the connection security rule and IPsec defaults the seed document describes
    And node4 runs only the gateway and has no connection security rule
    When the cluster runs for 8 seconds while the switch is captured as pcap
    Then check "ipsec.esp-only" fails
    And a finding names the pair node4 and node1, port 8600 and the service "vizqlserver"
