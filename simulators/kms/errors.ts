// The errors the embedded KMS answers with. AWS's JSON 1.1 front door answers every client
// error with HTTP 400 and a body `{"__type":"<Code>","message":"…"}`; the SDK turns `__type`
// into `err.name`, so the code string is the contract, not the class. Messages copy AWS's
// (or LocalStack's, where it copies AWS) so a harness step can match them.

export class KmsError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number = 400,
  ) {
    super(message);
    this.name = code;
  }
}

/** `1 validation error detected: Value … at 'field' failed to satisfy constraint: …`, as AWS words it. */
export function validationError(field: string, value: unknown, constraint: string): KmsError {
  const shown = value === undefined || value === null ? 'null' : `'${typeof value === 'string' ? value : JSON.stringify(value)}'`;
  return new KmsError(
    'ValidationException',
    `1 validation error detected: Value ${shown} at '${field}' failed to satisfy constraint: ${constraint}`,
  );
}

export const notFound = (message: string): KmsError => new KmsError('NotFoundException', message);
export const disabled = (arn: string): KmsError => new KmsError('DisabledException', `${arn} is disabled.`);
export const pendingDeletion = (arn: string): KmsError =>
  new KmsError('KMSInvalidStateException', `${arn} is pending deletion.`);
/**
 * AWS sends this one with no message, which the SDK shows as "UnknownError"; a harness
 * reader is better served by a sentence (the code, which tests match, is AWS's).
 */
export const invalidCiphertext = (why = 'The ciphertext, its encryption context or its key does not match: it cannot be decrypted.'): KmsError =>
  new KmsError('InvalidCiphertextException', why);
export const internalError = (message: string): KmsError => new KmsError('KMSInternalException', message, 500);
