// The KMS backend of one `cryptgate run`. Cucumber loads the step definitions into this
// process, so the steps and runSuite share this module: the first KMS scenario starts the
// backend `--kms` names (embedded, moto, localstack or a URL) and every later scenario reuses
// it; runSuite stops it when the run ends and reads back what it was (every report names the
// backend that produced it) or why it could not start (exit 3, not a failed compliance check).
// The run's scenario ids live here too, for the same reason: the KMS and the IPsec steps both
// name a scenario's evidence folder by its report id (nextScenarioId), and beginKmsSession
// starts each run afresh.
import { startKmsBackend, type KmsBackend, type KmsBackendOptions } from '../kms/backend.js';
import { UniqueIds } from './scenario-report.js';

interface Session {
  spec: string;
  starting?: Promise<KmsBackend>;
  backend?: KmsBackend;
  failure?: Error;
  stopping?: Promise<void>;
}

let session: Session | undefined;
let scenarioIds = new UniqueIds();

/** Forgets the previous run's backend (runSuite calls it first). */
export function beginKmsSession(spec: string): void {
  session = { spec };
  scenarioIds = new UniqueIds();
}

/** A scenario's id made unique in this run the way the report makes check ids unique (outline rows get -2, -3…). */
export function nextScenarioId(id: string): string {
  return scenarioIds.next(id);
}

/** The run's backend, started on first use; a start that failed fails every later call the same way. */
export function kmsBackendForRun(spec: string, options: KmsBackendOptions = {}): Promise<KmsBackend> {
  if (!session || session.spec !== spec) session = { spec };
  const s = session;
  s.starting ??= startKmsBackend(spec, options).then(
    (b) => {
      s.backend = b;
      return b;
    },
    (err: unknown) => {
      s.failure = err instanceof Error ? err : new Error(String(err));
      throw s.failure;
    },
  );
  return s.starting;
}

export interface KmsSessionState {
  spec: string;
  /** What answered, when it started. */
  backend?: KmsBackend;
  /** Why it could not be started. */
  failure?: Error;
}

/** What the run used (undefined when no scenario needed a KMS). */
export function kmsSessionState(): KmsSessionState | undefined {
  if (!session || !session.starting) return undefined;
  return { spec: session.spec, ...(session.backend ? { backend: session.backend } : {}), ...(session.failure ? { failure: session.failure } : {}) };
}

/** Stops the backend if one was started (idempotent). */
export function endKmsSession(): Promise<void> {
  const s = session;
  if (!s?.starting) return Promise.resolve();
  s.stopping ??= s.starting.then(
    (b) => b.stop(),
    () => undefined, // a backend that never started has nothing to stop
  );
  return s.stopping;
}
