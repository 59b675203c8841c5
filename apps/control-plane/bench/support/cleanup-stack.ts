/**
 * Undo steps of a bench run, run last-added first (stop what uses a resource before removing it). Each runs once;
 * a failing step is reported and the others still run.
 */
export class CleanupStack {
  private readonly steps: { what: string; undo: () => unknown }[] = [];

  constructor(private readonly report: (what: string, outcome: { ms: number; error?: unknown }) => void) {}

  add(what: string, undo: () => unknown): void {
    this.steps.push({ what, undo });
  }

  async run(): Promise<void> {
    for (let step = this.steps.pop(); step !== undefined; step = this.steps.pop()) {
      const started = Date.now();
      try {
        await step.undo();
        this.report(step.what, { ms: Date.now() - started });
      } catch (error) {
        this.report(step.what, { ms: Date.now() - started, error });
      }
    }
  }
}
