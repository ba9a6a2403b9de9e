@kms
Feature: Backup and restore of the key hierarchy
  A backup in AWS mode needs nothing extra: it holds encrypted copies of the RMK and the MEKs,
  and opening them needs the CMK (KMS-10). A restore onto a server in any KMS mode that can
  reach the backup's CMK imports the backup's MEKs as decryption-only; the RMK is not
  migrated: a new one is generated (KMS-11). Without the CMK, a restore changes nothing.

  @KMS-10 @critical
  Scenario: A backup in AWS mode holds the RMK only as a CMK ciphertext, every MEK wrapped, and no plaintext key
    Given a 2-node cluster on EC2 with the Advanced Management licence
    And a customer master key
    And the KMS mode is AWS with the CMK
    And extracts are published:
      | site    | name  | bytes |
      | Default | sales | 9000  |
      | Default | stock | 40000 |
    And the administrator has run "tsm security regenerate-internal-tokens"
    When the administrator runs "tsm maintenance backup -f backups/cluster.tsbak"
    Then the command succeeds
    And the backup holds the key store's RMK only as a ciphertext of the CMK, and every MEK of the key store
    And the backup holds every extract
    And no key the cluster used appears in plaintext in the backup
    And no extract's content appears in plaintext in the backup

  @KMS-11 @KMS-10 @critical
  Scenario Outline: Restoring an AWS-mode backup into a <mode>-mode cluster imports its MEKs decryption-only under a new RMK
    Given a 2-node cluster "source" on EC2 with the Advanced Management licence
    And a customer master key
    And the KMS mode is AWS with the CMK
    And extracts are published:
      | site    | name   | bytes |
      | Default | sales  | 9000  |
      | Finance | ledger | 20000 |
    And the administrator has run "tsm security regenerate-internal-tokens"
    And the administrator has run "tsm maintenance backup -f backups/source.tsbak"
    And a 1-node cluster "target" on EC2 with the Advanced Management licence
    And the cluster's KMS mode is "<mode>"
    And the administrator has run "tsm stop"
    When the administrator runs "tsm maintenance restore -f backups/source.tsbak"
    Then the command succeeds
    And the key store is in "<mode>" mode
    And the RMK in use is new: neither the backup's RMK nor the one before the restore
    And every MEK of the backup is in the key store as decryption-only, imported from the backup
    And the one encryption MEK is a new one, not from the backup
    And the key store has exactly 1 encryption MEK and 2 decryption-only MEKs
    And the tabadmincontroller log of node1 records "Restored backup {backup-id}: imported 2 MEKs as decryption-only, new RMK {rmk}, new encryption MEK {encryption-mek}, 2 extracts" from BackupRestoreService
    When the administrator runs "tsm start"
    Then the command succeeds
    And every extract opens with the content it was published with
    And 2 extracts are not yet under the encryption MEK
    When the administrator runs "tabcmd reencryptextracts Default"
    And the administrator runs "tabcmd reencryptextracts Finance"
    Then every extract is under the encryption MEK, and none under an MEK the key store does not hold

    Examples:
      | mode  |
      | local |
      | aws   |

  @KMS-11 @KMS-10 @critical
  Scenario Outline: A restore that cannot open the backup's RMK with its CMK (<cause>) fails and changes nothing
    Given a 2-node cluster "source" on EC2 with the Advanced Management licence
    And a customer master key
    And the KMS mode is AWS with the CMK
    And extracts are published:
      | site    | name  | bytes |
      | Default | sales | 9000  |
    And the administrator has run "tsm maintenance backup -f backups/source.tsbak"
    And a 1-node cluster "target" on EC2 with the Advanced Management licence
    And extracts are published:
      | site    | name  | bytes |
      | Default | local | 5000  |
    And the administrator has run "tsm stop"
    And <cause>
    When the administrator runs "tsm maintenance restore -f backups/source.tsbak"
    Then the command fails with exit code 3 and its message starts with "node1 (role tableau-server-target-node1): kms:Decrypt on RMK {backup-rmk} with CMK {cmk} failed: <code>: restore needs access to the backup's CMK: node1 (role tableau-server-target-node1) cannot kms:Decrypt the backup's RMK {backup-rmk} with CMK {cmk}: <code>: "
    And the command's message ends with ". Nothing was changed."
    And the key store and the extracts are unchanged
    And no restore was left half-done: no staging folder and no restore journal
    And the tabadmincontroller log of node1 has an error starting with "Restore failed: restore needs access to the backup's CMK: node1 (role tableau-server-target-node1) cannot kms:Decrypt the backup's RMK {backup-rmk}"

    # The audit reads the target node's refused Decrypt in its log (KMS-8) and its role policy
    # without kms:Decrypt (KMS-3).
    @needs-node-roles @audit:KMS-3=fail @audit:KMS-8=fail
    Examples: the target's role may not decrypt with the CMK
      | cause                                            | code                  |
      | node1's instance role does not allow kms:Decrypt | AccessDeniedException |

    @needs-disabled-keys @audit:KMS-8=fail
    Examples: the CMK is disabled
      | cause               | code              |
      | the CMK is disabled | DisabledException |
