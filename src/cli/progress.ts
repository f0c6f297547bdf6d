import cliProgress from 'cli-progress';

/** A progress bar on stderr (only when stderr is a terminal, so logs and pipes stay clean). */
export interface Progress {
  update(done: number, label?: string): void;
  stop(): void;
}

export function progressBar(total: number, title: string, stream: NodeJS.WriteStream = process.stderr): Progress {
  if (!stream.isTTY || total <= 1) return { update() {}, stop() {} };
  const bar = new cliProgress.SingleBar(
    {
      format: `${title} [{bar}] {value}/{total} | {percentage}% | ETA {eta_formatted} | {label}`,
      stream,
      hideCursor: true,
      clearOnComplete: true,
      etaBuffer: 20,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0, { label: '' });
  return {
    update(done, label = '') {
      bar.update(done, { label });
    },
    stop() {
      bar.stop();
    },
  };
}
