import { Injectable } from '@nestjs/common';
import { sql } from 'drizzle-orm';
import { DatabaseAdapter } from '../database/database.adapter';
import { devices, engineBuilds, modelManifests, modelVersions } from '../database/schema';
import { type DeviceArtifactAccess } from './artifact-requester';

/**
 * A device may download (1) the signed deliverables (manifests) of the model version desired for it, and (2) the
 * model file of an engine build it is currently assigned to as the builder. Nothing else.
 */
@Injectable()
export class DatabaseDeviceArtifactAccess implements DeviceArtifactAccess {
  constructor(private readonly database: DatabaseAdapter) {}

  async mayDownload(deviceId: string, sha256: string): Promise<boolean> {
    const result: unknown = await this.database.db.execute(sql`
      select (
        exists (
          select 1 from ${devices} d
          join ${modelVersions} v
            on v.model_name = d.desired_model->>'modelId' and v.version::text = d.desired_model->>'version'
          join ${modelManifests} m on m.version_id = v.id
          where d.id = ${deviceId} and m.sha256 = ${sha256}
        ) or exists (
          select 1 from ${engineBuilds} e
          where e.builder_device_id = ${deviceId} and e.input_sha256 = ${sha256} and e.status = 'building'
        )
      ) as allowed`);
    // node-postgres and PGlite both answer raw queries with `{ rows }`.
    const { rows } = result as { rows: Array<{ allowed: boolean }> };
    return rows[0]?.allowed === true;
  }
}
