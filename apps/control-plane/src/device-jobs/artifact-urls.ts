import { once } from 'node:events';
import { type Server } from 'node:net';
import { type BeforeApplicationShutdown, Inject, Injectable } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { type AppConfig, runsApi } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { INFRASTRUCTURE, type Infrastructure } from '../infra/infrastructure';

/**
 * The URL a device downloads an artifact from (`GET /artifacts/<sha256>` with its own credentials):
 * HTTP_PUBLIC_URL when set, else this API's listener (loopback when it listens on every address). A worker-only
 * process serves no artifacts, so there HTTP_PUBLIC_URL is required.
 */
@Injectable()
export class ArtifactUrls implements BeforeApplicationShutdown {
  /** The listener's base URL, once known: it does not change while the process lives. */
  private listenerBase: string | undefined;
  /** Ends waits for a listener that will never come (the application is shutting down). */
  private readonly shutdown = new AbortController();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(INFRASTRUCTURE) private readonly infrastructure: Infrastructure,
    private readonly httpAdapterHost: HttpAdapterHost,
  ) {}

  beforeApplicationShutdown(): void {
    this.shutdown.abort();
  }

  /**
   * Waits for the listener when the URL comes from it (at boot, the API may not be listening yet); fails instead
   * of waiting when the application is shutting down.
   */
  async forArtifact(sha256: string): Promise<string> {
    return `${await this.baseUrl()}/artifacts/${sha256}`;
  }

  private async baseUrl(): Promise<string> {
    if (this.config.http.publicUrl !== undefined) return this.config.http.publicUrl;
    if (this.listenerBase !== undefined) return this.listenerBase;
    if (!runsApi(this.config.role)) {
      throw new Error(
        'no artifact URL: this process runs the worker role only and serves no /artifacts; set HTTP_PUBLIC_URL ' +
          "to the API's base URL as devices reach it",
      );
    }
    const server = this.httpAdapterHost.httpAdapter.getHttpServer() as Server;
    if (!server.listening) {
      if (this.shutdown.signal.aborted)
        throw new Error('no artifact URL: the control plane is shutting down');
      await once(server, 'listening', { signal: this.shutdown.signal }).catch((error: unknown) => {
        throw this.shutdown.signal.aborted
          ? new Error('no artifact URL: the control plane shut down before its HTTP API listened')
          : error;
      });
    }
    const address = server.address();
    if (address === null || typeof address === 'string') {
      throw new Error('the HTTP API is not listening on a TCP port: set HTTP_PUBLIC_URL for artifact URLs');
    }
    const { host } = this.config.http;
    const reachable = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
    const hostPart = reachable.includes(':') ? `[${reachable}]` : reachable;
    this.listenerBase = `${this.infrastructure.tls ? 'https' : 'http'}://${hostPart}:${address.port}`;
    return this.listenerBase;
  }
}
