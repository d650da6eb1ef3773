// A button that opens a checkbox list of keys (with a filter box), for choosing chart keys or axes.
import { useEffect, useMemo, useRef, useState } from "react";

export interface ChoiceOption {
  id: string;
  label: string;
  group?: string;
}

export function KeyChooser({
  label,
  options,
  chosen,
  onChange,
  testId,
}: {
  label: string;
  options: ChoiceOption[];
  chosen: string[];
  onChange: (next: string[]) => void;
  testId?: string;
}) {
  const [open, setOpen] = useState(false);
  const [filter, setFilter] = useState("");
  const box = useRef<HTMLDivElement>(null);

  useEffect(() => {
    if (!open) return undefined;
    const close = (event: MouseEvent) => {
      if (box.current && !box.current.contains(event.target as Node)) setOpen(false);
    };
    const escape = (event: KeyboardEvent) => event.key === "Escape" && setOpen(false);
    document.addEventListener("mousedown", close);
    document.addEventListener("keydown", escape);
    return () => {
      document.removeEventListener("mousedown", close);
      document.removeEventListener("keydown", escape);
    };
  }, [open]);

  const shown = useMemo(() => {
    const needle = filter.trim().toLowerCase();
    return needle ? options.filter((o) => o.label.toLowerCase().includes(needle)) : options;
  }, [options, filter]);
  const chosenSet = new Set(chosen);

  const toggle = (id: string) => {
    // Keep the options' order, so axes and charts do not jump around as they are picked.
    const next = chosenSet.has(id) ? chosen.filter((c) => c !== id) : [...chosen, id];
    const order = new Map(options.map((o, i) => [o.id, i]));
    onChange(next.sort((a, b) => (order.get(a) ?? 0) - (order.get(b) ?? 0)));
  };

  let lastGroup: string | undefined;
  return (
    <div className="key-chooser" ref={box} data-testid={testId}>
      <button type="button" onClick={() => setOpen((o) => !o)} aria-expanded={open}>
        {label} ({chosen.length}/{options.length}) ▾
      </button>
      {open && (
        <div className="popover key-chooser-list" role="dialog" aria-label={label}>
          <input
            type="search"
            placeholder="Filter keys"
            value={filter}
            onChange={(e) => setFilter(e.target.value)}
            autoFocus
          />
          <div className="key-chooser-actions">
            <button type="button" onClick={() => onChange(options.map((o) => o.id))}>
              All
            </button>
            <button type="button" onClick={() => onChange([])}>
              None
            </button>
          </div>
          {shown.length === 0 && <div className="muted">No keys match.</div>}
          {shown.map((option) => {
            const heading = option.group !== lastGroup ? option.group : undefined;
            lastGroup = option.group;
            return (
              <div key={option.id}>
                {heading && <div className="key-chooser-group">{heading}</div>}
                <label className="key-chooser-item">
                  <input
                    type="checkbox"
                    checked={chosenSet.has(option.id)}
                    onChange={() => toggle(option.id)}
                    data-key={option.id}
                  />
                  {option.label}
                </label>
              </div>
            );
          })}
        </div>
      )}
    </div>
  );
}
