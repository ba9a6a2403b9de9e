@kms
Feature: Setting AWS KMS mode with tsm security kms set-mode
  `tsm security kms set-mode aws --aws-region R --key-arn ARN` (KMS-4) checks the ARN
  (arn:aws:kms:<region>:<account>:key/<key-id>) and that its region is --aws-region before it
  asks AWS anything; then the CMK generates the root master key (KMS-5), the MEKs are wrapped
  under it, and the server restarts. The document's own example ARN is invalid in AWS (a
  14-digit account in its text, a key id with letters that are not hexadecimal): it is
  refused with a message that names the bad part.

  @KMS-4 @KMS-5 @critical @audit:KMS-4=pass
  Scenario: A valid CMK ARN switches the cluster to AWS mode; the RMK comes from the CMK and is kept only as its ciphertext
    Given a 2-node cluster on EC2 with the Advanced Management licence
    And a customer master key
    And extracts are published:
      | site    | name  | bytes |
      | Default | sales | 20000 |
    When the administrator runs "tsm security kms set-mode aws --aws-region {region} --key-arn {cmk}"
    Then the command succeeds and its output includes "Stopping Tableau Server..." and "Successfully started Tableau Server."
    And the key store is in "aws" mode
    And the key store holds the RMK only as a ciphertext of the CMK, bound to its RMK id
    And every MEK in the key store is wrapped under the RMK in use
    And the tabadmincontroller log of node1 says "Generated RMK with ID {rmk} using CMK with ARN {cmk}" from AwsKmsEncryptionEnvelopeAccessor
    And every extract opens with the content it was published with

  # audit:none: the ARN is refused before anything exists to audit: no CMK, so no key or role
  # policy; no status; logs of a local-mode cluster only (the hook checks the audit of the
  # folder finds no evidence for any behaviour).
  @KMS-4 @high @audit:none
  Scenario Outline: A malformed CMK ARN is refused with a message naming the bad part (<case>)
    Given a 1-node cluster on EC2 with the Advanced Management licence
    When the administrator runs "tsm security kms set-mode aws --aws-region 'us-west-2' --key-arn '<arn>'"
    Then the command fails with exit code 2: "--key-arn <arn>: <why>"
    And the key store and the extracts are unchanged
    And the key store is in "local" mode

    Examples:
      | case                                              | arn                                                                           | why                                                                                                                                                                      |
      | the document's example, non-hexadecimal key id    | arn:aws:kms:us-west-2:867530990073:key/1abc23de-fg45-6hij-7k89-1l0mn1234567   | key id '1abc23de-fg45-6hij-7k89-1l0mn1234567': expected 32 lowercase hexadecimal digits in 8-4-4-4-12 groups; 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n' are not hexadecimal |
      | the document's example account, 14 digits         | arn:aws:kms:us-west-2:86753099990073:key/1abc23de-fg45-6hij-7k89-1l0mn1234567 | account '86753099990073' has 14 digits: expected exactly 12                                                                                                              |
      | an alias instead of the key                       | arn:aws:kms:us-west-2:867530990073:alias/tableau                              | 'alias/tableau' is an alias: expected the key's own ARN (key/<key-id>)                                                                                                   |
      | another service's ARN                             | arn:aws:s3:us-west-2:867530990073:key/1abc23de-1234-4567-89ab-123456789012    | service 's3': expected 'kms'                                                                                                                                             |
      | a bare key id                                     | 1abc23de-1234-4567-89ab-123456789012                                          | expected 6 ':'-separated parts (arn:aws:kms:<region>:<account>:key/<key-id>), found 1                                                                                    |

  @KMS-4 @high
  Scenario: An --aws-region that is not the CMK's region is refused before AWS is asked
    Given a 1-node cluster on EC2 with the Advanced Management licence
    And a customer master key
    When the administrator runs "tsm security kms set-mode aws --aws-region ap-southeast-2 --key-arn {cmk}"
    Then the command fails with exit code 2: "--aws-region ap-southeast-2 does not match the region in --key-arn ({region}); the CMK lives in {region}"
    And the key store and the extracts are unchanged
    And the key store is in "local" mode
