import { TIME_RANGES, type TimeRange } from '../lib/time-ranges';

/** The chart time window (15 min … 7 d). */
export function RangePicker({ value, onChange }: { value: TimeRange; onChange: (range: TimeRange) => void }) {
  return (
    <div className="segmented" role="group" aria-label="Time range">
      {TIME_RANGES.map((range) => (
        <button
          key={range.id}
          type="button"
          className={range.id === value.id ? 'selected' : undefined}
          aria-pressed={range.id === value.id}
          onClick={() => onChange(range)}
        >
          {range.label}
        </button>
      ))}
    </div>
  );
}
