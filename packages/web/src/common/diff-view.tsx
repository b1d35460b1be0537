/** A unified diff, coloured line by line. */
export function DiffView({ patch }: { readonly patch: string }) {
  const lines = patch.split('\n').filter((l) => !l.startsWith('=====') && !l.startsWith('Index:'));
  if (!lines.some((l) => /^[+-][^+-]/.test(l) || l === '+' || l === '-')) return <p className="muted">No change.</p>;
  return (
    <pre className="diff" aria-label="Differences">
      {lines.map((line, i) => (
        <div
          key={i}
          className={
            line.startsWith('+++') || line.startsWith('---')
              ? 'diff-file'
              : line.startsWith('@@')
                ? 'diff-hunk'
                : line.startsWith('+')
                  ? 'diff-add'
                  : line.startsWith('-')
                    ? 'diff-del'
                    : undefined
          }
        >
          {line || ' '}
        </div>
      ))}
    </pre>
  );
}
