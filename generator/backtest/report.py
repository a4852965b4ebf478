"""The "Backtest" section of the review summary: each changed SLO's alerts over the history, base vs change."""
from __future__ import annotations

import time
from datetime import datetime, timezone

from generator.backtest.engine import Backtest, Episode, evaluate, history_for, read_counters, trimmed
from generator.backtest.history import STEP, Counter, HistoryError, Source
from generator.backtest.spec import AlertingSpec, Unsupported, changed_slos, read_spec, rule_files
from generator.model.durations import format_duration
from generator.model.numbers import percent

MAX_LISTED = 40   # episodes listed per SLO and side before "... and N more"
MAX_IN_CELL = 8   # episodes per tier and side in the table


def when(t: int) -> str:
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def _span(e: Episode) -> str:
    end = f"resolved {when(e.resolved)}" if e.resolved is not None else "still firing at the end"
    return f"fired {when(e.fired)}, {end} ({format_duration(e.minutes * 60)}, {e.minutes} min)"


def _until(e: Episode) -> str:
    if e.resolved is None:
        return "still firing at the end"
    same_day = when(e.resolved)[:10] == when(e.fired)[:10]
    return when(e.resolved)[11:] if same_day else when(e.resolved)


def _shift(before: int | None, after: int | None) -> str:
    if before is None or after is None:
        return "still firing at the end" if after is None else f"resolved {when(after)}"
    if before == after:
        return "same minute"
    minutes = (after - before) // STEP
    return f"{abs(minutes)} min {'later' if minutes > 0 else 'earlier'}"


def _moved(old: tuple[Episode, ...], new: tuple[Episode, ...]) -> list[str]:
    """An alert of the same tier in both, overlapping, that fires or resolves at another minute."""
    lines = []
    for e in new:
        for o in old:
            if o.tier == e.tier and o.overlaps(e) and (o.fired, o.resolved) != (e.fired, e.resolved):
                lines.append(f"- {e.severity} `{e.tier}`: fired {when(e.fired)} ({_shift(o.fired, e.fired)}), "
                             + (f"resolved {when(e.resolved)} ({_shift(o.resolved, e.resolved)})"
                                if e.resolved is not None else "still firing at the end")
                             + f"; {e.minutes} min firing where the base fired {o.minutes}")
    return lines


def _new_only(ours: tuple[Episode, ...], theirs: tuple[Episode, ...]) -> list[Episode]:
    """Our episodes that no episode of theirs of the same tier overlaps."""
    return [e for e in ours if not any(o.tier == e.tier and o.overlaps(e) for o in theirs)]


def period_of(source: Source, specs: list[AlertingSpec], start: int | None, end: int | None) -> tuple[int, int]:
    """The backtest's period on the minute grid: as given, else the source's extent (a file), else the
    longest SLO period up to now."""
    extent = source.extent(tuple(s for spec in specs for s in spec.selectors())) if start is None or end is None else None
    if end is None:
        end = extent[1] if extent else int(time.time())
    if start is None:
        start = extent[0] if extent else end - max((s.period_seconds for s in specs), default=30 * 86400)
    start, end = -(-start // STEP) * STEP, end // STEP * STEP
    if end <= start:
        raise HistoryError(f"history source {source.name}: the period from {start} to {end} is empty")
    return start, end


def run(source: Source, old: dict[str, str], new: dict[str, str], start: int | None = None,
        end: int | None = None) -> tuple[list[tuple[str, Backtest | str | None, Backtest | str | None]], int, int]:
    """(slo, base result, change result) for each changed SLO; a result is a Backtest, the reason it
    could not be backtested, or None where the SLO does not exist on that side."""
    names = changed_slos(old, new)
    before, after = rule_files(old), rule_files(new)
    specs: dict[tuple[str, str], AlertingSpec | str] = {}
    for name in names:
        for side, files in (("old", before), ("new", after)):
            if name in files:
                try:
                    specs[(name, side)] = read_spec(files[name], name)
                except Unsupported as error:
                    specs[(name, side)] = str(error)
    usable = [s for s in specs.values() if isinstance(s, AlertingSpec)]
    if not usable:
        reasons: list[tuple[str, Backtest | str | None, Backtest | str | None]] = []
        for n in names:
            a, b = specs.get((n, "old")), specs.get((n, "new"))
            reasons.append((n, None if a is None else str(a), None if b is None else str(b)))
        return reasons, 0, 0
    start, end = period_of(source, usable, start, end)
    # The windows are filled from history before the period (the longest window any pair reads), where
    # the source has it: an alert on the period's first day sees the days before, as it did live.
    lead = max((w for spec in usable for p in spec.pairs for w in (p.long, p.short)), default=0)
    cache: dict[str, Counter] = {}
    results = []
    for name in names:
        row: list[Backtest | str | None] = []
        for side in ("old", "new"):
            spec = specs.get((name, side))
            if spec is None or isinstance(spec, str):
                row.append(spec)
                continue
            counters = read_counters(spec, source, start - lead, end, cache)
            first, counters = trimmed(counters, spec)
            row.append(evaluate(spec, history_for(spec, counters), first, report_from=start))
        results.append((name, row[0], row[1]))
    return results, start, end


def section(source: Source, base: str, old: dict[str, str], new: dict[str, str], start: int | None = None,
            end: int | None = None) -> list[str]:
    results, start, end = run(source, old, new, start, end)
    lines = ["### Backtest", ""]
    if not results:
        return lines + ["No SLO's rules changed: nothing to backtest.", ""]
    if start:
        lines += [f"The alerting rules of `{base}` and of this change, evaluated every minute over the history "
                  f"of `{source.name}` from {when(start)} to {when(end)} "
                  f"({format_duration(end - start)}; the windows also read what the source holds of the "
                  "longest window before it), as Prometheus 3.x evaluates them "
                  "(`generator/prometheus/simulate.py`, checked against promtool).", ""]
    for name, a, b in results:
        lines += _slo(name, base, a, b)
    return lines


def _objective(result: Backtest | str | None) -> str:
    return percent(result.spec.objective) if isinstance(result, Backtest) else "-"


def _slo(name: str, base: str, a: Backtest | str | None, b: Backtest | str | None) -> list[str]:
    title = f"#### `{name}`"
    if isinstance(a, Backtest) and isinstance(b, Backtest) and a.spec.objective != b.spec.objective:
        title += f": {_objective(a)} → {_objective(b)}"
    lines = [title, ""]
    for side, result in ((f"`{base}`", a), ("this change", b)):
        if isinstance(result, str):
            lines.append(f"- {side}: not backtested: {result}")
        elif result is None:
            lines.append(f"- {side}: the SLO does not exist there")
    if not isinstance(a, Backtest) and not isinstance(b, Backtest):
        return lines + [""]
    if lines[-1] != "":
        lines.append("")

    def facts(r: Backtest | str | None) -> list[str]:
        if not isinstance(r, Backtest):
            return ["-"] * 7
        return [percent(r.spec.objective), str(r.count("page")), str(r.minutes("page")), str(r.count("ticket")),
                str(r.minutes("ticket")), f"{r.error_ratio:.4%}", f"{r.budget_remaining:.1%}"]
    labels = ("objective", "pages", "minutes paging", "tickets", "minutes with a ticket firing",
              "error ratio over the last period (at most the SLO's period)", "error budget remaining at the end")
    lines += [f"| | `{base}` | this change |", "|---|---|---|"]
    lines += [f"| {label} | {x} | {y} |" for label, x, y in zip(labels, facts(a), facts(b))]
    lines.append("")
    old_episodes = a.episodes if isinstance(a, Backtest) else ()
    new_episodes = b.episodes if isinstance(b, Backtest) else ()
    if isinstance(a, Backtest) and isinstance(b, Backtest):
        for heading, only in (("Alerts this change would have raised that the base did not", _new_only(new_episodes, old_episodes)),
                              ("Alerts the base raised that this change would not", _new_only(old_episodes, new_episodes))):
            lines.append(f"{heading}: " + ("none." if not only else f"{len(only)}"))
            lines += [f"- {e.severity} `{e.tier}`: {_span(e)}" for e in only[:MAX_LISTED]]
            if len(only) > MAX_LISTED:
                lines.append(f"- ... and {len(only) - MAX_LISTED} more")
            lines.append("")
        moved = _moved(old_episodes, new_episodes)
        if moved:
            lines.append(f"Alerts both raise, at other minutes: {len(moved)}")
            lines += moved[:MAX_LISTED] + ([f"- ... and {len(moved) - MAX_LISTED} more"] if len(moved) > MAX_LISTED else [])
            lines.append("")
    tiers = sorted({e.tier for e in old_episodes + new_episodes})
    if tiers:
        lines += ["Every alert, per tier (fired → resolved, minutes firing):", "",
                  f"| tier | `{base}` | this change |", "|---|---|---|"]
        for tier in tiers:
            sides = []
            for episodes in (old_episodes, new_episodes):
                mine = [e for e in episodes if e.tier == tier]
                text = "; ".join(f"{when(e.fired)} → {_until(e)} ({e.minutes} min)" for e in mine[:MAX_IN_CELL])
                if len(mine) > MAX_IN_CELL:
                    text += f"; ... and {len(mine) - MAX_IN_CELL} more"
                sides.append(text or "none")
            lines.append(f"| `{tier}` | {sides[0]} | {sides[1]} |")
        lines.append("")
    else:
        lines += ["Neither would have fired an alert over this history.", ""]
    return lines
