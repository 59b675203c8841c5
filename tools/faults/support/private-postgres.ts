import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { freePort } from './free-port';
import { ManagedProcess } from './managed-process';
import { waitFor } from './wait';

/** The server binaries of the newest PostgreSQL major installed (Debian layout). */
function postgresBinaries(): string {
  const root = '/usr/lib/postgresql';
  const majors = existsSync(root)
    ? readdirSync(root)
        .filter((name) => /^\d+$/.test(name))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  const major = majors[0];
  if (major === undefined) throw new Error(`no PostgreSQL server under ${root}: apt install postgresql`);
  return join(root, major, 'bin');
}

/** The `postgres` OS user, which the server must run as (it refuses to run as root). */
function postgresUser(): { uid: number; gid: number } {
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}

/**
 * A cluster made once by `initdb` (trust authentication, user `postgres`), copied for every scenario so that
 * each gets a fresh private server cheaply.
 */
export class PostgresTemplate {
  private constructor(
    readonly binaries: string,
    readonly dataDirectory: string,
    private readonly root: string,
  ) {}

  static create(): PostgresTemplate {
    const binaries = postgresBinaries();
    const { uid, gid } = postgresUser();
    const root = mkdtempSync(join(tmpdir(), 'emofleet-faults-pg-template-'));
    chownSync(root, uid, gid);
    const dataDirectory = join(root, 'data');
    execFileSync(
      join(binaries, 'initdb'),
      ['-D', dataDirectory, '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8', '--locale', 'C'],
      { uid, gid, stdio: 'pipe' },
    );
    return new PostgresTemplate(binaries, dataDirectory, root);
  }

  dispose(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}

/**
 * A private PostgreSQL server on a free port, run as the `postgres` user from a copy of the template, which a
 * scenario may restart or kill without touching the machine's shared server.
 */
export class PrivatePostgres {
  private server: ManagedProcess | undefined;

  private constructor(
    private readonly template: PostgresTemplate,
    private readonly root: string,
    readonly port: number,
  ) {}

  static async start(template: PostgresTemplate): Promise<PrivatePostgres> {
    const { uid, gid } = postgresUser();
    const root = mkdtempSync(join(tmpdir(), 'emofleet-faults-pg-'));
    chownSync(root, uid, gid);
    execFileSync('cp', ['-a', template.dataDirectory, join(root, 'data')]);
    const postgres = new PrivatePostgres(template, root, await freePort());
    await postgres.startServer();
    const admin = new Client({ connectionString: postgres.urlOf('postgres') });
    await admin.connect();
    await admin.query('create database emofleet');
    await admin.end();
    return postgres;
  }

  get url(): string {
    return this.urlOf('emofleet');
  }

  private urlOf(database: string): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`;
  }

  async startServer(): Promise<void> {
    if (this.server?.running) throw new Error('private PostgreSQL already running');
    const { uid, gid } = postgresUser();
    this.server = new ManagedProcess(
      'postgres',
      join(this.template.binaries, 'postgres'),
      [
        '-D',
        join(this.root, 'data'),
        '-p',
        String(this.port),
        '-c',
        'listen_addresses=127.0.0.1',
        '-c',
        `unix_socket_directories=${this.root}`,
        // Durability against a process crash needs no fsync (the page cache survives it), and fsync is slow here.
        '-c',
        'fsync=off',
        '-c',
        'max_connections=100',
      ],
      { uid, gid },
    );
    await waitFor(
      'private PostgreSQL accepting queries',
      async () => {
        if (!this.server?.running) throw new Error(`postgres exited: ${this.server?.log ?? ''}`);
        const client = new Client({
          connectionString: this.urlOf('postgres'),
          connectionTimeoutMillis: 1000,
        });
        client.on('error', () => undefined);
        await client.connect();
        await client.end();
        return true;
      },
      Boolean,
      { timeoutMs: 30_000, intervalMs: 100 },
    );
  }

  /**
   * Stops the server: `fast` (SIGINT) rolls back open transactions and disconnects every client, as
   * `pg_ctl restart -m fast` does; `immediate` (SIGQUIT) quits without a checkpoint, so the next start runs
   * crash recovery.
   */
  async stopServer(mode: 'fast' | 'immediate'): Promise<void> {
    await this.server?.stop(mode === 'fast' ? 'SIGINT' : 'SIGQUIT');
  }

  /** Runs `work` with a client of the scenario's database. */
  async query<T>(work: (client: Client) => Promise<T>): Promise<T> {
    const client = new Client({ connectionString: this.url });
    client.on('error', () => undefined);
    await client.connect();
    try {
      return await work(client);
    } finally {
      await client.end();
    }
  }

  async dispose(): Promise<void> {
    await this.server?.stop('SIGQUIT');
    rmSync(this.root, { recursive: true, force: true });
  }
}
