@kms
Feature: KMS modes and the prerequisites of AWS KMS mode
  Tableau Server has three KMS modes: local (the default of every install), AWS KMS and
  Azure Key Vault; the last two need the Advanced Management licence (KMS-1). AWS mode also
  needs the server deployed on AWS EC2 and a customer master key (CMK) the administrator
  controls (KMS-2). A refusal names what is missing, and changes nothing.

  # Local mode is the documented default, and what an audit of at-rest encryption flags: the
  # hierarchy is not rooted in an AWS KMS CMK (kms.status, KMS-1).
  @KMS-1 @high @audit:KMS-1=fail
  Scenario: A new cluster keeps its keys in local mode, rooted in the cluster's local keystore
    Given a 2-node cluster on EC2 without the Advanced Management licence
    And extracts are published:
      | site    | name  | bytes |
      | Default | sales | 4096  |
    When the administrator runs "tsm security kms status"
    Then the command succeeds
    And the KMS status says the mode is "local" and the status line is "Status: OK"
    And the KMS status names no CMK and roots the hierarchy in the cluster's local keystore
    And the KMS status names the RMK the key store holds
    And the key store holds the RMK sealed by the local keystore, not by AWS KMS
    And the local keystore's secret file is readable by its owner only, unlike the extracts
    And the key store has exactly 1 encryption MEK and 0 decryption-only MEKs
    And every node's vizqlserver log says "Decrypted RMK with ID {rmk} using local keystore {local-root}" from LocalKmsEncryptionEnvelopeAccessor

  @KMS-1 @KMS-2 @high
  Scenario: AWS mode is refused without the Advanced Management licence, and nothing changes
    Given a 1-node cluster on EC2 without the Advanced Management licence
    And a customer master key
    And extracts are published:
      | site    | name  | bytes |
      | Default | sales | 4096  |
    When the administrator runs "tsm security kms set-mode aws --aws-region {region} --key-arn {cmk}"
    Then the command fails with exit code 2: "AWS KMS mode needs the Advanced Management licence; this cluster is licensed 'none'"
    And the key store and the extracts are unchanged
    And the key store is in "local" mode

  @KMS-2 @high
  Scenario Outline: AWS mode is refused off EC2 (<platform>), naming every node that is not on EC2
    Given a 2-node cluster on "<platform>" with the Advanced Management licence
    And a customer master key
    When the administrator runs "tsm security kms set-mode aws --aws-region {region} --key-arn {cmk}"
    Then the command fails with exit code 2: "AWS KMS mode needs Tableau Server deployed on AWS EC2; node1 runs on <platform>, node2 runs on <platform>"
    And the key store and the extracts are unchanged
    And the key store is in "local" mode

    Examples:
      | platform |
      | on-prem  |
      | azure    |

  # The key policy this scenario needs lets the node roles kms:DescribeKey too: more than the
  # least privilege of KMS-3, which the audit of the exported key policy flags.
  @KMS-2 @high @audit:KMS-3=fail
  Scenario Outline: AWS mode needs an enabled CMK: a CMK <state> is refused on its DescribeKey state before any key is made
    Given a 2-node cluster on EC2 with the Advanced Management licence
    And a customer master key
    And the CMK's key policy also lets each node's role kms:DescribeKey it
    And extracts are published:
      | site    | name  | bytes |
      | Default | sales | 4096  |
    And the CMK is <state>
    When the administrator runs "tsm security kms set-mode aws --aws-region {region} --key-arn {cmk}"
    Then the command fails with exit code 3: "node1 (role tableau-server-node1): CMK {cmk} is <key state>: AWS KMS mode needs an Enabled key"
    And the key store and the extracts are unchanged
    And every extract opens with the content it was published with

    Examples:
      | state                  | key state       |
      | disabled               | Disabled        |
      | scheduled for deletion | PendingDeletion |

  @KMS-2 @KMS-3 @high @needs-disabled-keys @needs-node-roles @audit:KMS-3=pass
  Scenario Outline: With least-privilege roles (no kms:DescribeKey), a CMK <state> is refused by GenerateDataKey, and nothing changes
    Given a 2-node cluster on EC2 with the Advanced Management licence
    And a customer master key
    And the CMK is <state>
    When the administrator runs "tsm security kms set-mode aws --aws-region {region} --key-arn {cmk}"
    Then the command fails with exit code 3: "node1 (role tableau-server-node1): kms:GenerateDataKey on CMK {cmk} failed: <error>"
    And the key store and the extracts are unchanged
    And the tabadmincontroller log of node1 warns "Cannot describe CMK {cmk} (AccessDeniedException); checking it with GenerateDataKey"

    Examples:
      | state                  | error                                                 |
      | disabled               | DisabledException: {cmk} is disabled.                 |
      | scheduled for deletion | KMSInvalidStateException: {cmk} is pending deletion. |

  @KMS-2 @KMS-4 @high
  Scenario: A well-formed ARN of a CMK that does not exist is refused by AWS KMS, naming node, role, action and key
    Given a 1-node cluster on EC2 with the Advanced Management licence
    And a customer master key
    When the administrator runs "tsm security kms set-mode aws --aws-region {region} --key-arn arn:aws:kms:{region}:{account}:key/0f0e0d0c-0b0a-4909-8807-060504030201"
    Then the command fails with exit code 3 and its message starts with "node1 (role tableau-server-node1): kms:DescribeKey on CMK arn:aws:kms:{region}:{account}:key/0f0e0d0c-0b0a-4909-8807-060504030201 failed: NotFoundException: "
    And the key store and the extracts are unchanged
