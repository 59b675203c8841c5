import { Injectable, Logger } from '@nestjs/common';
import { type DecodeRejection, RejectionCounter, type RejectionCounts } from '@emofleet/protocol';

/**
 * Counts device messages rejected by the protocol codec, by reason and kind, and logs each with its detail
 * (at most once per kind and reason per minute, so a misbehaving device cannot flood the log).
 */
@Injectable()
export class ProtocolRejections {
  private readonly logger = new Logger('ProtocolRejections');
  private readonly counter = new RejectionCounter();
  private readonly lastLogged = new Map<string, number>();

  record(rejection: DecodeRejection): void {
    this.counter.record(rejection);
    const key = `${rejection.kind ?? 'unknown'}/${rejection.reason}`;
    const now = Date.now();
    if (now - (this.lastLogged.get(key) ?? 0) >= 60_000) {
      this.lastLogged.set(key, now);
      this.logger.warn(
        `rejected ${rejection.kind ?? 'message'} from ${rejection.deviceId ?? 'unknown device'}: ` +
          `${rejection.reason}: ${rejection.detail}`,
      );
    }
  }

  snapshot(): RejectionCounts {
    return this.counter.snapshot();
  }
}
