// A progress bar on stderr for long scans, only when stderr is a terminal (never in CI
// logs or when output is piped).
export interface Progress {
  update(file: string, bytes: number): void;
  done(): void;
}

const NO_PROGRESS: Progress = { update() {}, done() {} };

export function progressBar(totalBytes: (file: string) => number | undefined, stream: NodeJS.WriteStream = process.stderr): Progress {
  if (!stream.isTTY) return NO_PROGRESS;
  let drawn = false;
  return {
    update(file, bytes) {
      const total = totalBytes(file);
      const width = Math.max(10, Math.min(40, (stream.columns ?? 80) - 50));
      const mb = (bytes / 1e6).toFixed(0);
      let line: string;
      if (total && total > 0) {
        const frac = Math.min(1, bytes / total);
        const filled = Math.round(frac * width);
        line = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(frac * 100).toFixed(0).padStart(3)}% ${mb} MB ${file}`;
      } else {
        line = `${mb} MB read ${file}`;
      }
      stream.write(`\r${line.slice(0, (stream.columns ?? 80) - 1)}`);
      drawn = true;
    },
    done() {
      if (drawn) stream.write('\r\x1b[K');
    },
  };
}
