/** A coloured status word; the colour comes from the tone, the word stays readable without colour. */
export type Tone = 'good' | 'bad' | 'warn' | 'busy' | 'neutral';

export function StatusBadge({ tone, children }: { tone: Tone; children: string }) {
  return <span className={`badge ${tone}`}>{children}</span>;
}

export function OnlineBadge({ online }: { online: boolean }) {
  return <StatusBadge tone={online ? 'good' : 'bad'}>{online ? 'online' : 'offline'}</StatusBadge>;
}
