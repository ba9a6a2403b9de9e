@kms
Feature: KMS activity in the server's logs
  vizqlserver logs show AwsKmsEncryptionEnvelopeAccessor decrypting the RMK with the CMK
  and AwsKmsEncryptionEnvelope using it to decrypt KMS storage; backgrounder logs show the
  KMS side of publishing and re-encrypting extracts (KMS-7). Logs carry ids, never keys.

  @KMS-7 @medium @audit:KMS-7=pass
  Scenario: Every node's vizqlserver log shows the RMK decrypted with the CMK and used to decrypt KMS storage
    Given a 2-node cluster on EC2 with the Advanced Management licence
    And a customer master key
    When the administrator runs "tsm security kms set-mode aws --aws-region {region} --key-arn {cmk}"
    Then the command succeeds
    And every node's vizqlserver log says "Decrypted RMK with ID {rmk} using CMK with ARN {cmk}" from AwsKmsEncryptionEnvelopeAccessor
    And every node's vizqlserver log says "Using RMK with ID {rmk} to decrypt KMS storage" from AwsKmsEncryptionEnvelope
    And every node's backgrounder log says "Decrypted RMK with ID {rmk} using CMK with ARN {cmk}" from AwsKmsEncryptionEnvelopeAccessor
    And every node's native vizqlserver log records kms-storage-open with the RMK in use and the CMK
    And no key the cluster used appears in plaintext in the logs

  @KMS-7 @medium @audit:KMS-7=pass
  Scenario: Backgrounder logs show extracts encrypted on publish and re-encrypted by the job, each with its MEK
    Given a 2-node cluster on EC2 with the Advanced Management licence
    And a customer master key
    And the KMS mode is AWS with the CMK
    And extracts are published:
      | site    | name      | bytes |
      | Default | sales     | 3000  |
      | Default | inventory | 9000  |
    Then the backgrounder logs show each extract encrypted on publish with the MEK its file names
    When the administrator runs "tsm security regenerate-internal-tokens"
    And the administrator runs "tabcmd reencryptextracts Default"
    Then the command succeeds
    And the backgrounder logs show every extract re-encrypted from a decryption-only MEK to the encryption MEK
    And every re-encryption job finished with SUCCESS
    And no key the cluster used appears in plaintext in the logs

  # The logs show the KMS activity as documented (KMS-7 passes); what they show is that no node
  # reaches the CMK (KMS-8).
  @KMS-7 @KMS-8 @high @needs-disabled-keys @audit:KMS-7=pass @audit:KMS-8=fail
  Scenario: A restart with the CMK disabled: every node logs AWS's DisabledException and its KMS services fail
    Given a 2-node cluster on EC2 with the Advanced Management licence
    And a customer master key
    And the KMS mode is AWS with the CMK
    And the CMK is disabled
    When the administrator runs "tsm restart"
    Then the command succeeds and its output includes "Tableau Server started, but some services are in an error state:"
    And every node's vizqlserver log has an error starting with "Failed to decrypt RMK with ID {rmk} using CMK with ARN {cmk}: {cmk} is disabled. (Service: AWSKMS; Status Code: 400; Error Code: DisabledException; Request ID: " and AWS error code "DisabledException"
    And every node's backgrounder log has an error starting with "Failed to decrypt RMK with ID {rmk} using CMK with ARN {cmk}: " and AWS error code "DisabledException"
    When the administrator runs "tsm status -v"
    Then the server status is "DEGRADED"
    And every node's KMS services are in an error state
