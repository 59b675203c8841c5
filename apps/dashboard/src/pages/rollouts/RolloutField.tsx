/** A choice of a select field: the value sent and the text shown. */
export interface FieldChoice<V extends string> {
  value: V;
  label: string;
}

export interface RolloutFieldProps<V extends string> {
  label: string;
  value: V;
  onChange: (value: V) => void;
  /** A select of these choices instead of a text input. */
  choices?: readonly FieldChoice<V>[];
  inputMode?: 'numeric' | 'decimal';
  placeholder?: string;
  testId?: string;
  /**
   * `captioned` (default): the label is shown above the control, as in the form's sections. `cell`: a table
   * cell of the phases editor, where the label is only the control's accessible name and the column heads
   * say what it is.
   */
  layout?: 'captioned' | 'cell';
}

/** One field of the new-rollout form: the rollout's settings, its health gates and each phase's columns. */
export function RolloutField<V extends string>({
  label,
  value,
  onChange,
  choices,
  inputMode,
  placeholder,
  testId,
  layout = 'captioned',
}: RolloutFieldProps<V>) {
  const cell = layout === 'cell';
  const control =
    choices === undefined ? (
      <input
        value={value}
        onChange={(event) => onChange(event.target.value as V)}
        inputMode={inputMode}
        placeholder={placeholder}
        size={cell && inputMode !== undefined ? 5 : undefined}
        aria-label={cell ? label : undefined}
        data-testid={testId}
      />
    ) : (
      <select
        value={value}
        onChange={(event) => onChange(event.target.value as V)}
        aria-label={cell ? label : undefined}
        data-testid={testId}
      >
        {choices.map((choice) => (
          <option key={choice.value} value={choice.value}>
            {choice.label}
          </option>
        ))}
      </select>
    );
  if (cell) return control;
  return (
    <label className="field">
      <span>{label}</span>
      {control}
    </label>
  );
}
