@kms
Feature: CMK rotation, new internal tokens and re-encrypted extracts
  Rotating the CMK keeps its ARN and region: nothing is reconfigured and what it encrypted
  before still decrypts. Afterwards `tsm security regenerate-internal-tokens` makes a new RMK
  and a new encryption MEK (the old ones become decryption-only) and `tabcmd
  reencryptextracts <site>` moves each site's extracts under the new MEK (KMS-9).

  @KMS-9 @high @needs-rotation-material
  Scenario: Rotating the CMK needs no reconfiguration: same ARN, region and stored RMK, which every node still decrypts
    Given a 2-node cluster on EC2 with the Advanced Management licence
    And a customer master key
    And the KMS mode is AWS with the CMK
    And extracts are published:
      | site    | name  | bytes |
      | Default | sales | 12000 |
    When the CMK is rotated on demand
    And the administrator runs "tsm restart"
    Then the command succeeds and its output includes "Successfully started Tableau Server."
    And the key store and the extracts are as they were before the rotation
    And every node's vizqlserver log says "Decrypted RMK with ID {rmk} using CMK with ARN {cmk}" from AwsKmsEncryptionEnvelopeAccessor again after the rotation
    When the administrator runs "tsm security kms status"
    Then the KMS status line is "Status: OK"
    And the KMS status names the CMK and its region
    And every extract opens with the content it was published with
    And the CMK's rotation history lists 1 on-demand rotation

  @KMS-9 @critical
  Scenario: New internal tokens and re-encrypted sites leave one encryption MEK, every older MEK decryption-only, and no extract under an old MEK
    Given a 2-node cluster on EC2 with the Advanced Management licence
    And a customer master key
    And the KMS mode is AWS with the CMK
    And extracts are published:
      | site    | name      | bytes   |
      | Default | sales     | 5000    |
      | Default | inventory | 1100000 |
      | Finance | ledger    | 64000   |
    When the administrator runs "tsm security regenerate-internal-tokens"
    Then the command succeeds
    And the RMK in use is not the one before the command
    And the key store has exactly 1 encryption MEK and 1 decryption-only MEK
    And every MEK in the key store is wrapped under the RMK in use
    And 3 extracts are not yet under the encryption MEK
    When the administrator runs "tabcmd reencryptextracts Default"
    Then the command succeeds
    And 1 extract is not yet under the encryption MEK
    When the administrator runs "tabcmd reencryptextracts Finance"
    Then the command succeeds
    And every extract is under the encryption MEK, and none under an MEK the key store does not hold
    And the backgrounder logs show every extract re-encrypted from a decryption-only MEK to the encryption MEK
    And every extract opens with the content it was published with
    When the administrator runs "tsm security regenerate-internal-tokens"
    And the administrator runs "tabcmd reencryptextracts Default"
    And the administrator runs "tabcmd reencryptextracts Finance"
    Then the key store has exactly 1 encryption MEK and 2 decryption-only MEKs
    And every extract is under the encryption MEK, and none under an MEK the key store does not hold
    And every re-encryption job finished with SUCCESS
    And every extract opens with the content it was published with
    And no extract file holds its content in plaintext
    When the administrator runs "tsm security kms status"
    Then the KMS status shows exactly 1 MEK in state "encryption/decryption" and 2 in state "decryption-only"
    And the KMS status lists every MEK of the key store with its state and timestamps

  @KMS-9 @KMS-5 @medium @needs-request-counters
  Scenario: reencryptextracts makes no KMS request; regenerate-internal-tokens makes one GenerateDataKey and one Decrypt per node
    Given a 3-node cluster on EC2 with the Advanced Management licence
    And a customer master key
    And the KMS mode is AWS with the CMK
    And extracts are published:
      | site    | name  | bytes |
      | Default | sales | 7000  |
      | Default | stock | 7000  |
    When the administrator runs "tsm security regenerate-internal-tokens"
    Then the command succeeds
    And the command made exactly these KMS requests:
      | node  | operation       | requests |
      | node1 | GenerateDataKey | 1        |
      | node1 | Decrypt         | 1        |
      | node2 | Decrypt         | 1        |
      | node3 | Decrypt         | 1        |
    When the administrator runs "tabcmd reencryptextracts Default"
    Then the command succeeds
    And the command made no KMS request
    And every extract is under the encryption MEK, and none under an MEK the key store does not hold
