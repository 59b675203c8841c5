import { Injectable } from '@nestjs/common';
import type { Request, Response } from 'express';
import { type EventDto } from './events.dto';
import { type EventFilter } from './event-filter';
import { EventsQueryRepository } from './events-query.repository';
import { toEventDto } from './events.service';
import { writeChunk } from './response-writer';

export type ExportFormat = 'csv' | 'ndjson';

const EXPORT_PAGE = 1000;

const CSV_COLUMNS = [
  'id',
  'deviceId',
  'seq',
  'label',
  'score',
  'boxX',
  'boxY',
  'boxWidth',
  'boxHeight',
  'startedAt',
  'durationMs',
  'frameIndex',
  'modelId',
  'trackId',
  'receivedAt',
] as const;

/**
 * Streams every event matching a filter as CSV or NDJSON. The database is read in keyset pages of 1,000 by id
 * and each page is written before the next is read (waiting for the client when its socket is full), so memory
 * stays constant however large the range.
 */
@Injectable()
export class EventExportService {
  constructor(private readonly query: EventsQueryRepository) {}

  async export(
    filter: EventFilter,
    format: ExportFormat,
    request: Request,
    response: Response,
  ): Promise<void> {
    let open = true;
    request.on('close', () => (open = false));
    response.status(200);
    response.setHeader(
      'content-type',
      format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8',
    );
    response.setHeader('content-disposition', `attachment; filename="emotion-events.${format}"`);
    if (format === 'csv') await writeChunk(response, `${CSV_COLUMNS.join(',')}\n`);
    let afterId: number | undefined;
    try {
      while (open) {
        const rows = await this.query.page(filter, afterId, EXPORT_PAGE);
        const lines = rows.map((row) =>
          format === 'csv' ? csvLine(toEventDto(row)) : `${JSON.stringify(toEventDto(row))}\n`,
        );
        if (lines.length > 0) await writeChunk(response, lines.join(''));
        const last = rows[rows.length - 1];
        if (!last || rows.length < EXPORT_PAGE) break;
        afterId = last.id;
      }
      response.end();
    } catch (error) {
      // Headers are gone: the only way to tell the client the export is incomplete is to break the connection.
      response.destroy(error instanceof Error ? error : new Error(String(error)));
    }
  }
}

function csvLine(event: EventDto): string {
  const values: Array<string | number | null> = [
    event.id,
    event.deviceId,
    event.seq,
    event.label,
    event.score,
    event.box.x,
    event.box.y,
    event.box.width,
    event.box.height,
    event.startedAt,
    event.durationMs,
    event.frameIndex,
    event.modelId,
    event.trackId,
    event.receivedAt,
  ];
  return `${values.map(csvField).join(',')}\n`;
}

/** RFC 4180 quoting; a leading `=`, `+`, `-` or `@` is prefixed with `'` so spreadsheets do not run it. */
function csvField(value: string | number | null): string {
  if (value === null) return '';
  if (typeof value === 'number') return String(value);
  const safe = /^[=+\-@]/.test(value) ? `'${value}` : value;
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}
