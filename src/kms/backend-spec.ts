// The words for `--kms`, in a module of their own so the CLI can show them in --help without
// loading the backends (and the AWS SDK under them).
export const BACKEND_SPEC_HELP = 'embedded, moto, localstack, or an http(s):// endpoint URL';
