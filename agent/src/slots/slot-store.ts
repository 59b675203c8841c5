import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { automaticRollbackSchema, modelManifestSchema, nonNegativeIntegerSchema } from '@emofleet/protocol';
import { readJsonFile, writeJsonAtomically } from './atomic-json-file';

export type SlotName = 'a' | 'b';

const installedModelSchema = modelManifestSchema.extend({
  slot: z.enum(['a', 'b']),
  desiredVersion: nonNegativeIntegerSchema,
  installedAt: nonNegativeIntegerSchema,
  measuredFps: z.number().nullable(),
  measuredAccuracy: z.number().nullable(),
  /** mAP@0.5 on the eval set (absent in pointers written before it was measured). */
  measuredMap50: z.number().nullable().default(null),
});

/** A model installed in a slot (what `current` points to). */
export type InstalledModel = z.infer<typeof installedModelSchema>;

const pointerSchema = z.object({
  current: installedModelSchema.nullable(),
  /** The model before the last switch, kept for rollback. */
  previous: installedModelSchema.nullable(),
  /**
   * Set at a switch: agent starts counted while the new model has not yet run for the probation time. Too many
   * starts (the agent keeps dying with it) roll back.
   */
  probation: z.object({ starts: nonNegativeIntegerSchema, since: nonNegativeIntegerSchema }).nullable(),
  /** Highest desired state version applied or refused, so a replayed retained state is not applied again. */
  handledDesiredVersion: nonNegativeIntegerSchema.nullable(),
  /**
   * Set while a new model is loaded and health-checked (before any switch), with the agent deaths counted at
   * start during such attempts: a model that keeps killing the agent there is given up.
   */
  installAttempt: z
    .object({
      desiredVersion: nonNegativeIntegerSchema,
      modelId: modelManifestSchema.shape.modelId,
      version: modelManifestSchema.shape.version,
      sha256: modelManifestSchema.shape.sha256,
      deaths: nonNegativeIntegerSchema,
    })
    .nullable()
    .default(null),
  /** The last automatic rollback (crash loop), reported in every birth (absent in older pointers). */
  lastRollback: automaticRollbackSchema.nullable().default(null),
});

export type SlotPointer = z.infer<typeof pointerSchema>;

const EMPTY_POINTER: SlotPointer = {
  current: null,
  previous: null,
  probation: null,
  handledDesiredVersion: null,
  installAttempt: null,
  lastRollback: null,
};

/** Marker written into a slot after its bundle was unpacked completely; a slot without it is never loaded. */
export const INSTALL_MARKER = '.installed.json';

/**
 * The A/B model slots under `<root>` (`slot-a/`, `slot-b/`) and the `current` pointer file that says which one
 * runs. The pointer is replaced atomically (temp + rename + fsync), so after a crash at any moment the agent
 * loads either the old or the new model, and only from a slot whose install marker matches the pointer.
 */
export class SlotStore {
  private readonly pointerFile: string;

  constructor(private readonly root: string) {
    fs.mkdirSync(root, { recursive: true, mode: 0o700 });
    this.pointerFile = path.join(root, 'current');
  }

  slotDirectory(slot: SlotName): string {
    return path.join(this.root, `slot-${slot}`);
  }

  readPointer(): SlotPointer {
    const json = readJsonFile(this.pointerFile);
    if (json === undefined) return EMPTY_POINTER;
    const parsed = pointerSchema.safeParse(json);
    if (!parsed.success) {
      throw new Error(
        `${this.pointerFile}: not a slot pointer: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
      );
    }
    return parsed.data;
  }

  writePointer(pointer: SlotPointer): void {
    writeJsonAtomically(this.pointerFile, pointerSchema.parse(pointer));
  }

  /** The slot a new model goes to: the one not running now. */
  inactiveSlot(): SlotName {
    return this.readPointer().current?.slot === 'a' ? 'b' : 'a';
  }

  /** Empties a slot for a new install (the previous model there is given up: it is neither current nor kept). */
  clearSlot(slot: SlotName): string {
    const directory = this.slotDirectory(slot);
    fs.rmSync(directory, { recursive: true, force: true });
    fs.mkdirSync(directory, { recursive: true, mode: 0o700 });
    return directory;
  }

  /** Records that `slot` holds the complete bundle of `sha256` (after unpacking, before loading). */
  markInstalled(slot: SlotName, sha256: string): void {
    writeJsonAtomically(path.join(this.slotDirectory(slot), INSTALL_MARKER), { sha256 });
  }

  /** Whether `model`'s slot holds its complete bundle. */
  isInstalled(model: InstalledModel): boolean {
    const marker = readJsonFile(path.join(this.slotDirectory(model.slot), INSTALL_MARKER)) as
      | { sha256?: unknown }
      | undefined;
    return marker?.sha256 === model.sha256;
  }
}
