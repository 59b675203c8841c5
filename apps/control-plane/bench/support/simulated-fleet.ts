/** How the bench names, tags and samples its simulated devices. */

/** Device ids are `<FLEET_ID_PREFIX>-1 … -<N>` (the simulator's scheme). */
export const FLEET_ID_PREFIX = 'bench';
/** Sites the devices are spread over (tag `site=site-<k>`), for tag filters. */
export const FLEET_SITES = 20;
/** Tag selector of the devices whose ingest-to-queryable latency is timed. */
export const LATENCY_SAMPLE_SELECTOR = 'latency-sample=yes';

/** A simulated device as the bench provisions it in the registry. */
export interface ProvisionedDevice {
  id: string;
  tags: Record<string, string>;
}

/** N devices with `site` and `camera` tags; `sampleSize` of them, spread evenly, tagged for latency timing. */
export function simulatedFleet(count: number, sampleSize: number): ProvisionedDevice[] {
  const sampleEvery = Math.max(1, Math.floor(count / sampleSize));
  return Array.from({ length: count }, (_, index) => {
    const n = index + 1;
    const sampled = index % sampleEvery === 0 && index / sampleEvery < sampleSize;
    return {
      id: `${FLEET_ID_PREFIX}-${n}`,
      tags: {
        site: `site-${n % FLEET_SITES}`,
        camera: n % 3 === 0 ? 'csi' : 'usb',
        ...(sampled ? { 'latency-sample': 'yes' } : {}),
      },
    };
  });
}
