// The filter box: MLflow's search language, applied on Enter; a refusal is shown under it, in place.
import { useEffect, useState } from "react";

export function FilterBox({
  value,
  onApply,
  error,
}: {
  value: string;
  onApply: (filter: string) => void;
  error: string | undefined;
}) {
  const [text, setText] = useState(value);
  useEffect(() => setText(value), [value]);
  return (
    <div className="filter-box grow">
      <input
        type="search"
        value={text}
        placeholder="Filter: metrics.acc > 0.9 and params.lr = '0.1'   (Enter to apply)"
        aria-label="Filter runs"
        aria-invalid={error ? true : undefined}
        className={error ? "invalid" : undefined}
        spellCheck={false}
        onChange={(event) => setText(event.target.value)}
        onKeyDown={(event) => {
          if (event.key === "Enter") onApply(text.trim());
          if (event.key === "Escape") setText(value);
        }}
        data-testid="run-filter"
      />
      {error && (
        <div className="filter-error" role="alert" data-testid="filter-error">
          {error}
        </div>
      )}
    </div>
  );
}
