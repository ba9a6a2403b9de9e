// The World of a scenario: what the steps set up and the evidence they read back.
import { setWorldConstructor, World, type IWorldOptions } from '@cucumber/cucumber';
import type { CaptureJudgement } from '../src/compliance/capture-judge.js';
import type { Check } from '../src/report/model.js';
import { OBSERVED_MEDIA_TYPE } from '../src/run/scenario-report.js';
import type { WireMode } from '../simulators/live/wire-mode.js';
import type { IpsecScenario } from './ipsec-scenario.js';
import type { KmsScenario } from './kms-scenario.js';

export interface CryptgateParameters {
  /** The KMS backend of the run: embedded, moto, localstack or an endpoint URL. */
  kms: string;
  evidenceDir: string;
  /** Wire of the IPsec scenarios (`cryptgate run --wire`): captureClusterTraffic in simulators/live takes it. */
  wire: WireMode;
}

export class CryptgateWorld extends World<CryptgateParameters> {
  nodes: string[] = [];
  judgement: CaptureJudgement | undefined;
  /** The KMS scenario's clusters, CMK and evidence folder (set by the @kms Before hook). */
  kmsScenario: KmsScenario | undefined;
  /** The IPsec scenario's policy, cluster run and evidence folder (set by the @simulated-wire Before hook). */
  ipsecScenario: IpsecScenario | undefined;

  constructor(options: IWorldOptions<CryptgateParameters>) {
    super(options);
  }

  check(id: string): Check {
    const check = this.judgement?.checks.find((c) => c.id === id);
    if (!check) throw new Error(`no check "${id}" in the report (was the capture judged?)`);
    return check;
  }

  /** Puts what a step saw into the scenario's compliance check (`observed`). */
  observe(fact: Record<string, unknown>): void {
    this.attach(JSON.stringify(fact), OBSERVED_MEDIA_TYPE);
  }
}

setWorldConstructor(CryptgateWorld);
