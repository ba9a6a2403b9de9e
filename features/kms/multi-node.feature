@kms
Feature: Multi-node clusters and least privilege
  Every node's instance role, and the CMK's key policy, allow exactly kms:GenerateDataKey and
  kms:Decrypt on the CMK (KMS-3). `tsm security kms status` reports only the initial node,
  which runs the administration controller: it can say OK while another node, unable to use
  the CMK, has services in Error; `tsm security kms set-mode local` is the way back (KMS-8).

  @KMS-8 @KMS-3 @critical @needs-node-roles @audit:KMS-3=fail @audit:KMS-8=fail
  Scenario: Node 2's role cannot kms:Decrypt: status on the initial node still says OK while node 2's services are in Error, and set-mode local recovers
    Given a 2-node cluster on EC2 with the Advanced Management licence
    And a customer master key
    And extracts are published:
      | site    | name  | bytes |
      | Default | sales | 30000 |
    And node2's instance role does not allow kms:Decrypt
    When the administrator runs "tsm security kms set-mode aws --aws-region {region} --key-arn {cmk}"
    Then the command succeeds and its output includes "Tableau Server started, but some services are in an error state:" and "  node2: vizqlserver, backgrounder, dataserver"
    And node2's instance role policy does not allow kms:Decrypt
    And node2's vizqlserver log has an error starting with "Failed to decrypt RMK with ID {rmk} using CMK with ARN {cmk}: User: arn:aws:sts::{account}:assumed-role/tableau-server-node2/" and AWS error code "AccessDeniedException"
    When the administrator runs "tsm security kms status"
    Then the command succeeds
    And the KMS status line is "Status: OK"
    And the KMS status was checked on "node1"
    When the administrator runs "tsm status -v"
    Then the server status is "DEGRADED"
    And on node2 the services "vizqlserver, backgrounder and dataserver" are in an error state and the others are running
    And on node1 every service is running
    When the administrator runs "tsm security kms set-mode local"
    Then the command succeeds and its output includes "Successfully started Tableau Server."
    And the key store holds the RMK sealed by the local keystore, not by AWS KMS
    When the administrator runs "tsm status -v"
    Then every service on every node is running
    And every extract opens with the content it was published with

  @KMS-8 @critical @audit:KMS-8=fail
  Scenario: Node 2 cannot reach AWS KMS: status on the initial node still says OK while node 2's services are in Error, and set-mode local recovers
    Given a 2-node cluster on EC2 with the Advanced Management licence
    And a customer master key
    And extracts are published:
      | site    | name  | bytes |
      | Default | sales | 30000 |
    And node2 cannot reach AWS KMS
    When the administrator runs "tsm security kms set-mode aws --aws-region {region} --key-arn {cmk}"
    Then the command succeeds and its output includes "Tableau Server started, but some services are in an error state:" and "  node2: vizqlserver, backgrounder, dataserver"
    And node2's vizqlserver log has an error starting with "Failed to decrypt RMK with ID {rmk} using CMK with ARN {cmk}: " and AWS error code "ECONNREFUSED"
    When the administrator runs "tsm security kms status"
    Then the command succeeds
    And the KMS status line is "Status: OK"
    And the KMS status was checked on "node1"
    When the administrator runs "tsm status -v"
    Then the server status is "DEGRADED"
    And on node2 the services "vizqlserver, backgrounder and dataserver" are in an error state and the others are running
    And on node1 every service is running
    When the administrator runs "tsm security kms set-mode local"
    Then the command succeeds and its output includes "Successfully started Tableau Server."
    When the administrator runs "tsm status -v"
    Then every service on every node is running
    And every extract opens with the content it was published with

  @KMS-3 @high @needs-node-roles @audit:KMS-3=pass
  Scenario: Each node's role and the key policy allow exactly kms:GenerateDataKey and kms:Decrypt, and that is all the cluster needs
    Given a 3-node cluster on EC2 with the Advanced Management licence
    And a customer master key whose key policy grants each node's role exactly kms:GenerateDataKey and kms:Decrypt
    When the administrator runs "tsm security kms set-mode aws --aws-region {region} --key-arn {cmk}"
    Then the command succeeds and its output includes "Successfully started Tableau Server."
    And each node's instance role policy allows exactly kms:GenerateDataKey and kms:Decrypt on the CMK
    And the key policy grants each node's role exactly kms:GenerateDataKey and kms:Decrypt
    And the tabadmincontroller log of node1 warns "Cannot describe CMK {cmk} (AccessDeniedException); checking it with GenerateDataKey"
    When the administrator runs "tsm security regenerate-internal-tokens"
    Then the command succeeds and its output includes "Successfully started Tableau Server."
    When the administrator runs "tsm security kms status"
    Then the KMS status line is "Status: OK"
    When the administrator runs "tsm status -v"
    Then every service on every node is running

  @KMS-3 @high @needs-node-roles @audit:KMS-3=fail
  Scenario: The initial node's role without kms:GenerateDataKey cannot set AWS mode; the refusal names node, role, action and key, and nothing changes
    Given a 2-node cluster on EC2 with the Advanced Management licence
    And a customer master key
    And node1's instance role does not allow kms:GenerateDataKey
    When the administrator runs "tsm security kms set-mode aws --aws-region {region} --key-arn {cmk}"
    Then the command fails with exit code 3 and its message starts with "node1 (role tableau-server-node1): kms:GenerateDataKey on CMK {cmk} failed: AccessDeniedException: User: arn:aws:sts::{account}:assumed-role/tableau-server-node1/"
    And the command's message contains "is not authorized to perform: kms:GenerateDataKey on resource: {cmk}"
    And node1's instance role policy does not allow kms:GenerateDataKey
    And the key store and the extracts are unchanged
    And the key store is in "local" mode
