/** This process's CPU use between calls: 100 = one core busy for the whole interval. */
export class ProcessCpuMeter {
  private lastUsage = process.cpuUsage();
  private lastTime = process.hrtime.bigint();

  takePercent(): number {
    const usage = process.cpuUsage();
    const time = process.hrtime.bigint();
    const cpuMicros = usage.user - this.lastUsage.user + (usage.system - this.lastUsage.system);
    const wallMicros = Number(time - this.lastTime) / 1000;
    this.lastUsage = usage;
    this.lastTime = time;
    if (wallMicros <= 0) return 0;
    return Math.round((cpuMicros / wallMicros) * 100 * 100) / 100;
  }
}
